"""An honest ledger of thousands of events verifies, with counts, quickly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from governance.cli.app import app
from governance.ledger import entries, verify_repo
from governance.ledger.bulk import bulk_import
from tests.integration.ledger.conftest import DIGEST, Keys, Ledger, make_repo

N = 2000


def test_thousands_of_events_verify_with_counts(tmp_path: Path, keys: Keys) -> None:
    led = Ledger(make_repo(tmp_path / "repo", keys), keys)
    led.init()

    def items():  # type: ignore[no-untyped-def]
        for i in range(N):
            if i % 3 == 0:
                yield ({"event_type": "gate_evaluated", "model_name": "fraud-risk",
                        "release_id": f"r{i}", "decision": {"result": "allow"},
                        "actor_id": "governance-ci"}, keys.path("ci"))
            elif i % 3 == 1:
                yield ({"event_type": "release_registered", "model_name": "fraud-risk",
                        "release_id": f"r{i}", "model_version": f"1.{i}",
                        "release_digest": DIGEST}, keys.path("jane"))
            else:
                yield ({"event_type": "approval_granted", "model_name": "fraud-risk",
                        "release_id": f"r{i}", "actor_role": "platform_owner",
                        "approval_state": "approved", "release_digest": DIGEST},
                       keys.path("bob"))

    assert bulk_import(led.root, items(), log_key=keys.path("log")) == N
    report = verify_repo(led.root)
    assert report.failure is None, report.failure
    assert report.events == N + 1 and report.signatures == N + 1
    assert report.stored_checkpoints > N // 3  # every approval, every 100, the genesis
    assert report.principals == {"jane.smith", "bob", "governance-ci"}
    assert [e.seq for e in entries(led.root)] == list(range(N + 1))

    # git itself accepts the in-process signatures (spot check through ssh-keygen)
    allowed = tmp_path / "allowed_signers"
    allowed.write_bytes(subprocess.run(
        ["git", "cat-file", "blob", "governance/ledger:trust/allowed_signers"], cwd=led.root,
        capture_output=True, check=True).stdout)
    out = subprocess.run(["git", "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit",
                          "governance/ledger~5"], cwd=led.root, capture_output=True, text=True)
    assert out.returncode == 0 and 'Good "git" signature' in out.stderr

    result = CliRunner().invoke(app, ["ledger", "verify", "--repo", str(led.root),
                                      "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["events"] == N + 1

    proc = subprocess.run([sys.executable, "-m", "governance", "ledger", "verify", "--repo",
                           str(led.root)], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"ok: {N + 1} events, {N + 1} signatures")

    # the parallel path catches what the sequential one does: a forged stored checkpoint
    from governance.ledger import layout
    from governance.ledger.checkpoint import sign_checkpoint
    from tests.integration.ledger import forge

    bad = sign_checkpoint("example.com/acme/models", N + 2, b"\x07" * 32,
                          keys.private("log2"))
    forge.append_raw(led.root, led.signer("jane.smith"),
                     extra_files={layout.checkpoint_path(N + 2): bad.encode()})
    report = verify_repo(led.root)
    assert report.failure is not None and report.failure.seq == N + 1
    assert "unknown log key" in report.failure.reason


def test_appends_build_on_the_verified_state_which_is_rebuilt_when_missing_or_wrong(
        tmp_path: Path, keys: Keys) -> None:
    """An append takes seq, chain hash, trust and Merkle frontier from the verified reader's
    state (caught up incrementally, in the git directory). After a bulk import the first
    append verifies the imported commits; a missing chain file is rebuilt by verifying from
    the genesis, and a state that does not match its commit is discarded, not used: the roots
    stay right either way."""
    import sqlite3

    from governance.ledger.store import GitStore
    from governance.ledger.verified import chain_path

    led = Ledger(make_repo(tmp_path / "repo", keys), keys)
    led.init()
    items = ((({"event_type": "release_registered", "model_name": "fraud-risk",
                "release_id": f"r{i}", "model_version": f"1.{i}", "release_digest": DIGEST}),
              keys.path("jane")) for i in range(30))
    assert bulk_import(led.root, items, log_key=keys.path("log")) == 30
    led.append("release_registered", model_name="fraud-risk", release_id="r30",
               model_version="1.30", release_digest=DIGEST)
    path = chain_path(GitStore(led.root, "governance/ledger"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM chain").fetchone()[0] == 31  # up to the tip

    path.unlink()
    led.append("release_registered", model_name="fraud-risk", release_id="r31",
               model_version="1.31", release_digest=DIGEST)
    with sqlite3.connect(path) as conn:
        doc = json.loads(conn.execute("SELECT value FROM state").fetchone()[0])
        assert doc["seq"] == 31  # the tip the append verified before building on it
        doc["frontier"] = ["00" * 32] * len(doc["frontier"])  # a wrong frontier
        conn.execute("UPDATE state SET value = ?", (json.dumps(doc),))
    led.append("release_registered", model_name="fraud-risk", release_id="r32",
               model_version="1.32", release_digest=DIGEST)
    report = verify_repo(led.root)  # every Ledger-Root trailer recomputed and compared
    assert report.failure is None, report.failure
    assert report.events == 34
