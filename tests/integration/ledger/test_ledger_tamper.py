"""The tamper suite (issue 4): every attack is caught, at the right seq, for the right reason."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from governance.errors import Denied
from governance.ledger import append_event, latest_checkpoint, layout, verify_repo
from governance.ledger import verify as verify_module
from governance.ledger.append import read_tip
from governance.ledger.canonical import canonical_bytes
from governance.ledger.checkpoint import sign_checkpoint
from governance.ledger.events import utc_timestamp, uuid7
from governance.ledger.merkle import leaf_hash
from governance.ledger.sshsig import sign
from governance.ledger.store import GitStore
from governance.ledger.verify import VerifyReport
from tests.integration.ledger import forge
from tests.integration.ledger.conftest import DIGEST, Ledger, fill_honest


@pytest.fixture(autouse=True, params=["inline", "forked", "prechecked"])
def signature_work(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every attack three times: signature work done in this process, by forked workers (as for
    large ledgers), and by forked workers whose pre-checks of every event's bytes (canonical
    JSON, the schema) are all done before the ordered pass starts (as when the workers run
    ahead of it), which must all report the same first failure."""
    if request.param in ("forked", "prechecked"):
        monkeypatch.setattr(verify_module, "PARALLEL_MIN", 1)
    if request.param == "prechecked":
        start = verify_module.SignatureWork.__init__

        def ahead(self: verify_module.SignatureWork, *args: Any, **kwargs: Any) -> None:
            start(self, *args, **kwargs)
            self.with_pre = True
            for i, data in enumerate(self.events):
                if data is not None:
                    self.pre[i] = verify_module._precheck(data)

        monkeypatch.setattr(verify_module.SignatureWork, "__init__", ahead)


def failed(report: VerifyReport, seq: int | None, *fragments: str) -> None:
    assert report.failure is not None, "tampering was not detected"
    assert report.failure.seq == seq, report.failure
    for fragment in fragments:
        assert fragment in report.failure.reason, report.failure.reason
    assert not report.failure.undecided


def checkpoint_file(led: Ledger, tmp_path: Path, name: str = "anchor.note") -> Path:
    note, size, total = latest_checkpoint(led.root, log_key=led.keys.path("log"))
    assert size == total
    path = tmp_path / name
    path.write_text(note)
    return path


def test_rewritten_and_resigned_history_is_caught_by_external_checkpoint(
        ledger: Ledger, tmp_path: Path) -> None:
    anchor = checkpoint_file(ledger, tmp_path)
    # The attacker holds valid people keys (not the log key) and rebuilds the whole history
    # with one event changed: every internal check passes on the forgery.
    subprocess.run(["git", "update-ref", "-d", forge.REF], cwd=ledger.root, check=True)
    forget_verified_chain(ledger)  # as in a fresh clone of the rewritten ledger
    ledger.init(log=False)
    ledger.append("model_registered", log=False, model_name="fraud-risk-v2")
    for _ in range(5):
        ledger.append("model_registered", log=False, model_name="other")
    assert verify_repo(ledger.root).failure is None
    failed(verify_repo(ledger.root, checkpoint_files=[anchor]), 6, "history rewritten")


def forget_verified_chain(led: Ledger) -> None:
    from governance.ledger.store import GitStore
    from governance.ledger.verified import chain_path

    path = chain_path(GitStore(led.root, "governance/ledger"))
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def test_a_rewrite_under_a_clone_that_verified_the_old_history_is_refused(
        ledger: Ledger) -> None:
    """The verified chain kept by a clone is a checkpoint of its own: once it verified the
    ledger, a rewritten history (even one that verifies on its own) is refused, and nothing is
    appended on it."""
    from governance.errors import Tampered
    from governance.ledger.verified import VerifiedLedger

    with VerifiedLedger(ledger.root) as verified:
        assert verified.catch_up() is not None
    subprocess.run(["git", "update-ref", "-d", forge.REF], cwd=ledger.root, check=True)
    with pytest.raises(Tampered, match="ledger tampered at seq 6: .*branch 'governance/ledger' "
                                       "is gone"):
        ledger.append("model_registered", log=False, model_name="x")
    subprocess.run(["git", "update-ref", forge.REF, _genesis_again(ledger)], cwd=ledger.root,
                   check=True)
    with pytest.raises(Tampered, match="history was rewritten"):
        ledger.append("model_registered", log=False, model_name="x")
    assert verify_repo(ledger.root).events == 1  # nothing was appended on the rewrite


