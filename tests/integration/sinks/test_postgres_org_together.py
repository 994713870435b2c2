"""An answer's rows verified together (``_verified_together``, ``_included_together``: each
checkpoint's proofs as one multi-leaf walk) accept exactly what the row-by-row checks accept, give
the same answers, and leave every refusal to the row-by-row checks (real PostgreSQL for the
answers; generated trees for the walk)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import pytest

from governance.audit.org import (
    OrgSource,
    OrgTrust,
    _included,
    _included_together,
    clear_verified_memo,
)
from governance.audit.queries import AuditFilter
from governance.errors import Tampered
from governance.ledger.merkle import inclusion_proof, root
from governance.sinks.postgres_org import EVENTS
from tests.support.org import (
    SyntheticOrigin,
    edit_as_superuser,
    make_origin,
)

FORGED = b"\xfd" * 32


# -- the walk, alone ---------------------------------------------------------------------------


def _tree(n: int) -> tuple[list[bytes], bytes]:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    return leaves, root(leaves)


def _items(leaves: list[bytes], chosen: list[int]) -> list[tuple[int, bytes, bytes]]:
    return [(i, leaves[i], b"".join(inclusion_proof(i, leaves))) for i in chosen]


def test_together_accepts_the_reference_proofs_and_remembers_true_nodes() -> None:
    """Any set of leaves of trees of 1..70 leaves and a few larger ones, each with its
    reference proof, is accepted (in any order, with a leaf given twice); every node it
    remembers is the root of the leaves that node covers."""
    rng = random.Random(5)
    for n in [*range(1, 71), 100, 257, 1000]:
        leaves, top = _tree(n)
        for k in sorted({min(n, k) for k in (1, 2, 3, 7, n // 2 or 1, n)}):
            chosen = rng.sample(range(n), k)
            items = _items(leaves, chosen)
            items.append(items[0])  # the same row twice: the same leaf and proof
            nodes: dict[tuple[int, int], bytes] = {}
            assert _included_together(items, n, top, nodes), (n, chosen)
            assert all(_included(i, n, leaf, proof, top) for i, leaf, proof in items)
            for (level, index), value in nodes.items():
                covered = leaves[index << level:min((index + 1) << level, n)]
                assert covered and value == root(covered), (n, level, index)
            assert n == 1 or nodes  # a tree of one leaf has no interior node


def test_together_refuses_what_any_single_walk_refuses() -> None:
    """Every single-hash forgery of any item's proof (below or above the point where its path
    meets another item's), a wrong leaf, a proof a hash too long or too short, a neighbour's
    proof, an index out of range and one index with two different proofs are refused."""
    rng = random.Random(9)
    for n in (2, 3, 5, 8, 13, 16, 37, 100, 257):
        leaves, top = _tree(n)
        chosen = sorted(rng.sample(range(n), min(n, 6)))
        items = _items(leaves, chosen)
        for t, (i, leaf, proof) in enumerate(items):
            def swap(new: tuple[int, bytes, bytes], t: int = t,
                     items: list[tuple[int, bytes, bytes]] = items
                     ) -> list[tuple[int, bytes, bytes]]:
                return [*items[:t], new, *items[t + 1:]]

            for j in range(0, len(proof), 32):
                forged = proof[:j] + FORGED + proof[j + 32:]
                assert not _included(i, n, leaf, forged, top)
                assert not _included_together(swap((i, leaf, forged)), n, top, {}), (n, i, j)
            assert not _included_together(swap((i, b"\1" * 32, proof)), n, top, {})
            assert not _included_together(swap((i, leaf, proof + FORGED)), n, top, {})
            if proof:
                assert not _included_together(swap((i, leaf, proof[:-32])), n, top, {})
            if i + 1 < n and i + 1 not in chosen:
                assert not _included_together(swap((i + 1, leaf, proof)), n, top, {})
            if proof:
                other = proof[:-32] + FORGED
                assert not _included_together([*items, (i, leaf, other)], n, top, {})
        assert not _included_together([*items, (n, leaves[0], b"")], n, top, {})
        assert not _included_together(items, n, b"\0" * 32, {})


def test_a_proof_hash_above_a_meeting_point_is_compared_too() -> None:
    """Two leaves whose paths meet below the root: the row-by-row walk with remembered nodes
    does not hash the second path above the point where it meets the first, but it compares
    the rest of the second proof with the remembered siblings, so a forged hash there is
    refused by both walks (one row's proof as stored is checked whole, as a reader holding
    only that row and the checkpoint would check it)."""
    leaves, top = _tree(16)
    items = _items(leaves, [0, 1])
    i, leaf, proof = items[1]
    forged = proof[:-32] + FORGED  # the sibling of the root's left child
    nodes: dict[tuple[int, int], bytes] = {}
    assert _included(0, 16, items[0][1], items[0][2], top, nodes)
    assert not _included(i, 16, leaf, forged, top, nodes)
    assert _included(i, 16, leaf, proof, top, nodes)  # the true proof, from the memo
    assert not _included_together([items[0], (i, leaf, forged)], 16, top, {})


def test_the_remembered_walk_compares_every_proof_hash_of_every_leaf() -> None:
    """For trees of 1 to 40 leaves, after every other leaf's path is proven (row by row, or
    first together, which remembers no siblings): each leaf's true proof is accepted, and each
    of its proof hashes replaced in turn is refused, wherever the walk meets remembered
    nodes."""
    for n, together in [(n, t) for n in range(1, 41) for t in (False, True)]:
        leaves, top = _tree(n)
        items = _items(leaves, list(range(n)))
        nodes: dict[tuple[int, int], bytes] = {}
        if together:  # interior nodes remembered without the proofs' siblings
            assert _included_together(items[::2], n, top, nodes), n
        for i, leaf, proof in items[::2]:
            assert _included(i, n, leaf, proof, top, nodes), (n, i)
        for i, leaf, proof in items:
            for j in range(0, len(proof), 32):
                forged = proof[:j] + FORGED + proof[j + 32:]
                assert not _included(i, n, leaf, forged, top, nodes), (n, i, j)
            assert _included(i, n, leaf, proof, top, nodes), (n, i)


# -- answers on PostgreSQL ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def origins() -> list[SyntheticOrigin]:
    return [make_origin("example.com/together-a/models", 2),
            make_origin("example.com/together-b/models", 4)]


def _answers(writer: str, trust: OrgTrust) -> list[tuple[object, ...]]:
    """Every question, asked twice (cold, then with remembered rows), as comparable data."""
    clear_verified_memo()
    out: list[tuple[object, ...]] = []
    with OrgSource(writer, trust, trust.require([])) as src:
        model = next(e.event.model for e in src.audit_query(AuditFilter()) if e.event.model)
        for _ in range(2):
            for answer in (src.audit_query(AuditFilter()),
                           src.audit_query(AuditFilter(event_types=("approval_granted",))),
                           src.live_everywhere("production", datetime.now(UTC)),
                           src.history(str(model))):
                out.append(tuple((vars(e), e.event._asdict()) for e in answer))
            out.append((src.verified_rows, src.remembered_rows))
    return out


@pytest.mark.postgres
def test_together_gives_the_row_by_row_answers(exported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _admin, writer, trust = exported
    called: list[int] = []
    together = OrgSource._verified_together

    def spy(self, rows, remember):  # type: ignore[no-untyped-def]
        out = together(self, rows, remember)
        called.append(len(rows) if out is not None else -1)
        return out

    monkeypatch.setattr(OrgSource, "_verified_together", spy)
    fast = _answers(writer, trust)
    assert called and all(n >= 0 for n in called) and sum(called) > 100  # never fell back
    monkeypatch.setattr(OrgSource, "_verified_together", lambda self, rows, remember: None)
    slow = _answers(writer, trust)
    assert fast == slow
    assert fast[-1][1] > 0  # the second round used remembered rows, as row by row


@pytest.mark.postgres
@pytest.mark.parametrize(("edit", "reason"), [
    # a proof hash replaced in the middle (the length unchanged)
    ("UPDATE {t} SET proof = overlay(proof placing '\\xfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdf"
     "dfdfdfdfdfdfdfdfdfdfdfd'::bytea from 33 for 32) WHERE origin = %s AND seq = %s",
     "inclusion proof"),
    ("UPDATE {t} SET leaf_hash = repeat('ab', 32) WHERE origin = %s AND seq = %s",
     "hashes to leaf"),
    ("UPDATE {t} SET actor_id = 'mallory' WHERE origin = %s AND seq = %s", "column actor_id"),
    ("UPDATE {t} SET stored = stored || ' '::bytea WHERE origin = %s AND seq = %s",
     "hashes to leaf"),
])
def test_a_tampered_row_is_refused_row_by_row(exported, origins, monkeypatch, edit,  # type: ignore[no-untyped-def]
                                              reason) -> None:
    """The rows together fail, and the refusal is the row-by-row check's, naming the row."""
    admin, writer, trust = exported
    target = origins[1]
    approvals = [e.seq for e in target.ledger.items if e.event_type == "approval_granted"]
    seq = approvals[len(approvals) // 2]  # a row among others of its checkpoint
    edit_as_superuser(admin, edit.format(t=EVENTS), target.origin, seq)
    results: list[bool] = []
    together = OrgSource._verified_together

    def spy(self, rows, remember):  # type: ignore[no-untyped-def]
        out = together(self, rows, remember)
        results.append(out is None)
        return out

    monkeypatch.setattr(OrgSource, "_verified_together", spy)
    with OrgSource(writer, trust, trust.require([])) as src, \
            pytest.raises(Tampered, match=f"origin {target.origin} seq {seq}: .*{reason}"):
        src.audit_query(AuditFilter(event_types=("approval_granted",)))
    assert results == [True]


@pytest.mark.postgres
def test_a_deleted_row_inside_the_range(exported, origins, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A row deleted between two rows of an answer: the remaining rows' proofs still hold (an
    inclusion proof does not show completeness), so the answer is the row-by-row one without
    it, as before; verify-sink refuses the origin (its seqs and roots)."""
    admin, writer, trust = exported
    target = origins[0]
    approvals = [e.seq for e in target.ledger.items if e.event_type == "approval_granted"]
    gone = approvals[len(approvals) // 2]
    edit_as_superuser(
        admin, f"DELETE FROM {EVENTS} WHERE origin = %s AND seq = %s",
        target.origin, gone)
    flt = AuditFilter(event_types=("approval_granted",))
    clear_verified_memo()
    with OrgSource(writer, trust, trust.require([])) as src:
        fast = [(e.origin, e.event.seq) for e in src.audit_query(flt)]
    monkeypatch.setattr(OrgSource, "_verified_together", lambda self, rows, remember: None)
    clear_verified_memo()
    with OrgSource(writer, trust, trust.require([])) as src:
        slow = [(e.origin, e.event.seq) for e in src.audit_query(flt)]
        report = src.verify_origin(target.origin)
    assert fast == slow and (target.origin, gone) not in fast
    assert (target.origin, approvals[0]) in fast
    assert not report.ok and any(f"seq {gone}..{gone} missing" in p for p in report.problems)
