"""Evidence commands: ``diff``, ``explain`` and ``report``.

``diff`` and ``explain`` parse their options into a typed request, call one use case of
``governance.reading`` with the composition root (``governance.service.Service``) and render the
result through a renderer registry (``governance.cli.render``). ``report`` asks the root for an
answer from the query index caught up with the verified ledger, calls one function of
``governance.audit.answers``, renders and returns. Errors go through the application's funnel:
an unknown release or model is exit 1, a malformed time exit 2 (DESIGN sections 8 and 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import org_reading, reading
from governance.audit.diff import ReleaseDiff
from governance.audit.diff import render_text as diff_text
from governance.audit.explain import render_text as explain_text
from governance.cli import commands_org
from governance.cli.options import (
    ORIGIN,
    REPO,
    SOURCE,
    TRUST,
    env_option,
)
from governance.cli.output import OutputFormat, emit_block, emit_document, log
from governance.cli.render import Renderers, emit_to_json
from governance.errors import UsageError
from governance.service import Service
from governance.timeparse import parse_time, utc_now

if TYPE_CHECKING:
    from governance.report.evidence import EvidenceReport
    from governance.report.org import OrgReport

REPORT: Renderers[_Delivery] = Renderers("evidence report")


@REPORT.register(OutputFormat.markdown)
def _report_markdown(delivery: _Delivery) -> None:
    from governance.report.markdown import render_markdown

    _deliver(render_markdown(delivery.bundle), OutputFormat.markdown, delivery.out)


@REPORT.register(OutputFormat.html)
def _report_html(delivery: _Delivery) -> None:
    from governance.report.html import render_html

    _deliver(render_html(delivery.bundle), OutputFormat.html, delivery.out)


REPORT_FORMAT = REPORT.option(default=OutputFormat.markdown)  # the organisation report's too


@dataclass(frozen=True)
class _OrgDelivery:
    """The organisation report and where it goes (None: stdout)."""

    bundle: OrgReport
    out: Path | None


ORG_REPORT: Renderers[_OrgDelivery] = Renderers("organisation report")


@ORG_REPORT.register(OutputFormat.markdown)
def _org_markdown(delivery: _OrgDelivery) -> None:
    from governance.report.org import render_org_markdown

    _deliver(render_org_markdown(delivery.bundle), OutputFormat.markdown, delivery.out)


@ORG_REPORT.register(OutputFormat.html)
def _org_html(delivery: _OrgDelivery) -> None:
    from governance.report.org import render_org_html

    _deliver(render_org_html(delivery.bundle), OutputFormat.html, delivery.out)


DIFF: Renderers[ReleaseDiff] = Renderers("diff")
DIFF.register(OutputFormat.json)(emit_to_json)
DIFF.register(OutputFormat.text)(lambda result: emit_block(diff_text(result)))

EXPLAIN: Renderers[reading.ExplainResult] = Renderers("explain")
EXPLAIN.register(OutputFormat.json)(emit_to_json)
EXPLAIN.register(OutputFormat.text)(lambda result: emit_block(explain_text(result.explanation)))
DIFF_FORMAT, EXPLAIN_FORMAT = DIFF.option(), EXPLAIN.option()


def diff(
    release_a: str = typer.Argument(..., help="The earlier release (id or directory)."),
    release_b: str = typer.Argument(..., help="The later release (id or directory)."),
    fmt: OutputFormat = DIFF_FORMAT,
    repo: Path = REPO,
) -> None:
    """What changed from RELEASE_A to RELEASE_B: data, code, features, config, artifact,
    metrics and subgroups with deltas, model card, policy bundle and approvers."""
    DIFF.render(fmt, reading.diff(Service(repo), reading.DiffRequest(release_a, release_b)))


def explain(
    target: str = typer.Argument(
        ..., help="A release id, or a model name together with --env."
    ),
    env: str | None = env_option("Environment: explain the release of MODEL live there at --at."),
    at: str | None = typer.Option(
        None,
        "--at",
        help="RFC 3339 time or relative (30d, 12mo); default now. Only events up to it count.",
    ),
    fmt: OutputFormat = EXPLAIN_FORMAT,
    repo: Path = REPO,
    source_url: str | None = SOURCE,
    origin: list[str] = ORIGIN,
    trust: Path | None = TRUST,
) -> None:
    """The six answers (artifact, data/code/config, evaluation, approvals, audit trail,
    rollback) with their evidence, for RELEASE_ID or for what MODEL had live in --env at --at.
    With --source: the ledger's part of them for RELEASE_ID across repositories."""
    moment = parse_time(at, option="--at") if at is not None else None
    if source_url is not None:
        if env is not None:
            raise UsageError("explain --source takes a release id; for what was live, ask "
                             "`governance live MODEL --env E --at T --source ...`")
        org = org_reading.explain(org_reading.OrgExplainRequest(
            org_reading.OrgRequest(source_url, tuple(origin), trust), target, moment))
        commands_org.warn(org.envelope)
        return commands_org.EXPLAINED.render(fmt, org)
    result = reading.explain(Service(repo), reading.ExplainRequest(target, env, moment))
    if result.live is not None and result.live.live.retired_at:
        log(f"warning: {result.live.live.release_id} was retired at "
            f"{result.live.live.retired_at} and was still live then")
    EXPLAIN.render(fmt, result)


