"""Which sink to export to, from governance.yaml's ``sinks`` section and command-line overrides.

```yaml
sinks:
  jsonl: {dir: audit-export}                       # relative to the repo root
  postgres: {dsn_env: GOVERNANCE_PG_DSN, table: governance_audit_events}
  s3: {bucket: governance-audit, prefix: ledger/, retention_days: 2555}
```

Secrets never live in governance.yaml: the PostgreSQL DSN is read from the environment variable
the file names; S3 credentials come from boto3's usual chain. An S3-compatible endpoint may be
given with ``--endpoint-url`` or ``GOVERNANCE_S3_ENDPOINT_URL`` (boto3 also honours
``AWS_ENDPOINT_URL_S3``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance import ci_context
from governance.config import load_config
from governance.errors import ConfigurationError, UsageError
from governance.sinks.export import CURSOR_DIR, Sink

SINK_KINDS = ("jsonl", "postgres", "s3")


@dataclass(frozen=True)
class SinkOverrides:
    directory: str | None = None
    dsn_env: str | None = None
    table: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    retention_days: int | None = None
    endpoint_url: str | None = None


def load_sink_config(root: Path) -> Mapping[str, Any]:
    """The ``sinks`` mapping of the repository's governance.yaml (validated by its schema)."""
    return load_config(root).sinks


def open_sink(root: Path, kind: str, overrides: SinkOverrides) -> Sink:
    if kind not in SINK_KINDS:
        raise UsageError(f"--sink: {kind!r} (expected one of {', '.join(SINK_KINDS)})")
    conf = load_sink_config(root).get(kind) or {}
    if not isinstance(conf, dict):
        raise ConfigurationError(f"governance.yaml $.sinks.{kind}: expected a mapping")
    if kind == "jsonl":
        from governance.sinks.jsonl import JsonlSink

        directory = Path(overrides.directory or conf.get("dir") or "audit-export")
        return JsonlSink(directory if directory.is_absolute() else root / directory)
    if kind == "postgres":
        from governance.sinks.postgres import TABLE, PostgresSink

        var = overrides.dsn_env or conf.get("dsn_env") or ci_context.ENV_DSN
        dsn = ci_context.current().variable(str(var))
        if not dsn:
            raise ConfigurationError(
                f"postgres sink: environment variable {var} is not set",
                hint=f"export {var}='host=... dbname=... user=...' (the writer role's DSN)",
            )
        return PostgresSink(dsn, overrides.table or conf.get("table") or TABLE)
    from governance.sinks.s3 import S3Sink

    bucket = overrides.bucket or conf.get("bucket")
    if not bucket:
        raise ConfigurationError(
            "s3 sink: no bucket (governance.yaml $.sinks.s3.bucket or --bucket)"
        )
    days = overrides.retention_days or conf.get("retention_days") or 2555
    prefix = overrides.prefix if overrides.prefix is not None else conf.get("prefix", "ledger/")
    return S3Sink(
        str(bucket),
        str(prefix),
        int(days),
        root / CURSOR_DIR / "s3-manifest.jsonl",
        endpoint_url=overrides.endpoint_url or ci_context.current().variable(
            "GOVERNANCE_S3_ENDPOINT_URL"),
    )
