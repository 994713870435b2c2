"""Registering a release on the ledger (``release_registered``) with the digest the tool computes.

Nobody copies a digest by hand (issue 15 item 4). ``governance release register RELEASE`` reads
the release as committed on the protected branch, computes its digest, and appends
``release_registered`` on the verified tip it read (``expected_tip``), so nothing lands on a
ledger it did not check.

When: at merge, by CI. The digest covers the whole release directory (record, card, evidence),
and a release pull request is edited while it is reviewed (a card field filled, a limitation
added), each edit changing the digest; a registration at ``release new`` would name a digest
that the merged release no longer has. The merge workflow (governance-promote.yml, job
``verify``) therefore runs ``release register`` for every release the merge added, on the
protected branch, with the merge commit as its source; a person can run the same command on the
protected branch (the demo does). Both refuse a working tree that is not the tip of the
protected branch, or a release directory that differs from what is committed there.

Idempotent: a release already registered with the same digest is answered "already registered"
(exit 0, nothing appended), so a re-run workflow is harmless. A different digest for the same
release is refused (exit 1): the release's content changed after it reached the protected branch,
and approvals bind to the digest. While the release has no approval, promotion, rollback,
retirement or break-glass on the ledger, ``--amend --reason TEXT`` records the new digest
(``details.supersedes`` names the earlier registration); after any of them, the answer is a new
release (``release new``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance.committed import require_committed
from governance.domain.event_table import ReleaseRegistered
from governance.domain.event_types import (
    APPROVAL_DENIED,
    APPROVAL_GRANTED,
    BREAK_GLASS,
    DEPLOYMENT_PROMOTED,
    GATE_EVALUATED,
    RELEASE_APPROVED,
    RELEASE_REGISTERED,
    RELEASE_RETIRED,
    ROLLBACK_EXECUTED,
)
from governance.errors import Denied, UsageError
from governance.repo import GovernedRepo
from governance.vcs import branch_tip, head_commit

# Events after which a release's digest is settled: people or CI acted on that content.
SETTLED_BY = frozenset({APPROVAL_GRANTED, APPROVAL_DENIED, RELEASE_APPROVED, DEPLOYMENT_PROMOTED,
                        ROLLBACK_EXECUTED, RELEASE_RETIRED, BREAK_GLASS, GATE_EVALUATED})


@dataclass(frozen=True)
class Registration:
    release_id: str
    model_name: str
    digest: str
    state: str  # "registered" | "already_registered" | "amended"
    seq: int
    commit: str  # the protected branch commit registered

    def to_json(self) -> dict[str, Any]:
        return {"release_id": self.release_id, "model_name": self.model_name,
                "release_digest": self.digest, "state": self.state, "seq": self.seq,
                "commit": self.commit}


def register_release(repo: GovernedRepo, release_ref: str, *, amend_reason: str | None = None,
                     source: Mapping[str, Any] | None = None) -> Registration:
    """Register ``release_ref`` (an id or directory) as committed on the protected branch."""
    from governance.ledger.append import append_event, open_store, verified_tip
    from governance.ledger.reader import entries

    if amend_reason is not None and not amend_reason.strip():
        raise UsageError("--reason must say why the registered content changed")
    root = repo.root
    branch = repo.config.protected_branch
    loaded = repo.load_release(release_ref)  # every located problem, before anything else
    release = loaded.release
    rel_dir = loaded.directory.resolve().relative_to(root.resolve()).as_posix()
    tip, head = branch_tip(root, branch), head_commit(root)
    if tip is None or head != tip:
        raise Denied(f"release register binds what is merged on the protected branch {branch!r}"
                     f"; HEAD is {head[:12] if head else 'no commit'}, {branch!r} is at "
                     f"{tip[:12] if tip else 'no commit'}",
                     hint=f"run it on {branch!r} (the merge workflow does it for every release "
                          "a merged pull request adds)")
    committed = require_committed(repo, branch, [rel_dir], action="register")
    digest = committed.digests.get(rel_dir, loaded.digest.value)
    store = open_store(root)
    state = verified_tip(store)  # raises (exit 1) when the ledger fails verification
    previous: dict[str, Any] | None = None
    previous_seq = -1
    settled: list[tuple[int, str]] = []
    for entry in entries(root):
        if entry.seq > state.seq:
            break
        event = entry.event
        if event.get("release_id") != release.release_id:
            continue
        if entry.event_type == RELEASE_REGISTERED:
            previous, previous_seq = dict(event), entry.seq
        elif entry.event_type in SETTLED_BY:
            settled.append((entry.seq, entry.event_type))
    if previous is not None and previous.get("release_digest") == digest:
        return Registration(release.release_id, release.model_name, digest,
                            "already_registered", previous_seq, committed.commit)
    details: dict[str, Any] = {"commit": committed.commit, "path": rel_dir}
    reason = None
    outcome = "registered"
    if previous is not None:
        old = str(previous.get("release_digest"))
        if amend_reason is None:
            raise Denied(
                f"release {release.release_id!r} was registered at seq {previous_seq} with "
                f"digest {old}; its committed content now has digest {digest}: a registered "
                "release's content does not change (approvals bind to the digest)",
                hint="open a new release (governance release new ... --release-id ID); if it "
                     "was never approved or promoted, record the new content with "
                     "`governance release register RELEASE --amend --reason TEXT`")
        if settled:
            seq, kind = settled[0]
            raise Denied(f"release {release.release_id!r} cannot be amended: {kind} at seq "
                         f"{seq} acted on its registered digest {old}",
                         hint="open a new release (governance release new ... --release-id ID)")
        details = {**details, "supersedes": old, "supersedes_seq": previous_seq}
        reason = amend_reason
        outcome = "amended"
    registered = ReleaseRegistered(
        release_id=release.release_id, model_name=release.model_name,
        model_version=release.model_version, release_digest=digest, details=details,
        reason=reason, source=dict(source) if source else None)
    entry = append_event(root, registered.to_dict(), branch=store.branch,
                         expected_tip=state.commit)
    return Registration(release.release_id, release.model_name, digest, outcome, entry.seq,
                        committed.commit)
