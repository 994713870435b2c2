"""Read queries import only what they need (issue 18 item 1).

Each command below runs for real in a fresh interpreter (``governance.cli.app.main`` with its
arguments), on one small governed repository with a real signed ledger, its query index already
built; at exit the interpreter reports which of the heavy modules it imported. A query that
starts importing the ledger writer, GitPython, the Rego engine, a schema library, PyGithub, a
database driver or the sinks fails here, with the module named.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.ledger.conftest import DIGEST, Keys, Ledger, make_repo

MODEL = "fraud-risk"
SOURCE = Path(__file__).resolve().parents[2]

# What no read query may import: the write path of the ledger and GitPython, the Rego engine,
# schema libraries, network clients and database drivers, the export sinks, rich (click renders
# help).
WRITERS = ("governance.ledger.append", "git")
ENGINES = ("regopy",)
SCHEMA = ("jsonschema",)
NETWORK = ("github", "requests", "psycopg", "boto3", "botocore", "governance.sinks")
# ... and the command modules of the writing commands (loaded only when one of them runs)
COMMANDS = ("governance.cli.commands_policy", "governance.cli.commands_ledger",
            "governance.cli.commands_people", "governance.cli.commands_config")
# ... and, when the index is current (the verified head is the ledger tip), the verifier, the
# git adapter and the crypto behind signatures: nothing new must be verified (issue 18).
VERIFIER = ("governance.ledger.verify", "governance.ledger.checkpoint",
            "governance.ledger.store", "governance.ledger.sshsig", "cryptography", "nacl")
READ_BUDGET = (*WRITERS, *ENGINES, *SCHEMA, *NETWORK, *COMMANDS, *VERIFIER, "rich")
# status and explain check the approvals' gate input (governance.policy.gates): fastjsonschema
# compiles that schema; the other queries validate governance.yaml with schema_fast's closures.
# live, history and audit query take governance.yaml validated earlier from the same bytes
# (governance.config_cache): no YAML parser, no document loader.
QUERY_BUDGET = (*READ_BUDGET, "fastjsonschema", "yaml", "governance.records",
                "governance.yaml_source",
                # ... nor the event table's dataclasses (the names suffice), the organisation's
                # reader (--source) or the export use cases: each costs tens of ms of dataclass
                # creation at start-up
                "governance.domain.event_table", "governance.org_reading", "governance.exporting",
                "governance.cli.commands_org")
HELP_BUDGET = (*READ_BUDGET, "fastjsonschema", "yaml", "governance.config",
               "governance.audit", "governance.ledger")

PROBE = """
import json, sys
from governance.cli.app import main
watched = json.loads(sys.argv[1])
code = 0
try:
    main(sys.argv[2:])
except SystemExit as done:
    code = done.code
sys.stdout.flush()
sys.stderr.write("\\nIMPORTED " + json.dumps(
    [code, sorted(w for w in watched if w in sys.modules)]) + "\\n")
