"""The read queries ``live``, ``history`` and ``status`` on the local ledger: bodies and renderers.

One implementation, two callers: the typer commands (``governance.cli.commands_audit``,
``governance.cli.commands_lifecycle``) and the fast path of the entry point
(``governance.cli.fast``, which answers these command lines without importing typer or click:
issue 18). Each body takes the parsed options, calls its use case (``governance.reading``) with
the composition root (``governance.service.Service``), renders the result through its renderer
registry and returns the exit code; a ``GovernanceError`` it raises goes through the error
funnel of the caller (``governance.cli.funnel``, shared too).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from governance import reading
from governance.audit import queries
from governance.cli.output import OutputFormat, emit_block, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.errors import NotFound
from governance.safe_text import join_lines
from governance.service import Service
from governance.timeparse import parse_time

_COLUMNS = (
    "seq",
    "timestamp",
    "event_type",
    "model",
    "release_id",
    "environment",
    "actor_id",
    "actor_role",
    "incident",
    "event_id",
)


EVENTS: Renderers[reading.EventsResult] = Renderers("events")


EVENTS.register(OutputFormat.json)(emit_to_json)


@EVENTS.register(OutputFormat.csv)
def _events_csv(result: reading.EventsResult) -> None:
    import csv  # only for this format

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow((*_COLUMNS, "summary"))
    for e in result.events:
        writer.writerow((*(getattr(e, c) or "" for c in _COLUMNS), queries.summary(e)))
    if result.prefix is not None:
        writer.writerow(("#", result.prefix.line()))


@EVENTS.register(OutputFormat.text)
def _events_text(result: reading.EventsResult) -> None:
    _timeline_text(list(map(queries.timeline_line, result.events)), result.prefix)


def _timeline_text(lines: Sequence[str], prefix: reading.PrefixNote | None) -> None:
    """A timeline as text, one event a line (``history``'s, ``audit query``'s)."""
    if lines:  # one write: a long timeline is not echoed line by line
        emit_block(join_lines(lines))
    if prefix is not None:
        emit_text(prefix.line())
    log(f"{len(lines)} event{'s' if len(lines) != 1 else ''}")


LIVE: Renderers[reading.LiveResult] = Renderers("live")


LIVE.register(OutputFormat.json)(emit_to_json)


@LIVE.register(OutputFormat.text)
def _live_text(result: reading.LiveResult) -> None:
    answer, data = result.answer, result.to_json()
    if answer.release_id is None:
        return  # nothing was live: the command says so on stderr (NotFound, exit 1)
    emit_text(answer.release_id)
    change = answer.change
    emit_text(f"model: {result.request.model}  environment: {result.request.environment}  "
              f"at: {answer.at}")
    emit_text(
        f"since: {answer.since} ({change.event_type}, seq {change.seq}, "
        f"event {change.event_id}, commit {change.commit[:12]})"
    )
    role = f" ({change.actor_role})" if change.actor_role else ""
    emit_text(f"by: {change.actor_id}{role}")
    decision = data.get("decision")
    if isinstance(decision, dict):
        emit_text(
            f"decision: {decision.get('decision_id') or 'unknown'} "
            f"{queries.decision_word(decision)}"
        )
    if data.get("policy_digest"):
        emit_text(f"policy: {data['policy_digest']}")
    if change.incident or data.get("reason"):
        emit_text(f"incident: {change.incident or 'none'}  "
                  f"reason: {data.get('reason') or 'none given'}")
    if answer.retired_at:
        emit_text(f"warning: this release was retired at {answer.retired_at}")
    if result.prefix is not None:
        emit_text(result.prefix.line())


STATUS: Renderers[reading.StatusResult] = Renderers("status")


STATUS.register(OutputFormat.json)(emit_to_json)


@STATUS.register(OutputFormat.text)
def _status_text(result: reading.StatusResult) -> None:
    from governance.status import render_text

    if not result.statuses:  # a new repository: say so instead of printing an empty line
        emit_text("no models yet: register one with `governance model new NAME --owner ID`")
    else:
        emit_block(render_text(list(result.statuses)))
    if result.prefix is not None:
        emit_text(result.prefix.line())


def warn_prefix(prefix: reading.PrefixNote | None) -> None:
    """An answer from the verified prefix says so on stderr too, before the answer."""
    if prefix is not None:
        log(prefix.warning())


def live(model: str, env: str, at: str, fmt: OutputFormat, repo: Path,
         verified_prefix: bool) -> int:
    """``governance live MODEL --env ENV`` on the local ledger: the release live at ``at``
    (NotFound, exit 1, when nothing was)."""
    moment = parse_time(at, option="--at")
    result = reading.live(Service(repo), reading.LiveRequest(model, env, moment,
                                                             verified_prefix))
    warn_prefix(result.prefix)
    LIVE.render(fmt, result)
    answer = result.answer
    if answer.release_id is None:
        raise NotFound(
            f"nothing was live for {model!r} in {env!r} at {answer.at}: switched off by "
            f"rollback at {answer.since} (seq {answer.change.seq}, incident "
            f"{answer.change.incident or '-'})"
        )
    return 0


def history(model: str, fmt: OutputFormat, repo: Path, verified_prefix: bool) -> int:
    """``governance history MODEL`` on the local ledger: its timeline. As text, the lines
    alone (``reading.history_lines``: the same events checked the same way, without building
    the events the text does not show)."""
    request = reading.HistoryRequest(model, verified_prefix)
    if OutputFormat(fmt) is OutputFormat.text:
        lines = reading.history_lines(Service(repo), request)
        warn_prefix(lines.prefix)
        _timeline_text(lines.lines, lines.prefix)
        return 0
    result = reading.history(Service(repo), request)
    warn_prefix(result.prefix)
    EVENTS.render(fmt, result)
    return 0


def status(model: str | None, fmt: OutputFormat, verified_prefix: bool, every: bool,
           limit: int, repo: Path) -> int:
    """``governance status [MODEL]``: exit 1 when a pointer drifted from the ledger."""
    request = reading.StatusRequest(model or None, None if every else limit, verified_prefix)
    result = reading.status(Service(repo), request)
    if result.prefix is not None:
        log(result.prefix.warning())
    STATUS.render(fmt, result)
    return 1 if result.drift else 0
