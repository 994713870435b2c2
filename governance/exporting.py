"""The audit sink use cases behind ``governance audit export | verify-sink | sink-init``: a typed
request in, the result out.

Each command parses its options into one frozen request below and calls its use case with the
composition root (``governance.service.Service``): the ledger is read through the verified
reader, the sink opened from governance.yaml and the options (``governance.sinks.settings``),
and ``governance.sinks`` exports or compares. The PostgreSQL sink is the organisation's: an
export is proved by the ledger's latest signed checkpoint, and ``verify-sink`` checks each
origin against the org trust file (``governance.org_reading``). Connection strings come from
the environment and are never shown. The result is data; the CLI renders it through a renderer
registry (``governance.cli.commands_audit``).

Every sink, driver and cloud client loads inside the use case that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from governance import ci_context
from governance.ci_context import ENV_DSN  # the writer's default DSN variable
from governance.errors import Tampered, UsageError

if TYPE_CHECKING:
    from governance.org_reading import OrgSinkCheck
    from governance.service import Service
    from governance.sinks.export import ExportResult
    from governance.sinks.export import VerifyReport as SinkReport
    from governance.sinks.postgres_org import OrgExportResult
    from governance.sinks.settings import SinkOverrides

@dataclass(frozen=True)
class SinkRequest:
    """Which sink, and the options that override governance.yaml's ``sinks`` for it."""

    kind: str  # jsonl, postgres or s3 (governance.sinks.settings.SINK_KINDS)
    overrides: SinkOverrides  # the command's --directory, --dsn-env, --table, ... (None: unset)


def _no_table(table: str | None) -> None:
    if table is not None:
        raise UsageError(f"--table {table!r}: the PostgreSQL sink uses the fixed organisation "
                         "tables (governance_org_events, governance_org_checkpoints); "
                         "see docs/audit.md")


def read_checkpoint(root: Path) -> str:
    """The latest signed checkpoint of the ledger at ``root`` (cut fresh over the verified tip
    when the log key is available): what a PostgreSQL export proves its rows against."""
    from governance.ledger.reader import latest_checkpoint

    return latest_checkpoint(root)[0]


def postgres_dsn(root: Path, overrides: SinkOverrides, warn: Callable[[str], None]) -> str:
    """The writer's DSN from the variable governance.yaml (or --dsn-env) names; never shown."""
    from governance.sinks.settings import load_sink_config

    conf = load_sink_config(root).get("postgres") or {}
    if isinstance(conf, dict) and conf.get("table"):
        warn(f"warning: governance.yaml $.sinks.postgres.table ({conf['table']}) is ignored: the "
             "PostgreSQL sink uses the organisation tables (docs/audit.md)")
    var = overrides.dsn_env or (conf.get("dsn_env") if isinstance(conf, dict) else None) \
        or ENV_DSN
    dsn = ci_context.current().variable(str(var))
    if not dsn:
        from governance.errors import ConfigurationError

        raise ConfigurationError(
            f"postgres sink: environment variable {var} is not set",
            hint=f"export {var}='host=... dbname=... user=...' (the writer role's DSN)")
    return dsn


def _close(target: object) -> None:
    close = getattr(target, "close", None)
    if callable(close):
        close()


# --- export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRequest:
    sink: SinkRequest


def export(service: Service, request: ExportRequest, *,
           warn: Callable[[str], None]) -> ExportResult | OrgExportResult:
    """The ledger events after the sink's cursor, exported (idempotent, resumable)."""
    from governance.sinks import export as sink_export
    from governance.sinks.settings import open_sink

    root = service.root
    overrides = request.sink.overrides
    if request.sink.kind == "postgres":
        from governance.sinks.postgres_org import export_origin

        _no_table(request.sink.overrides.table)
        dsn = postgres_dsn(root, overrides, warn)
        return export_origin(dsn, service.ledger(), read_checkpoint(root))
    target = open_sink(root, request.sink.kind, overrides)
    try:
        return sink_export.export(root, service.ledger(), target)
    finally:
        _close(target)