def _genesis_again(led: Ledger) -> str:
    """A new, honestly signed genesis in a scratch copy, fetched as a lone commit."""
    scratch = led.root.parent / "scratch"
    shutil.copytree(led.root, scratch)
    subprocess.run(["git", "update-ref", "-d", forge.REF], cwd=scratch, check=True)
    other = Ledger(scratch, led.keys)
    forget_verified_chain(other)
    other.init(log=False)
    tip = forge.chain(scratch)[-1]
    subprocess.run(["git", "fetch", "-q", str(scratch), tip], cwd=led.root, check=True)
    return tip


def test_force_push_dropping_the_tip(ledger: Ledger, tmp_path: Path) -> None:
    anchor = checkpoint_file(ledger, tmp_path)
    forge.set_tip(ledger.root, forge.chain(ledger.root)[-2])
    failed(verify_repo(ledger.root, checkpoint_files=[anchor]), 6,
           "ledger has 6 events but checkpoint", "covers 7")


def test_dropped_event(ledger: Ledger) -> None:
    shas = forge.chain(ledger.root)
    gone = layout.event_path(3)
    tip = forge.replay(ledger.root, shas[4:], shas[2], ledger.signing_keys(),
                       lambda _sha, tree: forge.edit_tree(ledger.root, tree, remove=(gone,)))
    forge.set_tip(ledger.root, tip)
    failed(verify_repo(ledger.root), 3, "seq 3 is missing", "dropped")


def test_reordered_events(ledger: Ledger) -> None:
    shas = forge.chain(ledger.root)
    keys = ledger.signing_keys()
    s4 = forge.spec_of(ledger.root, shas[4])
    s4.parents = [shas[2]]
    s4.tree = forge.edit_tree(ledger.root, s4.tree, remove=(layout.event_path(3),))
    c4 = forge.write_commit(ledger.root, s4, keys[s4.email])
    s3 = forge.spec_of(ledger.root, shas[3])
    s3.parents = [c4]
    s3.tree = forge.spec_of(ledger.root, shas[4]).tree
    c3 = forge.write_commit(ledger.root, s3, keys[s3.email])
    forge.set_tip(ledger.root, forge.replay(ledger.root, shas[5:], c3, keys))
    failed(verify_repo(ledger.root), 3, "reordered")


def test_later_signed_commit_editing_an_old_event(ledger: Ledger) -> None:
    old = json.loads(forge.event_bytes(ledger.root, 1))
    old["model_name"] = "something-else"
    shas = forge.chain(ledger.root)
    spec = forge.spec_of(ledger.root, shas[-1])
    spec.parents = [shas[-1]]
    spec.tree = forge.edit_tree(ledger.root, spec.tree,
                                {layout.event_path(1): canonical_bytes(old)})
    spec.when = int(time.time())
    forge.set_tip(ledger.root, forge.write_commit(ledger.root, spec,
                                                  ledger.signing_keys()[spec.email]))
    failed(verify_repo(ledger.root), 7, "not add-only", "modifies existing event file",
           layout.event_path(1))


def test_content_edited_with_signature_copied(ledger: Ledger) -> None:
    shas = forge.chain(ledger.root)
    event = json.loads(forge.event_bytes(ledger.root, 2))
    event["model_version"] = "9.9.9"
    spec = forge.spec_of(ledger.root, shas[2])
    spec.tree = forge.edit_tree(ledger.root, spec.tree,
                                {layout.event_path(2): canonical_bytes(event)})
    copied = forge.write_commit(ledger.root, spec, None,
                                signature=forge.signature_of(ledger.root, shas[2]))
    forge.set_tip(ledger.root, forge.replay(ledger.root, shas[3:], copied,
                                            ledger.signing_keys()))
    failed(verify_repo(ledger.root), 2, "signature does not verify")


def test_unsigned_commit(ledger: Ledger) -> None:
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), signed=False)
    failed(verify_repo(ledger.root), 7, "unsigned commit")


def test_unknown_signer(ledger: Ledger) -> None:
    # git's own check would print "Good ... No principal matched"; the ledger refuses the key.
    mallory = ledger.signer("jane.smith", key="mallory")
    forge.append_raw(ledger.root, mallory)
    failed(verify_repo(ledger.root), 7, "unknown signing key")


def test_wrong_sshsig_namespace(ledger: Ledger) -> None:
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), namespace="file")
    failed(verify_repo(ledger.root), 7, "namespace 'file', expected 'git'")


@pytest.mark.parametrize(("edit", "reason"), [
    ("flip", "signature does not verify"),
    ("junk", "not valid base64"),
])
def test_signature_damaged_after_its_key(ledger: Ledger, edit: str, reason: str) -> None:
    """The ordered pass reads only the key from a deferred signature's first line
    (``sshsig.git_signature_key``); the rest, damaged here, is the signature work's to refuse,
    and the failure reported is the inline verifier's, at the same seq."""
    signer = ledger.signer("jane.smith")

    def damaged(payload: bytes) -> str:
        text = sign(signer.key, payload, "git")
        lines = text.split("\n")
        tail = lines[-3]  # the last base64 line, after the key's
        lines[-3] = tail[:-3] + ("!" if edit == "junk" else
                                 ("A" if tail[-3] != "A" else "B")) + tail[-2:]
        return "\n".join(lines)

    forge.append_raw(ledger.root, signer, sign_payload=damaged)
    failed(verify_repo(ledger.root), 7, reason)