def report(
    release_id: str | None = typer.Argument(
        None, help="The release to report on (omit with --org)."),
    fmt: OutputFormat = REPORT_FORMAT,
    out: Path | None = typer.Option(
        None, "--out", help="Write the report to this file instead of stdout."
    ),
    env: str | None = env_option("Environment whose required roles and release history are "
                                 "shown (default: the one with the most required roles)."),
    repo: Path = REPO,
    org: bool = typer.Option(
        False, "--org", help="The organisation report from --source: every origin's models, "
        "live releases, open break-glass obligations, stale evaluations, approvals and "
        "rollbacks in the period."),
    source_url: str | None = SOURCE,
    origin: list[str] = ORIGIN,
    trust: Path | None = TRUST,
    since: str = typer.Option("12mo", "--since", help="--org: period start (RFC 3339 or "
                              "relative: 12mo, 30d)."),
    until: str = typer.Option("now", "--until", help="--org: period end, inclusive."),
    max_eval_age: str = typer.Option(
        "90d", "--max-eval-age", help="--org: flag live releases whose latest evaluation is "
        "older than this (30m, 12h, 90d)."),
) -> None:
    """The evidence bundle an auditor keeps: the six answers, the model card with approval
    status derived from the ledger, the gate decision, approvers, the diff against the previous
    production release and an SVG timeline of promotions and rollbacks. With --org --source:
    the organisation report across repositories."""
    if out is not None:
        _check_out(out)
    if org or source_url is not None:
        if not (org and source_url is not None) or release_id is not None:
            raise UsageError("the organisation report is `governance report --org --source "
                             "postgres|env:NAME [--origin O] --format html|markdown` (no "
                             "RELEASE_ID)")
        return _org_report(source_url, origin, trust, since, until, max_eval_age, fmt, out)
    if release_id is None:
        raise UsageError("report: missing RELEASE_ID (or --org --source ... for the "
                         "organisation report)")
    bundle = reading.report(Service(repo), reading.ReportRequest(release_id, env))
    REPORT.render(fmt, _Delivery(bundle, out))


@dataclass(frozen=True)
class _Delivery:
    """A report and where it goes (None: stdout)."""

    bundle: EvidenceReport
    out: Path | None


def _deliver(text: str, fmt: OutputFormat, out: Path | None) -> None:
    if out is None:
        emit_document(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"--out {out}: cannot write the report: {err.strerror}") from None
    log(f"wrote {out} ({fmt.value}, {len(text.encode('utf-8'))} bytes)")


def _check_out(out: Path) -> None:
    """Refuse an --out the report cannot be written to before any work is done (exit 2)."""
    if out.is_dir():
        raise UsageError(f"--out {out}: is a directory", hint="name a file, e.g. report.md")
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(f"--out {out}: directory {parent} does not exist",
                         hint=f"create it first (mkdir -p {parent})")


def _org_report(source_url: str, origin: list[str], trust: Path | None, since: str,
                until: str, max_eval_age: str, fmt: OutputFormat, out: Path | None) -> None:
    from governance.audit.org import duration

    now = utc_now()
    start = parse_time(since, now=now, option="--since")
    end = parse_time(until, now=now, option="--until")
    try:
        limit = duration(max_eval_age)
    except ValueError as err:
        raise UsageError(f"--max-eval-age: {err}") from None
    bundle = org_reading.report(org_reading.OrgReportRequest(
        org_reading.OrgRequest(source_url, tuple(origin), trust), start, end, limit, now))
    for section in bundle.sections:
        if section.stale:
            log(f"warning: origin {section.origin} is stale: last export "
                f"{section.last_export or 'never'}")
    ORG_REPORT.render(fmt, _OrgDelivery(bundle, out))


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the application."""
    app.command("diff")(diff)
    app.command("explain")(explain)
    app.command("report")(report)