# --- verify-sink ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifySinkRequest:
    sink: SinkRequest
    origins: tuple[str, ...] = ()  # postgres: these origins (default: this repository's)
    all_origins: bool = False  # postgres: every origin pinned in the trust file
    trust: Path | None = None  # postgres: the org trust file


def verify_sink(service: Service, request: VerifySinkRequest, *,
                warn: Callable[[str], None]) -> SinkReport | OrgSinkCheck:
    """The sink compared with the ledger (postgres: each origin verified against its signed
    checkpoints, and this repository's rows against its ledger)."""
    if request.sink.kind == "postgres":
        _no_table(request.sink.overrides.table)
        return _verify_org(service, request, warn)
    from governance.sinks import export as sink_export
    from governance.sinks.settings import open_sink

    root = service.root
    target = open_sink(root, request.sink.kind, request.sink.overrides)
    try:
        return sink_export.verify(root, service.ledger(), target)
    finally:
        _close(target)


def sink_failure(report: SinkReport) -> Tampered | None:
    """The refusal (exit 1) when a sink does not match the ledger."""
    if report.ok:
        return None
    return Tampered(
        f"sink {report.destination} does not match the ledger: {len(report.missing)} "
        f"missing, {len(report.extra)} extra, {len(report.modified)} modified, "
        f"{len(report.other)} other problem(s)"
    )


def _verify_org(service: Service, request: VerifySinkRequest,
                warn: Callable[[str], None]) -> OrgSinkCheck:
    from governance import org_reading
    from governance.audit.org import OrgSource
    from governance.sinks.postgres_org import checked_checkpoint
    from governance.sinks.settings import SinkOverrides

    org_trust = org_reading.resolve_trust(request.trust)
    origins = list(request.origins)
    root = None
    if not origins and not request.all_origins:
        root = service.root
        origins = [checked_checkpoint(read_checkpoint(root)).origin]
    if request.sink.overrides.dsn_env is not None:
        dsn = org_reading.resolve_dsn(f"env:{request.sink.overrides.dsn_env}")
    elif root is not None:
        dsn = postgres_dsn(root, SinkOverrides(), warn)
    else:
        dsn = org_reading.resolve_dsn("postgres")
    src = OrgSource(dsn, org_trust, org_trust.require([] if request.all_origins else origins))
    ledger = None if root is None else service.ledger()
    return org_reading.verify_sink(src, ledger)


# --- sink-init -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SinkInitRequest:
    kind: str
    writer_role: str = "governance_writer"  # postgres: the role granted INSERT, SELECT
    admin_dsn_env: str = "GOVERNANCE_PG_ADMIN_DSN"  # postgres: the variable with the admin DSN
    table: str | None = None
    bucket: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class SinkInitialised:
    notes: tuple[str, ...]
    message: str  # what is ready


def sink_init(service: Service, request: SinkInitRequest) -> SinkInitialised:
    """Create the sink's append-only store (postgres tables and grants, or a locked bucket)."""
    from governance.sinks.settings import SinkOverrides, open_sink

    root = service.root
    if request.kind == "postgres":
        from governance.sinks.postgres_org import EVENTS, install_org_admin

        _no_table(request.table)
        notes = tuple(install_org_admin(request.admin_dsn_env, request.writer_role))
        return SinkInitialised(notes, f"postgres: append-only organisation tables ({EVENTS} "
                                      f"and its checkpoints) ready for role "
                                      f"{request.writer_role}")
    if request.kind == "s3":
        from governance.sinks.s3 import S3Sink, create_locked_bucket

        target = open_sink(root, "s3", SinkOverrides(bucket=request.bucket,
                                                     endpoint_url=request.endpoint_url))
        if not isinstance(target, S3Sink):  # open_sink("s3") builds one; a bug otherwise
            raise TypeError(f"open_sink('s3') returned {type(target).__name__}")
        create_locked_bucket(target.client, target.bucket)
        return SinkInitialised((), f"s3: bucket {target.bucket} created with Object Lock "
                                   "enabled")
    return SinkInitialised((), "jsonl: nothing to initialise (files are created on export)")