def test_stored_checkpoint_with_the_right_body_by_an_unknown_log_key(ledger: Ledger) -> None:
    """The ordered pass compares a deferred note's body as text (``_check_stored_checkpoint``);
    the signature under a body that is exactly right, here by a log key the ledger does not
    know, is still refused at its seq."""
    store = GitStore(ledger.root, "governance/ledger")
    tip = store.tip()
    assert tip is not None
    state = read_tip(store, tip)
    event = {"event_type": "model_registered", "model_name": "fraud-risk",
             "actor_id": "jane.smith", "event_id": uuid7(), "timestamp": utc_timestamp(),
             "seq": state.seq + 1, "prev": state.prev}
    state.frontier.append(leaf_hash(canonical_bytes(event)))
    size = state.seq + 2
    note = sign_checkpoint("example.com/acme/models", size, state.frontier.root(),
                           ledger.keys.private("log2"))
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), event,
                     extra_files={layout.checkpoint_path(size): note.encode()})
    failed(verify_repo(ledger.root), size - 1, "stored checkpoint", "log key")


def test_valid_key_for_a_disallowed_event_type(ledger: Ledger) -> None:
    with pytest.raises(Denied, match="may not emit break_glass"):
        ledger.append("break_glass", as_="governance-ci", reason="x", incident="INC-1",
                      actor_id="governance-ci")
    forge.append_raw(ledger.root, ledger.signer("governance-ci"),
                     {"event_type": "break_glass", "reason": "x", "incident": "INC-1",
                      "actor_id": "governance-ci"})
    failed(verify_repo(ledger.root), 7, "'governance-ci' may not emit break_glass")


def test_person_without_role_cannot_approve(ledger: Ledger) -> None:
    with pytest.raises(Denied, match="may not emit approval_granted"):
        ledger.append("approval_granted", as_="dana", model_name="fraud-risk",
                      release_id="r1", actor_role="risk_owner", release_digest=DIGEST)


def test_committer_not_matching_the_key(ledger: Ledger) -> None:
    forge.append_raw(ledger.root, ledger.signer("jane.smith"),
                     committer=("Bob Builder", "bob@example.com"))
    failed(verify_repo(ledger.root), 7, "committer Bob Builder <bob@example.com> does not match")


def test_key_used_after_its_retirement(ledger: Ledger) -> None:
    rotation = ledger.append(
        "key_rotated", reason="laptop replaced",
        details={"changes": [
            {"op": "add_key", "principal": "jane.smith", "key": ledger.keys.pub("jane2")},
            {"op": "retire_key", "principal": "jane.smith", "key": ledger.keys.pub("jane")}]})
    assert rotation.seq == 7
    ledger.append("model_registered", key="jane2", model_name="after-rotation")
    with pytest.raises(Denied, match="retired at seq 8"):
        ledger.append("model_registered", model_name="old-key")
    assert verify_repo(ledger.root).failure is None  # events 1..7 by the old key still valid
    forge.append_raw(ledger.root, ledger.signer("jane.smith"))
    failed(verify_repo(ledger.root), 9, "retired at seq 8")


def test_backdated_committer_date(ledger: Ledger) -> None:
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), when=int(time.time()) - 7200)
    failed(verify_repo(ledger.root), 7, "backdated")


def test_future_dated_event(ledger: Ledger) -> None:
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), {"timestamp": future})
    failed(verify_repo(ledger.root), 7, "future-dated event")


def test_duplicate_event_id(ledger: Ledger) -> None:
    first = json.loads(forge.event_bytes(ledger.root, 1))["event_id"]
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), {"event_id": first})
    failed(verify_repo(ledger.root), 7, f"duplicate event_id {first}", "seq 1")


def test_merge_commit(ledger: Ledger) -> None:
    shas = forge.chain(ledger.root)
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), parents=[shas[-1], shas[-2]])
    failed(verify_repo(ledger.root), 7, "merge commit (2 parents)")


