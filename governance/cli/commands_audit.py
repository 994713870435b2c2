"""Evidence commands: ``live``, ``history``, ``audit query|export|verify-sink|sink-init``.

Each command parses its options into a typed request, calls one use case
(``governance.reading`` for the queries, ``governance.sinks.export`` for the sinks) and renders
the result through a renderer registry (``governance.cli.render``: format -> renderer). The
repository, the verified ledger and the index come from the composition root
(``governance.service.Service``), the one port to the ledger (tests feed a synthetic ledger
through ``governance.service.open_ledger``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import reading
from governance.audit import queries
from governance.cli import reads
from governance.cli.app_support import new_app
from governance.cli.options import (
    AT,
    ORIGIN,
    REPO,
    SOURCE,
    TRUST,
    VERIFIED_PREFIX,
    check_source_flags,
    env_option,
    limit_option,
)
from governance.cli.output import OutputFormat, emit_text, log
from governance.cli.reads import EVENTS, LIVE, warn_prefix
from governance.cli.render import Renderers, emit_to_json
from governance.service import Service
from governance.timeparse import parse_time, utc_now

if TYPE_CHECKING:
    from governance.exporting import SinkInitialised
    from governance.org_reading import OrgEvents
    from governance.sinks.export import ExportResult
    from governance.sinks.export import VerifyReport as SinkReport
    from governance.sinks.postgres_org import OrgExportResult


class SinkKind(StrEnum):
    jsonl = "jsonl"
    postgres = "postgres"
    s3 = "s3"


# SinkKind lists governance.sinks.settings.SINK_KINDS (tests/unit/test_import_budget.py checks
# it): the sinks are imported by the commands that export, not by every query (issue 18).


EVENTS_FORMAT = EVENTS.option()
LIVE_FORMAT = LIVE.option()


def live(
    model: str = typer.Argument(..., help="Model name."),
    env: str = env_option("Environment, e.g. production.", required=True),
    at: str = AT,
    fmt: OutputFormat = LIVE_FORMAT,
    repo: Path = REPO,
    verified_prefix: bool = VERIFIED_PREFIX,
    source_url: str | None = SOURCE,
    origin: list[str] = ORIGIN,
    trust: Path | None = TRUST,
) -> None:
    """Which release was live for MODEL in an environment at a time (first line: its id)."""
    if source_url is None and not origin and trust is None:  # the local ledger
        reads.live(model, env, at, fmt, repo, verified_prefix)  # also the fast path's
        return
    moment = parse_time(at, option="--at")
    check_source_flags(source_url, origin, trust, verified_prefix)
    if source_url is not None:  # the organisation's database: its modules load only here
        from governance import org_reading
        from governance.cli import commands_org

        org = org_reading.live(org_reading.OrgLiveRequest(
            org_reading.OrgRequest(source_url, tuple(origin), trust), model, env, moment))
        commands_org.warn(org.envelope)
        commands_org.LIVE.render(fmt, org)
        refusal = org.nothing_live()
        if refusal is not None:
            raise refusal


def history(
    model: str = typer.Argument(..., help="Model name."),
    fmt: OutputFormat = EVENTS_FORMAT,
    repo: Path = REPO,
    verified_prefix: bool = VERIFIED_PREFIX,
    source_url: str | None = SOURCE,
    origin: list[str] = ORIGIN,
    trust: Path | None = TRUST,
) -> None:
    """The timeline of MODEL: registration, gates, approvals, promotions, rollbacks, ..."""
    check_source_flags(source_url, origin, trust, verified_prefix)
    if source_url is not None:  # the organisation's database: its modules load only here
        from governance import org_reading

        return _org_events(fmt, org_reading.history(org_reading.OrgHistoryRequest(
            org_reading.OrgRequest(source_url, tuple(origin), trust), model)))
    reads.history(model, fmt, repo, verified_prefix)  # also the fast path's


def _org_events(fmt: OutputFormat, events: OrgEvents) -> None:
    """Render events answered from the organisation's database, after its freshness warnings
    (``history`` and ``audit query`` with ``--source``)."""
    from governance.cli import commands_org

    commands_org.warn(events.envelope)
    commands_org.EVENTS.render(fmt, events)


_TYPES = typer.Option([], "--type", help="Event type (repeatable).")

audit_app = new_app("Audit trail: query the evidence, export it to durable sinks, verify them.")


@audit_app.command("query")
def audit_query(
    model: str | None = typer.Option(None, "--model", help="Model name."),
    types: list[str] = _TYPES,
    actor: str | None = typer.Option(None, "--actor", help="Actor id (person or bot)."),
    role: str | None = typer.Option(None, "--role", help="Actor role, e.g. risk_owner."),
    env: str | None = env_option("Environment."),
    release: str | None = typer.Option(
        None, "--release", help="Release id (also matches rollbacks from or to it)."
    ),
    incident: str | None = typer.Option(None, "--incident", help="Incident id."),
    since: str | None = typer.Option(None, "--since", help="From (RFC 3339 or 12mo, 30d...)."),
    until: str | None = typer.Option(None, "--until", help="Until, inclusive."),
    limit: int | None = limit_option(None, "At most this many events"),
    fmt: OutputFormat = EVENTS_FORMAT,
    repo: Path = REPO,
    verified_prefix: bool = VERIFIED_PREFIX,
    source_url: str | None = SOURCE,
    origin: list[str] = ORIGIN,
    trust: Path | None = TRUST,
) -> None:
    """Events matching every given filter, in ledger order (with --source: across
    repositories, in time order)."""
    now = utc_now()
    flt = queries.AuditFilter(
        model=model,
        event_types=tuple(types),
        actor=actor,
        role=role,
        environment=env,
        release=release,
        incident=incident,
        since=parse_time(since, now=now, option="--since") if since is not None else None,
        until=parse_time(until, now=now, option="--until") if until is not None else None,
        limit=limit,
    )
    check_source_flags(source_url, origin, trust, verified_prefix)
    if source_url is not None:  # the organisation's database: its modules load only here
        from governance import org_reading

        return _org_events(fmt, org_reading.audit_query(org_reading.OrgQueryRequest(
            org_reading.OrgRequest(source_url, tuple(origin), trust), flt)))
    result = reading.audit_query(Service(repo), reading.AuditQueryRequest(flt, verified_prefix))
    warn_prefix(result.prefix)
    EVENTS.render(fmt, result)


EXPORTED: Renderers[ExportResult | OrgExportResult] = Renderers("export")
EXPORTED.register(OutputFormat.json)(emit_to_json)


@EXPORTED.register(OutputFormat.text)
def _exported_text(result: ExportResult | OrgExportResult) -> None:
    # told apart without importing the PostgreSQL module: psycopg is an optional extra
    from governance.sinks.export import ExportResult

    if not isinstance(result, ExportResult):  # one origin's rows, proved by its checkpoint
        emit_text(
            f"exported {result.exported} new event(s) of origin {result.origin} to "
            f"{result.destination} (signed checkpoint size {result.checkpoint_size}; "
            f"ledger size {result.ledger_size}; {result.pending} pending the next "
            "checkpoint)")
    else:
        emit_text(
            f"exported {result.exported} new event(s) to {result.destination} "
            f"({result.sent} sent; ledger head seq {result.head_seq})"
        )


SINK_CHECKED: Renderers[SinkReport] = Renderers("sink verification")
SINK_CHECKED.register(OutputFormat.json)(emit_to_json)


@SINK_CHECKED.register(OutputFormat.text)
def _sink_checked_text(report: SinkReport) -> None:
    status = "ok" if report.ok else "FAILED"
    emit_text(
        f"{status}: {report.destination}: {report.sink_rows} row(s) for "
        f"{report.ledger_entries} ledger event(s), {report.pending} pending export"
    )
    for title, findings in (
        ("missing", report.missing),
        ("extra", report.extra),
        ("modified", report.modified),
    ):
        for f in findings:
            emit_text(f"{title}: {f.render()}")
    for problem in report.other:
        emit_text(f"problem: {problem}")


SINK_READY: Renderers[SinkInitialised] = Renderers("sink initialisation")


@SINK_READY.register(OutputFormat.text)
def _sink_ready_text(done: SinkInitialised) -> None:
    for note in done.notes:
        log(f"note: {note}")
    emit_text(done.message)


EXPORTED_FORMAT, SINK_CHECKED_FORMAT = EXPORTED.option(), SINK_CHECKED.option()

_SINK = typer.Option(SinkKind.jsonl, "--sink", help="jsonl (default), postgres or s3.")
_DIR = typer.Option(None, "--dir", help="jsonl: export directory.")
_DSN_ENV = typer.Option(None, "--dsn-env", help="postgres: variable holding the DSN.")
_TABLE = typer.Option(None, "--table", help="postgres: table name.")
_BUCKET = typer.Option(None, "--bucket", help="s3: bucket (Object Lock enabled).")
_PREFIX = typer.Option(None, "--prefix", help="s3: key prefix.")
_DAYS = typer.Option(None, "--retention-days", help="s3: compliance retention per object.")
_ENDPOINT = typer.Option(None, "--endpoint-url", help="s3: S3-compatible endpoint URL.")


@audit_app.command("export")
def audit_export(
    sink: SinkKind = _SINK,
    directory: str | None = _DIR,
    dsn_env: str | None = _DSN_ENV,
    table: str | None = _TABLE,
    bucket: str | None = _BUCKET,
    prefix: str | None = _PREFIX,
    retention_days: int | None = _DAYS,
    endpoint_url: str | None = _ENDPOINT,
    fmt: OutputFormat = EXPORTED_FORMAT,
    repo: Path = REPO,
) -> None:
    """Export ledger events after the cursor to a sink (idempotent, resumable)."""
    from governance import exporting
    from governance.sinks.settings import SinkOverrides

    request = exporting.ExportRequest(exporting.SinkRequest(sink.value, SinkOverrides(
        directory, dsn_env, table, bucket, prefix, retention_days, endpoint_url)))
    EXPORTED.render(fmt, exporting.export(Service(repo), request, warn=log))


@audit_app.command("verify-sink")
def audit_verify_sink(
    sink: SinkKind = _SINK,
    directory: str | None = _DIR,
    dsn_env: str | None = _DSN_ENV,
    table: str | None = _TABLE,
    bucket: str | None = _BUCKET,
    prefix: str | None = _PREFIX,
    endpoint_url: str | None = _ENDPOINT,
    fmt: OutputFormat = SINK_CHECKED_FORMAT,
    repo: Path = REPO,
    origin: list[str] = typer.Option(
        [], "--origin", help="postgres: verify this ledger origin (repeatable; default: this "
        "repository's)."),
    all_origins: bool = typer.Option(
        False, "--all-origins", help="postgres: verify every origin pinned in the trust file."),
    trust: Path | None = TRUST,
) -> None:
    """Compare a sink with the ledger: missing, extra and modified rows (exit 1 if any).
    postgres: every row of each origin verified against its signed checkpoints, and this
    repository's rows against its ledger."""
    from governance import exporting, org_reading
    from governance.cli import commands_org
    from governance.sinks.settings import SinkOverrides

    request = exporting.VerifySinkRequest(
        exporting.SinkRequest(sink.value, SinkOverrides(directory, dsn_env, table, bucket,
                                                        prefix, None, endpoint_url)),
        tuple(origin), all_origins, trust)
    result = exporting.verify_sink(Service(repo), request, warn=log)
    if isinstance(result, org_reading.OrgSinkCheck):
        commands_org.warn(result.envelope)
        commands_org.SINK_CHECKED.render(fmt, result)
        failure = result.failure()
    else:
        SINK_CHECKED.render(fmt, result)
        failure = exporting.sink_failure(result)
    if failure is not None:
        raise failure


@audit_app.command("sink-init")
def audit_sink_init(
    sink: SinkKind = _SINK,
    writer_role: str = typer.Option(
        "governance_writer", "--writer-role", help="postgres: role granted INSERT, SELECT."
    ),
    admin_dsn_env: str = typer.Option(
        "GOVERNANCE_PG_ADMIN_DSN", "--admin-dsn-env", help="postgres: variable with admin DSN."
    ),
    table: str | None = _TABLE,
    bucket: str | None = _BUCKET,
    endpoint_url: str | None = _ENDPOINT,
    repo: Path = REPO,
) -> None:
    """Create the sink's append-only store (postgres table and grants, or a locked S3 bucket)."""
    from governance import exporting

    request = exporting.SinkInitRequest(sink.value, writer_role, admin_dsn_env, table, bucket,
                                        endpoint_url)
    SINK_READY.render(OutputFormat.text, exporting.sink_init(Service(repo), request))


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the application."""
    app.command("live")(live)
    app.command("history")(history)
    app.add_typer(audit_app, name="audit")