"""

R1 = "fraud-risk-2026-03-28-01"
CASES = [  # (argv, modules that must stay unimported)
    (["--help"], HELP_BUDGET),
    (["--version"], HELP_BUDGET),
    (["live", "--help"], (*READ_BUDGET, "fastjsonschema", "governance.ledger.reader")),
    (["live", MODEL, "--env", "staging"], QUERY_BUDGET),
    (["live", MODEL, "--env", "staging", "--format", "json"], QUERY_BUDGET),
    (["history", MODEL], QUERY_BUDGET),
    (["status", MODEL], (*READ_BUDGET, "governance.promotion", "governance.authoring")),
    (["explain", R1], READ_BUDGET),
    (["audit", "query", "--model", MODEL], QUERY_BUDGET),
]


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ssh-keygen") is None or shutil.which("git") is None:
        pytest.skip("ssh-keygen and git are needed for a real signed ledger")
    base = tmp_path_factory.mktemp("budget")
    keys = Keys(base / "keys")
    keys.dir.mkdir()
    for name in ("jane", "bob", "dana", "ci", "log"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                        "-f", str(keys.dir / name)], check=True)
    root = make_repo(base / "repo", keys)
    shutil.copytree(SOURCE / "releases" / MODEL, root / "releases" / MODEL)
    shutil.copytree(SOURCE / "policies", root / "policies")
    (root / "environments").mkdir()
    (root / "environments" / "staging.yaml").write_text(
        "apiVersion: governance/v1\nkind: EnvironmentState\nenvironment: staging\n"
        f"models:\n  {MODEL}: {{release_id: {R1}}}\n")
    (root / ".gitignore").write_text(".governance/\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "releases"], cwd=root, check=True)
    led = Ledger(root, keys)
    led.init()
    led.append("model_registered", model_name=MODEL)
    led.append("release_registered", model_name=MODEL, release_id=R1, model_version="2026-03-28",
               release_digest=DIGEST)
    led.append("gate_evaluated", as_="governance-ci", model_name=MODEL, release_id=R1,
               environment="staging", release_digest=DIGEST, actor_id="governance-ci",
               decision={"decision_id": "d-1", "allow": True})
    led.append("approval_granted", model_name=MODEL, release_id=R1, actor_role="risk_owner",
               approval_state="approved", release_digest=DIGEST)
    led.append("deployment_promoted", as_="governance-ci", model_name=MODEL, release_id=R1,
               environment="staging", release_digest=DIGEST, actor_id="governance-ci")
    _run(root, ["live", MODEL, "--env", "staging"], ())  # builds the index: queries are warm
    return root


def _run(root: Path, argv: list[str], watched: tuple[str, ...], probe: str = PROBE
         ) -> tuple[int, list[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    proc = subprocess.run([sys.executable, "-c", probe, json.dumps(watched), *argv], cwd=root,
                          capture_output=True, text=True, env=env, timeout=120)
    marker = proc.stderr.rsplit("IMPORTED ", 1)
    assert len(marker) == 2, proc.stderr
    code, imported = json.loads(marker[1])
    return code, imported, proc.stdout + marker[0]


@pytest.mark.parametrize(("argv", "budget"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_read_query_imports_none_of_the_heavy_modules(
        governed: Path, argv: list[str], budget: tuple[str, ...]) -> None:
    code, imported, output = _run(governed, argv, budget)
    assert code == 0, output
    assert imported == [], f"governance {' '.join(argv)} imported {imported}"


# The console entry point (``governance.cli.entry``) answers these on its fast path
# (``governance.cli.fast``): besides the query budget, neither typer nor click, nor the
# application and the options built with them.
FAST_BUDGET = ("typer", "click", "governance.cli.app", "governance.cli.options",
               "governance.cli.app_support", "governance.cli.commands_audit",
               "governance.cli.commands_lifecycle")
ENTRY_PROBE = PROBE.replace("from governance.cli.app import main",
                            "from governance.cli.entry import main")
# ... and, for live and history, not ``dataclasses`` (it imports ``inspect``, with ``ast``,
# ``dis`` and ``tokenize``: about 12 ms): their value types are ``governance.domain.frozen``'s.
DIET = ("dataclasses", "inspect")
# ... and history as text not the event values (its lines are SQLite's).
FAST_CASES = [
    (["live", MODEL, "--env", "staging"], (*QUERY_BUDGET, *FAST_BUDGET, *DIET)),
    (["live", MODEL, "--env=staging", "--format", "json", "--at", "2099-01-01T00:00:00Z"],
     (*QUERY_BUDGET, *FAST_BUDGET, *DIET)),
    (["history", MODEL], (*QUERY_BUDGET, *FAST_BUDGET, *DIET, "governance.audit.values")),
    (["--traceback", "history", MODEL, "--format", "csv"], (*QUERY_BUDGET, *FAST_BUDGET, *DIET)),
    (["history", MODEL, "--format", "json"], (*QUERY_BUDGET, *FAST_BUDGET, *DIET)),
    (["status", MODEL], (*READ_BUDGET, "governance.promotion", "governance.authoring",
                         *FAST_BUDGET)),
    (["status", "--all", "--format", "json"], (*READ_BUDGET, *FAST_BUDGET)),
]


@pytest.mark.parametrize(("argv", "budget"), FAST_CASES, ids=[" ".join(a) for a, _ in FAST_CASES])
def test_the_entry_points_read_queries_import_no_typer_nor_click(
        governed: Path, argv: list[str], budget: tuple[str, ...]) -> None:
    code, imported, output = _run(governed, argv, budget, probe=ENTRY_PROBE)
    assert code == 0, output
    assert imported == [], f"governance {' '.join(argv)} imported {imported}"


# ``governance ledger verify`` on the entry point's fast path (issue 13: as a command >= 100x
# ``git log --show-signature``): what verifying does not need. Not the application, typer or
# click, nor the other ledger commands; not the write path (``governance.ledger.append``, its
# signers) nor GitPython; not ``cryptography`` (signing and private keys only: verifying is
# libsodium's); not the event table's dataclasses (the replay takes its rules from
# ``governance.domain.event_types``); not the verified reader, the query index or the read
# queries (``ledger verify`` checks the ledger itself and writes no state).
VERIFY_BUDGET = (*FAST_BUDGET, "governance.cli.commands_ledger", *WRITERS, "cryptography",
                 "governance.domain.event_table", "governance.ledger.verified",
                 "governance.audit", "governance.reading", *ENGINES, *SCHEMA, *NETWORK, "rich")


@pytest.mark.parametrize("argv", [["ledger", "verify"], ["ledger", "verify", "--format", "json"],
                                  ["--traceback", "ledger", "verify", "--repo", "."]])
def test_ledger_verify_imports_only_what_verifying_needs(governed: Path,
                                                         argv: list[str]) -> None:
    code, imported, output = _run(governed, argv, VERIFY_BUDGET, probe=ENTRY_PROBE)
    assert code == 0, output
    assert imported == [], f"governance {' '.join(argv)} imported {imported}"
    assert "6 signatures" in output or "\"signatures\": 6" in output, output  # it verified


def test_the_verify_probe_sees_the_application_when_it_answers(governed: Path) -> None:
    """The check can fail: ``ledger verify --format csv`` (click refuses it) loads typer,
    click and the ledger commands."""
    code, imported, _ = _run(governed, ["ledger", "verify", "--format", "csv"], VERIFY_BUDGET,
                             probe=ENTRY_PROBE)
    assert code == 2
    assert {"typer", "click", "governance.cli.commands_ledger"} <= set(imported)


def test_the_entry_point_probe_sees_typer_when_the_application_answers(governed: Path) -> None:
    """The check can fail: a command line the fast path leaves to the application (here
    ``--limit 0``, which click refuses) imports typer and click."""
    code, imported, _ = _run(governed, ["status", MODEL, "--limit", "0"], FAST_BUDGET,
                             probe=ENTRY_PROBE)
    assert code == 2
    assert {"typer", "click", "governance.cli.app"} <= set(imported)


def test_the_probe_sees_a_heavy_import(governed: Path) -> None:
    """The check can fail: ``policy test --help`` loads the policy commands' module (which no
    read query loads: READ_BUDGET), and the probe sees it."""
    watched = ("governance.cli.commands_policy", "governance.cli.commands_ledger")
    code, imported, _ = _run(governed, ["policy", "test", "--help"], watched)
    assert code == 0 and imported == ["governance.cli.commands_policy"]


def test_the_sink_kinds_of_the_cli_are_the_sinks() -> None:
    from governance.cli.commands_audit import SinkKind
    from governance.sinks.settings import SINK_KINDS

    assert tuple(SinkKind) == SINK_KINDS


def test_the_verifier_is_imported_when_there_is_something_to_verify(
        governed: Path, tmp_path: Path) -> None:
    """The warm path's budget can fail: with the verified state gone (a fresh clone's first
    query), ``live`` must verify the ledger, and the probe sees the verifier and the crypto
    (libsodium's Ed25519; ``cryptography`` only signs and parses private keys)."""
    clone = tmp_path / "clone"
    shutil.copytree(governed, clone, symlinks=True)
    chains = list((clone / ".git" / "governance").glob("verified-*.sqlite"))
    assert chains, "the verified chain lives in the git directory"
    for chain in chains:
        chain.unlink()
    code, imported, output = _run(clone, ["live", MODEL, "--env", "staging"], VERIFIER)
    assert code == 0, output
    assert "governance.ledger.verify" in imported and "nacl" in imported, imported


# What verifying needs: libsodium (PyNaCl) for Ed25519, git for the objects. Not the key
# parsing and signing library, nor the forked workers' machinery for a small batch, nor the
# event table's dataclasses (the names module writes out what the replay needs), nor what only
# the store's write paths use (the lock's host name, temporary files).
CATCH_UP_BUDGET = ("cryptography", "multiprocessing", "governance.domain.event_table",
                   "governance.ledger.append", "git", "socket", "tempfile")


def test_a_query_that_catches_up_imports_only_what_verifying_needs(
        governed: Path, tmp_path: Path) -> None:
    """New events on the ledger (a catch-up of a few, as after a fetch): the query verifies
    them with libsodium and imports none of CATCH_UP_BUDGET (about 60 ms of imports)."""
    clone = tmp_path / "clone"
    shutil.copytree(governed, clone, symlinks=True)
    led = Ledger(clone, Keys(governed.parent / "keys"))
    led.append("release_registered", model_name=MODEL, release_id="fraud-risk-2026-04-01-01",
               model_version="2026-04-01", release_digest=DIGEST)
    code, imported, output = _run(clone, ["live", MODEL, "--env", "staging"],
                                  (*CATCH_UP_BUDGET, "governance.ledger.verify", "nacl"))
    assert code == 0, output
    assert imported == ["governance.ledger.verify", "nacl"], imported


def test_a_jsonl_export_needs_no_postgres_driver(governed: Path, tmp_path: Path) -> None:
    """psycopg is an optional extra (``model-governance[postgres]``): exporting to JSON Lines,
    text and json, must neither import it nor the PostgreSQL sink modules (the README's demo
    runs without it)."""
    watched = ("psycopg", "governance.sinks.postgres", "governance.sinks.postgres_org")
    for fmt in ("text", "json"):
        out = tmp_path / fmt
        code, imported, output = _run(governed, ["audit", "export", "--sink", "jsonl",
                                                 "--dir", str(out), "--format", fmt], watched)
        assert code == 0, output
        assert imported == [], f"audit export --format {fmt} imported {imported}"
        assert list(out.glob("*.jsonl")), output


def test_a_warm_status_imports_no_fold(governed: Path) -> None:
    """The second `status` answers from the summary the first kept (governance.status_memo)
    without the fold (governance.lifecycle). Listed here: R1 only, live in staging; a listed
    release awaiting promotion would take the fold for its approvals (the gate's input)."""
    watched = (*READ_BUDGET, "governance.promotion", "governance.authoring",
               "governance.lifecycle")
    _run(governed, ["status", MODEL, "--limit", "1"], ())
    code, imported, output = _run(governed, ["status", MODEL, "--limit", "1"], watched)
    assert code == 0, output
    assert imported == [], f"a warm governance status imported {imported}"
    assert f"{R1}: " in output
    # the console entry point's fast path (no typer, which imports inspect): no dataclasses
    code, imported, output = _run(governed, ["status", MODEL, "--limit", "1"],
                                  (*watched, *DIET), probe=ENTRY_PROBE)
    assert code == 0 and imported == [], (imported, output)


def test_the_probe_sees_dataclasses_when_a_command_needs_them(governed: Path,
                                                             tmp_path: Path) -> None:
    """The DIET check can fail: the first ``status`` of a clone (no summary kept yet) folds the
    ledger with the domain's dataclasses, and the probe sees ``dataclasses`` and ``inspect``."""
    clone = tmp_path / "clone"
    shutil.copytree(governed, clone, symlinks=True)
    for memo in (clone / ".git" / "governance").glob("status-*.sqlite"):
        memo.unlink()
    code, imported, output = _run(clone, ["status", MODEL], DIET, probe=ENTRY_PROBE)
    assert code == 0, output
    assert imported == ["dataclasses", "inspect"], imported


def test_a_warm_status_parses_no_yaml(governed: Path, tmp_path: Path) -> None:
    """Once a status has checked model.yaml and the pointer files, the next one with the same
    bytes takes them as remembered (governance.status_memo): no YAML parser, no loader (in a
    copy whose only release is the ledger's: a release on disk awaiting promotion has its
    approvals counted by the gate, which loads it)."""
    root = tmp_path / "repo"
    shutil.copytree(governed, root, symlinks=True)
    for release in (root / "releases" / MODEL).iterdir():
        if release.is_dir() and release.name != R1:
            shutil.rmtree(release)
    _run(root, ["status", MODEL], ())
    budget = (*READ_BUDGET, "governance.promotion", "governance.authoring", "yaml",
              "governance.records", "governance.yaml_source", "governance.repo")
    code, imported, output = _run(root, ["status", MODEL], budget)
    assert code == 0, output
    assert imported == [], f"a warm governance status imported {imported}"
    (root / "releases" / MODEL / "model.yaml").write_bytes(
        (root / "releases" / MODEL / "model.yaml").read_bytes() + b"# edited\n")
    code, imported, output = _run(root, ["status", MODEL], ("yaml",))
    assert code == 0 and imported == ["yaml"], output  # other bytes: parsed and checked
