"""Forged ledger commits and a lying index, against every command that decides or answers.

An insider with push access to the ledger branch appends commits of their own (issue 13): each
attack below puts a forged ``deployment_promoted`` of r2 to production on top of an honest
ledger (r1 live, r2 approved by every role). Every deciding command must refuse with the seq
and the reason and append nothing on top; every answering command must refuse too (or, asked
with --verified-prefix, answer from the verified prefix and say so). The query index is a cache:
an edited row or a replaced index file is reported once and rebuilt, and the answer stays true.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.ledger import layout
from tests.integration.ledger import forge
from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World, git


def promoted(world: World, actor: str = BOT) -> dict[str, Any]:
    """A schema-valid promotion of r2 to production: r1's honest one, with r2's id and
    digest (as its approvals name it), by ``actor``."""
    events = world.events()
    base = next(e for e in reversed(events) if e["event_type"] == "deployment_promoted"
                and e["environment"] == "production")
    digest = next(e["release_digest"] for e in events
                  if e["event_type"] == "approval_granted" and e["release_id"] == R2)
    fields = {k: v for k, v in base.items() if k not in ("seq", "prev", "event_id",
                                                          "timestamp")}
    fields.update({"release_id": R2, "from_release": R1, "release_digest": digest,
                   "actor_id": actor})
    return fields


def key_of(world: World, who: str) -> Ed25519PrivateKey:
    key = serialization.load_ssh_private_key((world.keys / who).read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def signer(world: World, who: str, key: Ed25519PrivateKey | None = None) -> forge.Signer:
    name = "Governance CI" if who == BOT else {
        "dana": "Dana Kowalski", "bob": "Bob Okafor", "alice": "Alice Moreau"}[who]
    return forge.Signer(name, f"{who}@acme.example", key or key_of(world, who))


def tip(root: Path) -> str:
    return git(root, "rev-parse", "governance/ledger")


def forget_verified_chain(root: Path) -> None:
    """As in a fresh clone: no verified chain yet (the ledger is verified from the genesis)."""
    for path in (root / ".git" / "governance").glob("verified-*"):
        path.unlink()


def unsigned(world: World) -> None:
    forge.append_raw(world.ci, signer(world, BOT), promoted(world), signed=False)


def unknown_key(world: World) -> None:
    forge.append_raw(world.ci, signer(world, BOT, Ed25519PrivateKey.generate()),
                     promoted(world))


def type_not_allowed(world: World) -> None:
    # dana (the trainer) holds no role: her key may not record a promotion
    forge.append_raw(world.ci, signer(world, "dana"), promoted(world, "dana"))


def committer_not_bound(world: World) -> None:
    forge.append_raw(world.ci, signer(world, BOT), promoted(world),
                     committer=("Bob Okafor", "bob@acme.example"))


def rewritten_tip(world: World) -> None:
    """The last commit (jane.smith's approval of r2, which carries a signed checkpoint) is
    rewritten (its reason changed), with every trailer recomputed, and re-signed with the
    signer's own valid key; the checkpoint note, which the attacker cannot re-sign without the
    log key, is kept. The CI clone had verified the honest tip before."""
    from governance.ledger.append import read_tip
    from governance.ledger.canonical import canonical_bytes
    from governance.ledger.commit import ledger_message
    from governance.ledger.merkle import leaf_hash
    from governance.ledger.store import GitStore

    root = world.ci
    world.run(None, "status", MODEL)  # the clone verifies the honest ledger
    old = forge.chain(root)[-1]
    spec = forge.spec_of(root, old)
    seq = len(forge.chain(root)) - 1
    event = json.loads(forge.event_bytes(root, seq))
    event["reason"] = "rewritten after the fact"
    stored = canonical_bytes(event)
    parent = read_tip(GitStore(root, "governance/ledger"), spec.parents[0])
    parent.frontier.append(leaf_hash(stored))
    spec.message = ledger_message(event["event_type"], seq, event["event_id"],
                                  leaf_hash(stored).hex(), parent.prev,
                                  parent.frontier.root().hex())
    spec.tree = forge.edit_tree(root, spec.tree, set_files={layout.event_path(seq): stored})
    who = spec.email.split("@")[0]
    forge.set_tip(root, forge.write_commit(root, spec, key_of(world, who)))


ATTACKS: dict[str, tuple[Callable[[World], None], str]] = {
    "unsigned": (unsigned, "unsigned commit"),
    "unknown-key": (unknown_key, "unknown signing key"),
    "type-not-allowed": (type_not_allowed, "may not emit deployment_promoted"),
    "committer-not-bound": (committer_not_bound, "does not match the signing key's principal"),
    "rewritten-tip": (rewritten_tip, "history was rewritten"),
}

# (who runs it, the command) for every command that decides, records or answers
COMMANDS: list[tuple[str | None, tuple[str, ...]]] = [
    (None, ("check", R2, "--env", "production", "--approvals", "git")),
    (BOT, ("promote", R2, "--env", "production")),
    ("alice", ("approve", R2, "--role", "ml_lead")),
    (None, ("status", MODEL)),
    (None, ("live", MODEL, "--env", "production")),
    (None, ("history", MODEL)),
    (None, ("audit", "query", "--model", MODEL)),
    (None, ("explain", R2)),
    (None, ("report", R2)),
    (None, ("diff", R1, R2)),
    (None, ("audit", "export", "--sink", "jsonl")),
    (BOT, ("env", "publish")),
]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_forged_commit_is_refused_by_every_command(approved: World, attack: str) -> None:
    forge_it, reason = ATTACKS[attack]
    honest = len(forge.chain(approved.ci))
    forge_it(approved)
    forged_seq = honest - 1 if attack == "rewritten-tip" else honest
    before = tip(approved.ci)
    for who, args in COMMANDS:
        done = approved.run(who, *args, expect=None)
        said = done.stdout + done.stderr
        assert done.returncode == 1, (args, said)
        assert f"ledger tampered at seq {forged_seq}" in said, (args, said)
        assert reason in said, (args, said)
        assert "Traceback" not in said
        if who is not None and args[0] in ("promote", "approve"):
            assert "nothing was recorded" in said, said
        assert tip(approved.ci) == before, f"{args[0]} appended on top of a forged tip"
    # the live answer names the seq and reason; the forensic log still shows the forgery
    log = approved.run(None, "ledger", "log", "--unverified", "--format", "json")
    assert json.loads(log.stdout)[-1]["event"]["release_id"] == R2
    assert "nothing here is verified" in log.stderr


@pytest.mark.parametrize("attack", ["unsigned", "rewritten-tip"])
def test_a_fresh_clone_refuses_the_forgery_too(approved: World, attack: str) -> None:
    """No local verified state to lean on: the clone verifies from the genesis (the rewritten
    tip is caught by its stored checkpoint, which no longer signs the ledger's root)."""
    forge_it, reason = ATTACKS[attack]
    forge_it(approved)
    forget_verified_chain(approved.ci)
    want = "stored checkpoint" if attack == "rewritten-tip" else reason
    done = approved.run(BOT, "promote", R2, "--env", "production", expect=1)
    assert "ledger tampered at seq" in done.stderr and want in done.stderr, done.stderr
    done = approved.run(None, "live", MODEL, "--env", "production", expect=1)
    assert want in done.stderr


def test_the_verified_prefix_is_answered_only_when_asked_and_says_so(approved: World) -> None:
    honest = len(forge.chain(approved.ci))
    unsigned(approved)
    done = approved.run(None, "live", MODEL, "--env", "production", "--verified-prefix")
    lines = done.stdout.splitlines()
    assert lines[0] == R1  # the forged promotion of r2 is not evidence
    assert f"VERIFIED PREFIX ONLY: seq 0..{honest - 1}" in done.stdout
    assert "unsigned commit" in done.stdout
    data = json.loads(approved.run(None, "live", MODEL, "--env", "production",
                                   "--verified-prefix", "--format", "json").stdout)
    assert data["release_id"] == R1
    assert data["verified_prefix"] == {"verified_through_seq": honest - 1,
                                       "failed_seq": honest,
                                       "reason": "unsigned commit (no gpgsig header)"}
    events = json.loads(approved.run(None, "history", MODEL, "--verified-prefix",
                                     "--format", "json").stdout)
    assert events["verified_prefix"]["failed_seq"] == honest
    assert events["events"][-1]["seq"] == honest - 1
    status = json.loads(approved.run(None, "status", MODEL, "--verified-prefix",
                                     "--format", "json").stdout)
    assert status["verified_prefix"]["failed_seq"] == honest
    assert "VERIFIED PREFIX ONLY" in approved.run(None, "status", MODEL,
                                                 "--verified-prefix").stdout


def _index(world: World) -> Path:
    return world.ci / ".governance" / "index.sqlite"


def test_an_edited_index_row_is_reported_once_and_rebuilt(approved: World) -> None:
    approved.run(None, "live", MODEL, "--env", "production")  # builds the index
    with sqlite3.connect(_index(approved)) as conn:
        assert conn.execute("UPDATE deployments SET release_id = 'no-such-release' WHERE "
                            "environment = 'production'").rowcount >= 1
    done = approved.run(None, "live", MODEL, "--env", "production")
    assert done.stdout.splitlines()[0] == R1
    assert "does not match" in done.stderr or "rebuilt" in done.stderr, done.stderr
    again = approved.run(None, "live", MODEL, "--env", "production")
    assert again.stdout.splitlines()[0] == R1 and "rebuilt" not in again.stderr

    with sqlite3.connect(_index(approved)) as conn:  # an event row's actor, as history shows it
        conn.execute("UPDATE events SET actor_id = 'mallory' WHERE event_type = "
                     "'approval_granted'")
    done = approved.run(None, "history", MODEL)
    assert "mallory" not in done.stdout and "rebuilt" in done.stderr
    assert "alice" in done.stdout


def test_a_replaced_index_file_is_detected_and_rebuilt(approved: World, tmp_path: Path
                                                       ) -> None:
    """An index built from another ledger (here: a copy with one more, different event) is
    not believed: it does not match this clone's verified chain."""
    _index(approved).parent.mkdir(exist_ok=True)
    _replace_file(approved, _other_index(approved.copy(tmp_path / "other")))
    done = approved.run(None, "live", MODEL, "--env", "production")
    assert done.stdout.splitlines()[0] == R1
    assert "does not match the verified ledger" in done.stderr, done.stderr
    data: Any = json.loads(approved.run(None, "audit", "query", "--type", "model_registered",
                                        "--format", "json").stdout)
    assert all(e["model"] != "other-model" for e in data)


def test_a_forged_promotion_cannot_be_repaired_into_the_pointer(approved: World) -> None:
    """The issue's path to production: a forged promotion, then `promote` "repairing" the
    pointer and `env publish` publishing it. Both refuse; the pointer is unchanged."""
    def published() -> str:
        return subprocess.run(["git", "rev-parse", "--verify", "-q", "governance/environments"],
                              cwd=approved.ci, capture_output=True, text=True).stdout.strip()

    pointer = approved.ci / "environments" / "production.yaml"
    before, branch = pointer.read_text(), published()
    unsigned(approved)
    approved.run(BOT, "promote", R2, "--env", "production", expect=1)
    approved.run(BOT, "env", "publish", expect=1)
    assert pointer.read_text() == before and R2 not in before
    assert published() == branch


# An index that lies, against every command that reads it. The edited rows make the lie matter
# (r1's staging promotion re-labelled as r2's, so r2 would look ready for production; the
# approvals' actor renamed); the replaced file is another clone's index, of a ledger with one
# more event, in which r2 is live in production.
def _edit_rows(world: World) -> None:
    with sqlite3.connect(_index(world)) as conn:
        assert conn.execute("UPDATE events SET release_id = ? WHERE event_type = "
                            "'deployment_promoted' AND environment = 'staging'",
                            (R2,)).rowcount >= 1
        conn.execute("UPDATE deployments SET release_id = ? WHERE environment = 'staging'",
                     (R2,))
        conn.execute("UPDATE events SET actor_id = 'mallory' WHERE event_type = "
                     "'approval_granted'")


def _other_index(world: World) -> Path:
    """An index file of ``world``'s ledger plus one event, r2 live in production in it, with
    everything in the main file (no WAL beside it)."""
    world.run("dana", "ledger", "append", "--type", "model_registered", "--field",
              "model_name=other-model")
    world.run(None, "live", MODEL, "--env", "production")
    with sqlite3.connect(_index(world)) as conn:
        conn.execute("UPDATE deployments SET release_id = ? WHERE environment = 'production'",
                     (R2,))
    with sqlite3.connect(_index(world)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return _index(world)


def _replace_file(world: World, other: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(_index(world)) + suffix).unlink(missing_ok=True)
    shutil.copy(other, _index(world))


def _outcome(world: World, done: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    """Exit code and stdout, with the world's own directory named the same in every copy and
    the time each run was asked at (``live``'s ``at: now``, a report's ``generated``) left
    out."""
    text = done.stdout.replace(str(world.path), "WORLD")
    return done.returncode, re.sub(r"(  at:|generated) \S+Z", r"\1 NOW", text)


def _recorded(world: World, since: int) -> list[tuple[Any, ...]]:
    return [(e["event_type"], e.get("release_id"), e.get("environment"), e.get("actor_id"),
             (e.get("decision") or {}).get("allow"))
            for e in world.events()[since:]]


def test_a_lying_index_changes_no_command_s_answer_or_decision(approved: World,
                                                              tmp_path: Path) -> None:
    """Every command that decides, records or answers, against an honest copy and against two
    copies whose index lies (edited rows; a replaced file), the lie told again before each
    command: the same exit code and answer, the same events recorded, the lie reported by
    every command that read it."""
    honest = approved.copy(tmp_path / "honest")
    replaced = approved.copy(tmp_path / "replaced")
    other = _other_index(approved.copy(tmp_path / "other"))
    lied = {"edited-rows": (approved, lambda: _edit_rows(approved)),
            "replaced-file": (replaced, lambda: _replace_file(replaced, other))}
    reported: dict[str, set[str]] = {name: set() for name in lied}
    recorded = False
    # the reads first: an event a recording command appends differs between the copies (its
    # time and id), so the answers are compared before anything is recorded
    for who, args in sorted(COMMANDS, key=lambda command: command[0] is not None):
        if recorded or not _index(approved).exists():  # each index caught up before the lie
            for world in (honest, approved, replaced):
                world.run(None, "status", MODEL)
        counts = {name: len(world.events()) for name, (world, _) in lied.items()} if who else {}
        since = len(honest.events()) if who else 0
        want = honest.run(who, *args, expect=None)
        for name, (world, tell) in lied.items():
            tell()
            got = world.run(who, *args, expect=None)
            assert "Traceback" not in got.stderr, got.stderr
            assert got.returncode == want.returncode, (name, args, got.stderr, want.stderr)
            if who is None:  # an answer: the same bytes (a record's ids and times differ)
                assert _outcome(world, got) == _outcome(honest, want), (name, args, got.stderr)
            else:  # what was recorded (a denied gate, an approval) is what honest recorded
                assert _recorded(world, counts[name]) == _recorded(honest, since), (name, args)
            assert "mallory" not in got.stdout
            if "rebuilt" in got.stderr or "does not match the verified ledger" in got.stderr:
                reported[name].add(args[0])
        recorded = recorded or who is not None
    # check, approve, export and publish fold the verified ledger itself, not the index; live's
    # question (production) reads none of the edited rows
    readers = {"status", "history", "audit", "explain", "report", "diff", "promote"}
    assert reported == {"edited-rows": readers, "replaced-file": readers | {"live"}}, reported
