"""The verifier's batch read gives exactly what git gives: every commit object byte for byte
(rev-list --header, re-hashed), and every commit's changes as ``git diff-tree -r`` lists them
(proven from tree ids, git's own diff where the proof does not hold), honest or tampered."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from governance.ledger import layout
from governance.ledger.append import open_store
from governance.ledger.canonical import canonical_bytes
from tests.integration.ledger import forge
from tests.integration.ledger.conftest import Ledger


def _same_as_git(led: Ledger) -> None:
    store = open_store(led.root)
    commits = store.read_commits()
    order = [(c.sha, c.parents) for c in commits]
    assert [sha for sha, _ in order] == forge.chain(led.root)
    for c in commits:
        assert c.raw == subprocess.run(["git", "cat-file", "commit", c.sha], cwd=led.root,
                                       capture_output=True, check=True).stdout
    by_git = store._diff_all(order)
    for c in commits:
        assert c.changes == by_git.get(c.sha, ()), c.sha
        for ch in c.changes:
            if ch.status != "D":
                assert c.blobs[ch.path] == store.read_object(ch.blob)
    # the catching-up read (one git log --format=raw --raw) gives the same objects and changes,
    # over the whole history and over a range
    log_order, log_objects, log_changes = store._log_range(order[-1][0])
    assert log_order == order
    assert all(log_objects[c.sha] == c.raw for c in commits)
    assert all(log_changes[c.sha] == by_git.get(c.sha, ()) for c in commits)
    rng_order, _, rng_changes = store._log_range(f"{order[2][0]}..{order[-1][0]}")
    assert rng_order == order[3:] and all(rng_changes[sha] == by_git.get(sha, ())
                                          for sha, _ in order[3:])
    # catching up through the object reader alone (no git log): over every range of the
    # history, exactly the commits, objects, changes and blobs git gives, or None (then git's
    # diff is used) when a commit in the range is not its parent plus its event and checkpoint
    proven_ranges = 0
    for start in range(1, len(commits)):
        for end in range(start, len(commits)):
            got = store._proven_after(commits[start - 1].sha, commits[end].sha, start)
            want = commits[start : end + 1]
            pure = all(not [ch for ch in c.changes if ch.status != "A"
                            or not ch.path.startswith(("events/", "checkpoints/"))]
                       for c in want)
            if got is None:
                assert not pure, (start, end)
                continue
            proven_ranges += 1
            assert pure, (start, end)
            assert [(c.sha, c.parents, c.raw, c.changes, dict(c.blobs)) for c in got] == \
                [(c.sha, c.parents, c.raw, c.changes, dict(c.blobs)) for c in want]
    assert proven_ranges


def test_honest_ledger_reads_as_git_sees_it(ledger: Ledger) -> None:
    ledger.append("key_rotated", reason="new laptop", details={"changes": [
        {"op": "add_key", "principal": "jane.smith", "key": ledger.keys.pub("jane2")}]})
    ledger.append("model_registered", key="jane2", model_name="after-rotation")
    _same_as_git(ledger)


def test_tampered_ledger_reads_as_git_sees_it(ledger: Ledger) -> None:
    # a later commit rewriting an old event, another adding a stray file: the proof does not
    # hold for them (nor for the rewritten event's own commit), git's diff is used instead
    old = json.loads(forge.event_bytes(ledger.root, 1))
    old["model_name"] = "something-else"
    shas = forge.chain(ledger.root)
    spec = forge.spec_of(ledger.root, shas[-1])
    spec.parents = [shas[-1]]
    spec.tree = forge.edit_tree(ledger.root, spec.tree,
                                {layout.event_path(1): canonical_bytes(old), "stray": b"x"})
    spec.when = int(time.time())
    forge.set_tip(ledger.root, forge.write_commit(ledger.root, spec,
                                                  ledger.signing_keys()[spec.email]))
    _same_as_git(ledger)


def test_signature_work_survives_a_killed_worker(ledger: Ledger) -> None:
    import os
    import signal

    from governance.ledger.verify import SignatureWork

    commits = open_store(ledger.root).read_commits()
    raws = [c.raw for c in commits] * 40
    bad = bytearray(raws[3])
    bad[bad.index(b"seq 3") + 4] = ord("9")  # the signed message changed: must not verify
    raws[200] = bytes(bad)
    notes = [None] * len(raws)
    work = SignatureWork(raws, [None] * len(raws), notes, workers=1)
    for pid in work.pids:
        os.kill(pid, signal.SIGKILL)
    sig, _ = work.finish()
    assert [i for i, b in enumerate(sig) if b != 1] == [200]


def _git_commands(trace: Path) -> list[str]:
    """The git commands run while GIT_TRACE pointed at ``trace`` (git's own trace output)."""
    text = trace.read_text() if trace.exists() else ""
    return [line.split("trace: built-in: ", 1)[1] for line in text.splitlines()
            if "trace: built-in: " in line]


def test_incremental_read_reads_only_the_new_commits(ledger: Ledger, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # reading the commits after one already read must not list the tip's whole tree (which
    # grows with the ledger): with a diff, git's diff of the new commits names their blobs;
    # without, their predicted paths are read from the tip; the result is the full read's tail
    store = open_store(ledger.root)
    full = store.read_commits()
    for with_diff in (True, False):
        trace = tmp_path / f"trace-{with_diff}"
        monkeypatch.setenv("GIT_TRACE", str(trace))
        tail = store.read_commits(after=full[3].sha, first_seq=4, with_diff=with_diff)
        monkeypatch.delenv("GIT_TRACE")
        commands = _git_commands(trace)
        assert not [c for c in commands if c.startswith("git ls-tree")], commands
        # with a diff, an add-only range is read through the persistent object reader alone
        assert set(commands) <= ({"git cat-file --batch"} if with_diff else
                                 {"git cat-file --batch", f"git rev-list --reverse --topo-order "
                                  f"--parents --header {full[3].sha}..{full[-1].sha}"}), commands
        assert [c.sha for c in tail] == [c.sha for c in full[4:]]
        for got, want in zip(tail, full[4:], strict=True):
            assert (got.raw, got.parents, dict(got.blobs)) == (want.raw, want.parents,
                                                               dict(want.blobs))
            assert got.changes == (want.changes if with_diff else ())
    # the whole-ledger read still works from one listing
    trace = tmp_path / "trace-full"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert [c.sha for c in store.read_commits()] == [c.sha for c in full]
    monkeypatch.delenv("GIT_TRACE")
    assert [c for c in _git_commands(trace) if c.startswith("git ls-tree")]


def test_catching_up_reads_only_the_new_commits(ledger: Ledger, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # a query catching up verifies the new events and indexes them without listing the
    # ledger's tree and without reading the older commits again
    from governance.audit.index import open_index
    from governance.ledger.reader import ledger_source

    with ledger_source(ledger.root) as source:
        open_index(ledger.root, source).close()
    before = len(forge.chain(ledger.root))
    ledger.append("model_registered", model_name="new-one")
    ledger.append("model_registered", model_name="new-two")
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    with ledger_source(ledger.root) as source:
        index = open_index(ledger.root, source)
        state = index.state()
        index.close()
    monkeypatch.delenv("GIT_TRACE")
    assert state is not None and state.seq == before + 1
    commands = _git_commands(trace)
    assert not [c for c in commands if c.startswith("git ls-tree")], commands
    # the commits to verify, their objects and changes: through the object reader alone (each
    # commit proven to be its parent plus its event and checkpoint), no git log, no diff; the
    # index's rows the appends' own catch-ups verified are read over their range
    assert not [c for c in commands if c.startswith(("git log", "git diff-tree"))], commands
    ranges = [c for c in commands if c.startswith("git rev-list")]
    assert all(".." in c for c in ranges), ranges
    # every object read (the verified commit, its trust file, the new blobs, the index's
    # re-reads) through one persistent cat-file; GitPython (`git version` at import) not used
    assert len([c for c in commands if c.startswith("git cat-file")]) == 1, commands
    assert not [c for c in commands if c.startswith("git version")], commands


def test_object_reads_are_what_git_cat_file_gives(ledger: Ledger) -> None:
    # the persistent object reader (no GitPython): objects by id and files by commit and path,
    # a missing one said as such; a few objects through it equal many through one batch process
    store = open_store(ledger.root)
    shas = forge.chain(ledger.root)
    for sha in shas:
        assert store.read_object(sha) == subprocess.run(
            ["git", "cat-file", "commit", sha], cwd=ledger.root, capture_output=True,
            check=True).stdout
    assert store.read_path(shas[-1], layout.event_path(1)) == forge.event_bytes(ledger.root, 1)
    assert store.read_path(shas[-1], "events/none.json") is None
    assert store.read_path(shas[0], layout.event_path(1)) is None  # not yet at the genesis
    with pytest.raises(ValueError, match="missing"):
        store.read_object("0" * 40)
    specs = [f"{sha}:{layout.event_path(i)}" for i, sha in enumerate(shas)] + ["0" * 40]
    few = store.cat_batch_list(specs)
    many = store.cat_batch_list(specs * 100)  # over the persistent reader's batch size
    assert few[-1] == (None, None) and all(data is not None for _, data in few[:-1])
    assert many[: len(specs)] == few and many[-len(specs) :] == few
    assert [data for _, data in few[:-1]] == [forge.event_bytes(ledger.root, i)
                                               for i in range(len(shas))]


def test_an_edited_object_store_is_refused_not_read(ledger: Ledger) -> None:
    # the event a commit adds, swapped in the object store under its own id (git does not
    # re-hash what it reads): the tree proof works from the ids of the bytes actually read, so
    # the commit falls to git's diff, whose blob then fails its id check
    import zlib

    from governance.errors import Undecided

    store = open_store(ledger.root)
    seq = 3
    blob = subprocess.run(["git", "rev-parse", f"{forge.REF}:{layout.event_path(seq)}"],
                          cwd=ledger.root, capture_output=True, text=True,
                          check=True).stdout.strip()
    loose = store.git_dir / "objects" / blob[:2] / blob[2:]
    if not loose.exists():
        pytest.skip("the fixture's objects are packed")
    original = forge.event_bytes(ledger.root, seq)
    forged = original.replace(b"}", b" }", 1)
    assert forged != original
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob %d\0" % len(forged) + forged))
    assert forge.event_bytes(ledger.root, seq) == forged  # git serves the swapped bytes
    with pytest.raises(Undecided, match=f"{blob} .*does not hash to its id"):
        open_store(ledger.root).read_commits()


def test_the_chain_a_first_read_writes_has_every_index_of_its_schema(ledger: Ledger) -> None:
    """A read from the genesis inserts the chain's rows before building its indexes (in the
    same transaction): the file ends with the schema's indexes, and they answer as a chain
    written row by row does."""
    import sqlite3

    from governance.ledger.verified import VerifiedLedger, _schema
    from tests.integration.ledger.test_ledger_tamper import forget_verified_chain

    fresh = sqlite3.connect(":memory:", isolation_level=None)
    _schema(fresh)
    want = sorted(fresh.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                "AND sql IS NOT NULL").fetchall())
    assert len(want) == 9
    ledger.append("model_registered", model_name="one-more")  # a catch-up: rows one by one
    with VerifiedLedger(ledger.root) as reader:
        reader.catch_up()
        caught_up = reader.conn.execute("SELECT * FROM chain ORDER BY seq").fetchall()
    forget_verified_chain(ledger)
    with VerifiedLedger(ledger.root) as reader:
        reader.catch_up()
        conn = reader.conn
        assert sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                   "AND sql IS NOT NULL").fetchall()) == want
        assert conn.execute("SELECT * FROM chain ORDER BY seq").fetchall() == caught_up
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert [r[0] for r in conn.execute(
            "SELECT seq FROM chain INDEXED BY chain_model WHERE model = 'fraud-risk' "
            "ORDER BY seq")] == [r[0] for r in caught_up if r[7] == "fraud-risk"]
