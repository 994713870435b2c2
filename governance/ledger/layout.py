"""Where things live in the ledger tree (pure; shared by the store and the verifier).

    events/<seq // 10000>/<seq // 100 % 100, two digits>/<seq>.json   one file per event
    checkpoints/<size // 10000>/<size // 100 % 100>/<size>.note        signed checkpoint notes
    trust/state.json                                                   folded trust (canonical)
    trust/allowed_signers                                              git's allowed signers

Sharding keeps every tree small (at most 100 entries per level for the first million events),
so each append rewrites a few kilobytes of tree objects, not one ever-growing directory.
"""

from __future__ import annotations

TRUST_STATE = "trust/state.json"
ALLOWED_SIGNERS = "trust/allowed_signers"


def _shard(n: int) -> str:
    return f"{n // 10000}/{n // 100 % 100:02d}"


def event_path(seq: int) -> str:
    return f"events/{_shard(seq)}/{seq}.json"


def checkpoint_path(size: int) -> str:
    return f"checkpoints/{_shard(size)}/{size}.note"
