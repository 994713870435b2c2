"""`governance ledger ...` end to end: CliRunner for shape, subprocess for exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer.main
from typer.testing import CliRunner

from governance.cli.app import app
from tests.integration.ledger import forge
from tests.integration.ledger.conftest import Keys, Ledger, make_repo

runner = CliRunner()


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "governance", *args], capture_output=True,
                          text=True, env=full)


def test_init_append_log_checkpoint_verify(tmp_path: Path, keys: Keys) -> None:
    root = make_repo(tmp_path / "repo", keys, checkpoint_every=3)
    env = {"GOVERNANCE_LEDGER_SIGNING_KEY": str(keys.path("jane")),
           "GOVERNANCE_LEDGER_LOG_KEY": keys.path("log").read_text()}  # key text form
    r = cli("ledger", "init", "--repo", str(root), env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("seq 0 ledger_genesis")
    r = cli("ledger", "append", "--repo", str(root), "--type", "model_registered",
            "--field", "model_name=fraud-risk", "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["seq"] == 1
    assert "BEGIN OPENSSH" not in r.stdout + r.stderr  # the key text is never echoed
    r = cli("ledger", "append", "--repo", str(root), "--type", "evaluation_completed",
            "--field", "model_name=fraud-risk", "--field", "release_id=r1",
            "--field", 'evidence_refs=["s3://bucket/eval.json"]', env=env)
    assert r.returncode == 0, r.stderr

    result = runner.invoke(app, ["ledger", "log", "--repo", str(root), "--format", "json",
                                 "--type", "evaluation_completed"], catch_exceptions=False)
    rows = json.loads(result.stdout)
    assert [row["seq"] for row in rows] == [2]
    assert rows[0]["event"]["evidence_refs"] == ["s3://bucket/eval.json"]
    text = runner.invoke(app, ["ledger", "log", "--repo", str(root)]).stdout.splitlines()
    assert len(text) == 3 and "model_registered" in text[1]

    note = tmp_path / "cp.note"
    r = cli("ledger", "checkpoint", "--repo", str(root), "--out", str(note), env=env)
    assert r.returncode == 0, r.stderr
    assert note.read_text().splitlines()[:2] == ["example.com/acme/models", "3"]
    # without the log key it prints the latest stored one (genesis and size 3 were cut)
    r = cli("ledger", "checkpoint", "--repo", str(root))
    assert r.returncode == 0 and r.stdout.splitlines()[1] == "3"
    assert r.stdout == note.read_text()

    r = cli("ledger", "verify", "--repo", str(root), "--checkpoint", str(note))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok: 3 events, 3 signatures, 2 stored checkpoints, "
                               "1 external checkpoints verified")


def test_verify_exit_codes_name_the_seq_and_reason(ledger: Ledger) -> None:
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), namespace="file")
    r = cli("ledger", "verify", "--repo", str(ledger.root))
    assert r.returncode == 1
    assert r.stdout.startswith("tampered: seq 7: signature: SSHSIG namespace 'file'")
    assert "verified 7 events before the failure" in r.stdout
    j = cli("ledger", "verify", "--repo", str(ledger.root), "--format", "json")
    assert j.returncode == 1
    doc = json.loads(j.stdout)
    assert doc["ok"] is False and doc["failure"]["seq"] == 7 and doc["events"] == 7


def test_verify_without_a_ledger_cannot_decide(tmp_path: Path, keys: Keys) -> None:
    root = make_repo(tmp_path / "repo", keys)
    r = cli("ledger", "verify", "--repo", str(root))
    assert r.returncode == 3
    assert "no ledger" in r.stderr and "Traceback" not in r.stderr


def test_verify_pgp_signed_commit_cannot_decide(ledger: Ledger) -> None:
    spec = forge.spec_of(ledger.root, forge.chain(ledger.root)[-1])
    spec.parents = [forge.chain(ledger.root)[-1]]
    pgp = "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQ\n-----END PGP SIGNATURE-----\n"
    forge.set_tip(ledger.root, forge.write_commit(ledger.root, spec, None, signature=pgp))
    r = cli("ledger", "verify", "--repo", str(ledger.root))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "undecided: seq 7" in r.stdout and "OpenPGP" in r.stdout


@pytest.mark.parametrize("args,needle", [
    (["--type", "no_such_type"], "--type 'no_such_type'"),
    (["--type", "model_registered", "--field", "bogus=1"], "--field 'bogus=1'"),
])
def test_append_usage_errors_exit_2(ledger: Ledger, args: list[str], needle: str) -> None:
    r = cli("ledger", "append", "--repo", str(ledger.root), *args,
            env={"GOVERNANCE_LEDGER_SIGNING_KEY": str(ledger.keys.path("jane"))})
    assert r.returncode == 2 and needle in r.stderr


def test_append_denied_and_invalid_exit_1(ledger: Ledger) -> None:
    env = {"GOVERNANCE_LEDGER_SIGNING_KEY": str(ledger.keys.path("dana"))}
    r = cli("ledger", "append", "--repo", str(ledger.root), "--type", "policy_violation",
            "--field", "reason=x", env=env)
    assert r.returncode == 1 and "may not emit policy_violation" in r.stderr
    r = cli("ledger", "append", "--repo", str(ledger.root), "--type", "release_registered",
            "--field", "model_name=Not A Slug", env=env)
    assert r.returncode == 1 and "$.model_name" in r.stderr


def test_append_signs_through_git_config(ledger: Ledger) -> None:
    """No environment key: git's own gpg.format=ssh / user.signingkey configuration signs."""
    subprocess.run(["git", "config", "gpg.format", "ssh"], cwd=ledger.root, check=True)
    subprocess.run(["git", "config", "user.signingkey", str(ledger.keys.path("bob")) + ".pub"],
                   cwd=ledger.root, check=True)
    r = cli("ledger", "append", "--repo", str(ledger.root), "--type", "model_registered",
            "--field", "model_name=via-git-config")
    assert r.returncode == 0, r.stderr
    assert cli("ledger", "verify", "--repo", str(ledger.root)).returncode == 0


@pytest.mark.parametrize("command", ["init", "append", "log", "checkpoint", "verify"])
def test_every_ledger_command_and_option_has_help(command: str) -> None:
    result = runner.invoke(app, ["ledger", command, "--help"])
    assert result.exit_code == 0, result.output
    ledger = typer.main.get_command(app).commands["ledger"]  # type: ignore[attr-defined]
    cmd = ledger.commands[command]
    assert cmd.callback is not None and cmd.callback.__doc__ and cmd.help
    for param in cmd.params:
        if isinstance(param, click.Option):
            assert param.help, f"ledger {command} {param.opts[0]} has no help"
            assert param.opts[0] in result.output, result.output


def test_init_refuses_uncommitted_governance_yaml(tmp_path: Path, keys: Keys) -> None:
    root = make_repo(tmp_path / "repo", keys)
    with (root / "governance.yaml").open("a") as fh:
        fh.write("# edited\n")
    r = cli("ledger", "init", "--repo", str(root),
            env={"GOVERNANCE_LEDGER_SIGNING_KEY": str(keys.path("jane"))})
    assert r.returncode == 3 and "differs from the committed one" in r.stderr