@pytest.mark.parametrize("kind", ["duplicate-key", "reformatted"])
def test_non_canonical_event(ledger: Ledger, kind: str) -> None:
    event = {"event_type": "model_registered", "model_name": "fraud-risk",
             "actor_id": "jane.smith", "event_id": "01a21870-0000-7000-8000-000000000001",
             "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seq": 7,
             "prev": forge.sha256_hex(forge.event_bytes(ledger.root, 6))}
    canonical = canonical_bytes(event).decode()
    if kind == "duplicate-key":
        stored = ('{"actor_id":"mallory",' + canonical[1:]).encode()
        reason = "duplicate key 'actor_id'"
    else:
        stored = json.dumps(event, indent=2, sort_keys=True).encode()
        reason = "differ from the canonical form"
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), event, stored=stored)
    failed(verify_repo(ledger.root), 7, "not canonical JSON", reason)


def test_tampered_external_checkpoint(ledger: Ledger, tmp_path: Path) -> None:
    anchor = checkpoint_file(ledger, tmp_path)
    lines = anchor.read_text().split("\n")
    lines[1] = "6"  # claim a smaller tree under the same signature
    anchor.write_text("\n".join(lines))
    failed(verify_repo(ledger.root, checkpoint_files=[anchor]), None, "does not verify")


def test_tampered_stored_checkpoint(ledger: Ledger) -> None:
    forged = sign_checkpoint("example.com/acme/models", 8, b"\x01" * 32,
                             ledger.keys.private("log"))
    forge.append_raw(ledger.root, ledger.signer("jane.smith"),
                     extra_files={layout.checkpoint_path(8): forged.encode()})
    failed(verify_repo(ledger.root), 7, "stored checkpoint", "root")


def test_checkpoint_signed_by_unknown_log_key(ledger: Ledger, tmp_path: Path) -> None:
    note, size, _ = latest_checkpoint(ledger.root, log_key=ledger.keys.path("log"))
    lines = note.split("\n")
    import base64

    root = base64.b64decode(lines[2])
    path = tmp_path / "other.note"
    path.write_text(sign_checkpoint(lines[0], size, root, ledger.keys.private("log2")))
    failed(verify_repo(ledger.root, checkpoint_files=[path]), None, "unknown log key")


def test_split_view(ledger: Ledger, tmp_path: Path) -> None:
    honest = checkpoint_file(ledger, tmp_path, "a.note")
    other = tmp_path / "b.note"
    other.write_text(sign_checkpoint("example.com/acme/models", 7, b"\x02" * 32,
                                     ledger.keys.private("log")))
    failed(verify_repo(ledger.root, checkpoint_files=[honest, other]), 6, "split view",
           "size 7")


def test_local_ledger_rolled_back_to_an_old_backup(ledger: Ledger, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    shutil.copytree(ledger.root, backup, symlinks=True)
    ledger.append("model_registered", model_name="later-1")
    ledger.append("model_registered", model_name="later-2")
    anchor = checkpoint_file(ledger, tmp_path)
    shutil.rmtree(ledger.root)
    shutil.copytree(backup, ledger.root, symlinks=True)
    failed(verify_repo(ledger.root, checkpoint_files=[anchor]), 7,
           "ledger has 7 events but checkpoint", "covers 9", "old backup")


def test_allowed_signers_changed_without_rotation(ledger: Ledger) -> None:
    tip = forge.chain(ledger.root)[-1]
    current = subprocess.run(["git", "cat-file", "blob", f"{tip}:{layout.ALLOWED_SIGNERS}"],
                             cwd=ledger.root, capture_output=True, check=True).stdout
    extra = f'mallory@example.com namespaces="git" {ledger.keys.pub("mallory")}\n'.encode()
    forge.append_raw(ledger.root, ledger.signer("jane.smith"),
                     extra_files={layout.ALLOWED_SIGNERS: current + extra})
    failed(verify_repo(ledger.root), 7, "allowed signers changed without a key_rotated event")


def test_governance_yaml_edit_does_not_grant_trust(ledger: Ledger) -> None:
    """Adding a key to governance.yaml after genesis changes nothing until a rotation."""
    from tests.integration.ledger.conftest import governance_yaml

    text = governance_yaml(ledger.keys).replace(
        f'signing_keys: ["{ledger.keys.pub("jane")}"]',
        f'signing_keys: ["{ledger.keys.pub("jane")}", "{ledger.keys.pub("mallory")}"]')
    (ledger.root / "governance.yaml").write_text(text)
    with pytest.raises(Denied, match="unknown signing key"):
        append_event(ledger.root, {"event_type": "model_registered", "model_name": "m"},
                     signing_key=ledger.keys.path("mallory"))


def test_fill_honest_is_reusable(tmp_path: Path, ledger: Ledger) -> None:
    """The fixture builder itself produces a verifying ledger in a fresh repository."""
    from tests.integration.ledger.conftest import make_repo

    fresh = Ledger(make_repo(tmp_path / "fresh", ledger.keys), ledger.keys)
    fill_honest(fresh)
    report = verify_repo(fresh.root)
    assert report.failure is None and report.events == 7 and report.stored_checkpoints == 3
