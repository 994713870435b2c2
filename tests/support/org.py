"""Synthetic governed repositories for the organisation sink: a ledger per origin, its log key,
its signed checkpoint, and the org trust file pinning them.

Also runnable, for crash and concurrency tests that need a real process:

    python -m tests.support.org ORIGIN SEED MODELS DSN_ENV BATCH

exports that origin's synthetic ledger to the DSN held by $DSN_ENV (the pause hook of
``governance.sinks.postgres_org`` applies).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.ledger.checkpoint import log_key_of, sign_checkpoint
from governance.ledger.merkle import CompactRange
from governance.ledger.sshsig import public_key_from_raw
from tests.support.histories import SyntheticLedger, generate_entries

if TYPE_CHECKING:
    from governance.audit.org import OrgTrust


@dataclass
class SyntheticOrigin:
    origin: str
    ledger: SyntheticLedger
    key: Ed25519PrivateKey

    def checkpoint(self, size: int | None = None) -> str:
        """A checkpoint note over the first ``size`` entries (default all), signed with this
        origin's log key."""
        n = len(self.ledger.items) if size is None else size
        cr = CompactRange()
        for entry in self.ledger.items[:n]:
            cr.append(bytes.fromhex(entry.leaf_hash))
        return sign_checkpoint(self.origin, n, cr.root(), self.key)

    @property
    def public_line(self) -> str:
        return public_key_from_raw(log_key_of(self.origin, self.key).public).line


def make_origin(origin: str, seed: int, models: int = 4, releases: int = 4) -> SyntheticOrigin:
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"log:{origin}".encode()).digest())
    ledger = SyntheticLedger(list(generate_entries(models=models, releases_per_model=releases,
                                                   seed=seed)))
    return SyntheticOrigin(origin, ledger, key)


def trust_yaml(origins: Sequence[SyntheticOrigin], stale_after: str = "7d") -> str:
    lines = ["apiVersion: governance/v1", "kind: OrgTrust", f"stale_after: {stale_after}",
             "origins:"]
    for o in origins:
        lines += [f"  - origin: {o.origin}", "    log_keys:", f"      - {o.public_line}"]
    return "\n".join(lines) + "\n"


def write_trust(path: Path, origins: Sequence[SyntheticOrigin], stale_after: str = "7d") -> Path:
    path.write_text(trust_yaml(origins, stale_after))
    return path


def export_origins(writer_dsn: str, origins: Sequence[SyntheticOrigin], trust_path: Path
                   ) -> OrgTrust:
    """Every origin's ledger exported (in batches of 70 rows) with its checkpoint, the process
    memo of verified rows cleared, and the org trust file pinning them written and loaded."""
    from governance.audit.org import clear_verified_memo, load_org_trust
    from governance.sinks.postgres_org import export_origin

    for o in origins:
        export_origin(writer_dsn, o.ledger, o.checkpoint(), batch=70)
    clear_verified_memo()
    return load_org_trust(write_trust(trust_path, origins))


def edit_as_superuser(admin_dsn: str, statement: str, *args: object) -> None:
    """An edit only a superuser can make: no append-only trigger, no foreign-key check."""
    import psycopg

    with psycopg.connect(admin_dsn) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(statement.encode(), args)


def main(argv: Sequence[str]) -> int:
    from governance.sinks.postgres_org import export_origin

    origin, seed, models, dsn_env, batch = argv
    o = make_origin(origin, int(seed), int(models))
    result = export_origin(os.environ[dsn_env], o.ledger, o.checkpoint(), batch=int(batch))
    print(result.exported)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
