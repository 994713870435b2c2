"""Questions answered from the query index: what was live, a model's timeline, audit filters.

Pure reads over an index connection (``governance.audit.index``); no ledger or git access here.

What is live (``live_release_at``) is the fold, in seq order, of the events whose timestamp is at
or before the asked time, over the event types that change a deployment (the same reading as
``governance.lifecycle.fold_lifecycle``):

- ``deployment_promoted`` and ``break_glass`` (an emergency promotion past the gates): its
  ``release_id`` becomes live in its environment;
- ``rollback_executed``: its ``to_release`` becomes live; with no ``to_release`` the model is
  switched off (the first release's declared fallback, DESIGN section 10), so nothing is live.

``release_retired`` is a registry status, not a deployment: it forbids future promotions and
rollbacks to the release but does not undeploy anything, so it never changes the answer. When the
live release had been retired by the asked time, the answer says so (``retired_at``): that is a
finding an auditor wants to see, not something to hide by answering "nothing".

"Since when" is the start of the continuous stretch: promoting the release that is already live
again does not move it; the answer's actor and decision are those of the event that started the
stretch. Ties in time are broken by seq (the ledger's order).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from governance.audit.index import (
    IndexMismatch,
    confirm_deployment,
    confirm_row,
    select_agreeing,
    select_confirmed,
    select_timeline,
)
from governance.domain.event_types import (
    APPROVAL_DECISIONS,
    APPROVAL_GRANTED,
    BREAK_GLASS,
    GATE_EVALUATED,
    GOES_LIVE,
    RELEASE_RETIRED,
    ROLLBACK_EXECUTED,
)
from governance.domain.lazy_re import lazy
from governance.errors import NotFound
from governance.timeparse import format_rfc3339, parse_instant, to_micros

if TYPE_CHECKING:
    from governance.audit.values import AuditFilter as AuditFilter
    from governance.audit.values import IndexedEvent as IndexedEvent
    from governance.audit.values import LiveRelease as LiveRelease

_VALUES = ("IndexedEvent", "LiveRelease", "AuditFilter")


def __getattr__(name: str) -> Any:
    """``IndexedEvent``, ``LiveRelease`` and ``AuditFilter`` from ``governance.audit.values``,
    imported when first asked for (PEP 562): a timeline as text and ``status`` never create
    them."""
    if name not in _VALUES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from governance.audit import values

    value = getattr(values, name)
    globals()[name] = value
    return value


_EVENT_COLUMNS = (
    "seq, event_id, event_type, timestamp, model, release_id, environment, actor_id, "
    "actor_role, incident, from_release, to_release, leaf_hash, commit_sha, checkpoint, stored"
)


def model_exists(conn: sqlite3.Connection, model: str) -> bool:
    """Whether a ledger event names ``model``; an index with no row for a model the verified
    chain knows (every row deleted or renamed) is an IndexMismatch, not an unknown model."""
    found = conn.execute("SELECT 1 FROM events WHERE model = ? LIMIT 1", (model,)).fetchone()
    if found is None:
        _chain_agrees(conn, "SELECT min(seq) FROM {t} WHERE model = ?", (model,), (None,))
    return found is not None


def _chain_agrees(conn: sqlite3.Connection, sql: str, args: Sequence[Any],
                  got: Sequence[Any] | None) -> None:
    """``sql`` (``{t}``: the table, ``{rel}``: the release made live, ``{live}``: the
    predicate of a change of what is live) answers on the verified chain what ``got`` says the
    index answered (on ``deployments``, or ``events`` when ``{live}`` is not used); else
    IndexMismatch. Nothing to check without the chain attached."""
    schema = getattr(conn, "chain", None)
    if schema is None:
        return
    held = conn.execute(sql.format(t=f"{schema}.chain", rel="live_release", live="live = 1"),
                        args).fetchone()
    if tuple(held or ()) != tuple(got or ()):
        raise IndexMismatch(f"the query index answers {tuple(got or ())!r} where the verified "
                            f"chain answers {tuple(held or ())!r} (a deleted row or an edited "
                            "column of the index)")


def _deployments(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> Any:
    """One row of ``sql`` over the index's ``deployments`` (see ``_chain_agrees``), checked
    against the same question on the verified chain."""
    got = conn.execute(sql.format(t="deployments", rel="release_id", live="1"),
                       args).fetchone()
    _chain_agrees(conn, sql, args, got)
    return got


def _require_model(conn: sqlite3.Connection, model: str) -> None:
    if not model_exists(conn, model):
        raise NotFound(
            f"unknown model {model!r}: no ledger event names it",
            hint="check the name with `governance status`; model names are slugs",
        )


def require_environment(conn: sqlite3.Connection, environment: str,
                        configured: Sequence[str]) -> None:
    """NotFound (exit 1, as ``check --env`` does) for an environment that governance.yaml does
    not define and no ledger event ever deployed to (a removed environment the ledger still
    knows stays answerable), naming the known ones."""
    if environment in configured:
        return
    seen = _deployments(conn, "SELECT 1 FROM {t} WHERE {live} AND environment = ? LIMIT 1",
                        (environment,))
    if seen is None:
        raise NotFound(f"unknown environment {environment!r}: governance.yaml does not define "
                       "it and no ledger event deploys to it",
                       hint=f"governance.yaml defines: {', '.join(configured) or 'none'}")


def live_release_at(
    conn: sqlite3.Connection, model: str, environment: str, at: datetime,
    configured: Sequence[str] | None = None,
) -> LiveRelease:
    """The release live for ``model`` in ``environment`` at ``at`` (see the module docstring).

    Raises NotFound for an unknown model, an unknown environment (when ``configured``, the
    environments governance.yaml defines, is given) or when nothing had been deployed there by
    then.
    """
    _require_model(conn, model)
    if configured is not None:
        require_environment(conn, environment, configured)
    t = to_micros(at)
    # Every answer about deployments is the same question asked of the verified chain too
    # (``_deployments``): a deleted or edited ``deployments`` row cannot change it.
    current = _deployments(
        conn,
        "SELECT seq, {rel} FROM {t} WHERE {live} AND model = ? AND environment = ? AND ts <= ? "
        "ORDER BY seq DESC LIMIT 1",
        (model, environment, t),
    )
    if current is None:
        first_seq = _deployments(
            conn, "SELECT min(seq) FROM {t} WHERE {live} AND model = ? AND environment = ?",
            (model, environment))[0]
        if first_seq is not None:  # asked too early: the answer says when it starts
            first = _event_by_seq(conn, int(first_seq))
            raise NotFound(
                f"no release of {model!r} was live in {environment!r} at "
                f"{format_rfc3339(at)}; its first deployment there is at {first.timestamp}")
        # Never deployed there: perhaps a misspelt environment; name the ones it was.
        names = str(_deployments(
            conn, "SELECT group_concat(environment, ',') FROM (SELECT DISTINCT environment "
            "FROM {t} WHERE {live} AND model = ? ORDER BY environment)", (model,))[0] or "")
        deployed = sorted(d for d in names.split(",") if d)
        if not deployed:
            raise NotFound(
                f"no release of {model!r} was live in {environment!r} at "
                f"{format_rfc3339(at)}: {model} has not been deployed anywhere yet")
        raise NotFound(
            f"no release of {model!r} was live in {environment!r} at {format_rfc3339(at)}: "
            f"the ledger records no deployment of it to {environment!r}",
            hint=f"{model} was deployed to: {', '.join(deployed)} (environments are named in "
                 "governance.yaml)",
        )
    seq, release = current
    _confirm_deployment(conn, seq)
    # The stretch began right after the last change (at or before `at`) to something else.
    before = _deployments(
        conn,
        "SELECT max(seq) FROM {t} WHERE {live} AND model = ? AND environment = ? AND ts <= ? "
        "AND seq < ? AND {rel} IS NOT ?",
        (model, environment, t, seq, release),
    )[0]
    start = _deployments(
        conn,
        "SELECT min(seq) FROM {t} WHERE {live} AND model = ? AND environment = ? AND ts <= ? "
        "AND seq > ? AND seq <= ?",
        (model, environment, t, -1 if before is None else before, seq),
    )[0]
    change = _event_by_seq(conn, int(start))
    if start != seq:
        _confirm_deployment(conn, int(start))
    retired_at = None
    if release is not None:
        retirements = _select(conn, "WHERE release_id = ? AND event_type = ? AND ts <= ? "
                              "ORDER BY seq", (release, RELEASE_RETIRED, t))
        retired_at = min((e.timestamp for e in retirements), default=None)
    from governance.audit.values import LiveRelease

    return LiveRelease(
        model=model,
        environment=environment,
        at=format_rfc3339(at),
        release_id=release,
        since=change.timestamp,
        change=change,
        retired_at=retired_at,
    )


def history(conn: sqlite3.Connection, model: str) -> list[IndexedEvent]:
    """Every event naming ``model``, in ledger order."""
    _require_model(conn, model)
    return _select(conn, "WHERE model = ? ORDER BY seq", (model,))


def _select(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[IndexedEvent]:
    """The ``events`` rows ``sql`` (its text after ``FROM events``) selects, checked row by row
    against the verified chain, and complete: the chain holds no other event for the same
    predicate (``confirm_rows``)."""
    rows, events = select_confirmed(conn, _EVENT_COLUMNS, sql, args)
    return [_indexed(row, event) for row, event in zip(rows, events, strict=True)]


def audit_query(conn: sqlite3.Connection, flt: AuditFilter) -> list[IndexedEvent]:
    """Events matching every filter, in ledger order."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("model", flt.model),
        ("actor_id", flt.actor),
        ("actor_role", flt.role),
        ("environment", flt.environment),
        ("incident", flt.incident),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if flt.event_types:
        where.append(f"event_type IN ({','.join('?' * len(flt.event_types))})")
        args.extend(flt.event_types)
    if flt.release is not None:
        where.append("(release_id = ? OR from_release = ? OR to_release = ?)")
        args.extend([flt.release] * 3)
    if flt.since is not None:
        where.append("ts >= ?")
        args.append(to_micros(flt.since))
    if flt.until is not None:
        where.append("ts <= ?")
        args.append(to_micros(flt.until))
    sql = ""
    if where:
        sql += "WHERE " + " AND ".join(where)
    sql += " ORDER BY seq"
    if flt.limit is not None:
        sql += f" LIMIT {int(flt.limit)}"
    events = _select(conn, sql, args)
    _within(events, flt)
    return events


def _within(events: Sequence[IndexedEvent], flt: AuditFilter) -> None:
    """The rows ``ts`` selected are inside --since/--until by their verified timestamps: an
    edited ``ts`` column (which ``confirm_rows`` does not read) cannot add an event to a period."""
    low = to_micros(flt.since) if flt.since is not None else None
    high = to_micros(flt.until) if flt.until is not None else None
    if low is None and high is None:
        return
    for event in events:
        at = to_micros(parse_instant(event.timestamp))
        if (low is not None and at < low) or (high is not None and at > high):
            raise IndexMismatch(f"the query index's event at seq {event.seq} is not the "
                                "verified ledger's (edited row or replaced index file)")


def summary(event: IndexedEvent) -> str:
    """One human line for a timeline entry."""
    e = event.event
    kind = event.event_type
    return _summary(kind, event.release_id, event.environment, event.actor_id,
                    event.actor_role, event.incident, event.from_release, event.to_release,
                    e.get("reason"), e.get("decision") if kind == GATE_EVALUATED else None)


def _summary(kind: str, rel: str | None, environment: str | None, actor_id: str | None,
             actor_role: str | None, incident: str | None, from_release: str | None,
             to_release: str | None, reason: Any, decision: Any) -> str:
    """``summary`` of an event given its columns and its ``reason`` and (a gate decision's)
    ``decision`` values."""
    who = actor_id or "?"
    if actor_role:
        who += f" ({actor_role})"
    env = f" in {environment}" if environment else ""
    rel = rel or ""
    if kind in GOES_LIVE:
        frm = f" replacing {from_release}" if from_release else ""
        verb = "BREAK-GLASS promoted" if kind == BREAK_GLASS else "promoted"
        text = f"{rel or to_release} {verb}{env}{frm} by {who}"
    elif kind == ROLLBACK_EXECUTED:
        to = to_release or "nothing (model switched off)"
        text = f"rolled back{env} from {from_release or rel} to {to} by {who}"
    elif kind in APPROVAL_DECISIONS:
        verb = "approved" if kind == APPROVAL_GRANTED else "denied"
        text = f"{rel} {verb}{env} by {who}"
    elif kind == GATE_EVALUATED:
        text = f"{rel} gates{env}: {decision_word(decision)}"
    else:
        text = f"{kind.replace('_', ' ')} {rel}{env} by {who}".replace("  ", " ")
    if incident:
        text += f" [incident {incident}]"
    if isinstance(reason, str) and reason:
        text += f": {reason}"
    return text


# A timeline line as text: seq right-aligned in 8 columns, timestamp, event type left-aligned in
# 19, summary (``history``'s and ``audit query``'s text; ``%`` formats a whole line in C).
TIMELINE_LINE = "%8d  %s  %-19s  %s"

# What a timeline line shows, in the order ``_python_lines`` reads them (r[0]..r[9]), then
# ``select_agreeing``'s leaf hash (r[10]), stored bytes (r[11]) and the chain's verdict.
_LINE_COLUMNS = ("seq, timestamp, event_type, release_id, environment, actor_id, actor_role, "
                 "incident, from_release, to_release")
_REASON, _DECISION = b'"reason":', b'"decision":'


def timeline_lines(conn: sqlite3.Connection, model: str) -> list[str]:
    """``timeline`` as its text shows it, one ``TIMELINE_LINE`` per event: the same events,
    checked the same way (``select_timeline``: every row against the verified chain's, its leaf
    hash from its stored bytes, the answer complete), each line written by SQLite from the
    row's columns (``_TIMELINE_SQL``) without a Python object per column. The lines SQL leaves
    (an event with a ``reason``, a decision of another shape) are written from their rows as
    ``summary`` writes them (``select_agreeing``, the same checks). Anything that disagrees
    takes ``timeline``'s path, which names it."""
    _require_model(conn, model)
    checked = select_timeline(conn, _TIMELINE_SQL, model, _REASON)
    if checked is None:
        return _full_lines(conn, model)
    lines, others = checked
    if not others:
        return lines  # the usual timeline: every line SQL's
    wanted = "[" + ",".join(str(seq) for _, seq in others) + "]"
    rows = select_agreeing(conn, _LINE_COLUMNS, "WHERE model = ? AND seq IN "
                           "(SELECT value FROM json_each(?)) ORDER BY seq", (model, wanted))
    if rows is None or [r[0] for r in rows] != [seq for _, seq in others]:
        return _full_lines(conn, model)
    for (k, _), line in zip(others, _python_lines(rows), strict=True):
        lines[k] = line
    return lines


def _python_lines(rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of ``select_agreeing`` rows (``_LINE_COLUMNS``, leaf, stored bytes, verdict)
    as ``summary`` writes them, parsing only the values a summary needs (``top_level``)."""
    gate, line = GATE_EVALUATED, TIMELINE_LINE
    return [line % (r[0], r[1], r[2], _summary(
        r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
        top_level(r[11], _REASON) if _REASON in r[11] else None,
        top_level(r[11], _DECISION) if r[2] == gate else None)) for r in rows]


def _full_lines(conn: sqlite3.Connection, model: str) -> list[str]:
    """The lines of ``history``'s events: every check in full, naming what disagrees."""
    return list(map(timeline_line, history(conn, model)))


def timeline_line(event: IndexedEvent) -> str:
    """One event as a timeline's text shows it (``TIMELINE_LINE``)."""
    return TIMELINE_LINE % (event.seq, event.timestamp, event.event_type, summary(event))


# What comes before a key of the top-level object in canonical JSON (sorted keys, no
# whitespace) when every earlier value is a string without escapes or a number, true, false
# or null: a key found right after such a prefix is a key of the top-level object, not one
# nested in a value or written inside a string.
_FLAT_HEAD = lazy(rb'\{(?:"[^"\\]*":(?:"[^"\\]*"|[-+.0-9a-zA-Z]*),)*\Z')


def top_level(stored: bytes, probe: bytes) -> Any:
    """The value of the top-level key ``probe`` (``b'"key":'``) of a stored event (canonical
    JSON, verified), or None when it has none. Absent from the bytes: absent at every depth.
    Found after a prefix of plain top-level members (``_FLAT_HEAD``): only that value is
    parsed. Anything else: the whole event is parsed (``json``) and the key looked up."""
    at = stored.find(probe)
    if at < 0:
        return None
    if _FLAT_HEAD.match(stored, 0, at):
        try:
            return _raw_decode(stored[at + len(probe):].decode("utf-8"))[0]
        except ValueError:  # not the JSON it was verified as: the whole parse decides
            pass
    event = json.loads(stored)
    return event.get(probe[1:-2].decode()) if isinstance(event, dict) else None


_raw_decode = json.JSONDecoder().raw_decode


def decision_word(decision: Any) -> str:
    """What a decision summary ({"decision_id", "allow": bool, ...}) meant, in words.

    ``deny`` only for a decision that blocked: a rollback records its target's gate result as
    advisory (``"blocking": false``; rollback is never blocked by policies added since), so a
    denial there is a warning, and says so. An allow that carried warnings says how many.
    """
    if type(decision) is not dict and not isinstance(decision, Mapping):
        return "unknown"
    allow = decision.get("allow")
    if isinstance(allow, bool):
        if not allow and decision.get("blocking") is False:
            return "warning (not blocking a rollback: its gates would not pass it now)"
        warnings = decision.get("warnings")
        if allow and isinstance(warnings, list) and warnings:
            return f"allow with {len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
        return "allow" if allow else "deny"
    result = decision.get("result")
    return str(result) if isinstance(result, str) and result else "unknown"


def _sql_text(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _sql_names(names: Sequence[str]) -> str:
    return ", ".join(map(_sql_text, names))


def _sql_words() -> str:
    """``decision_word`` in SQL for the usual decisions, keyed by the JSON array of a gate
    event's ``decision.allow``, ``decision.blocking`` and ``decision.warnings`` (SQLite's
    ``json_extract`` with three paths: a missing one is null): ``allow`` a boolean,
    ``blocking`` absent, null or a boolean, ``warnings`` absent, null or empty. Each word is
    ``decision_word``'s own for that decision; any other array (warnings, another shape, no
    decision object) is NULL, left to Python."""
    cases = []
    no_warnings: tuple[list[str] | None, ...] = (None, [])
    for allow in (True, False):
        for blocking in (None, True, False):
            for warnings in no_warnings:
                key = json.dumps([allow, blocking, warnings], separators=(",", ":"))
                word = decision_word({"allow": allow, "blocking": blocking,
                                      "warnings": warnings})
                cases.append(f"WHEN {_sql_text(key)} THEN {_sql_text(word)}")
    return ("CASE json_extract(CAST(e.stored AS TEXT), '$.decision.allow', "
            "'$.decision.blocking', '$.decision.warnings') " + " ".join(cases) + " END")


# ``_summary`` in SQL over an index row ``e`` whose columns are the verified chain's (every
# identifier a non-empty string or NULL; ``<> ''`` and NULLIF keep Python's truthiness for an
# empty one anyway). Text is joined with ``||``, which keeps every character (a NUL included);
# a gate's decision word is ``_sql_words``'s or NULL. Not here: an event's ``reason`` (a
# stored value with its own escapes), left to Python by the caller.
_WHO = ("coalesce(NULLIF(e.actor_id, ''), '?') || CASE WHEN e.actor_role <> '' "
        "THEN ' (' || e.actor_role || ')' ELSE '' END")
_ENV = "CASE WHEN e.environment <> '' THEN ' in ' || e.environment ELSE '' END"
_REL = "coalesce(e.release_id, '')"
_SUMMARY_SQL = (
    f"CASE WHEN e.event_type IN ({_sql_names(GOES_LIVE)}) THEN "
    "CASE WHEN e.release_id <> '' THEN e.release_id ELSE coalesce(e.to_release, 'None') END "
    f"|| CASE e.event_type WHEN '{BREAK_GLASS}' THEN ' BREAK-GLASS promoted' "
    f"ELSE ' promoted' END || {_ENV} || CASE WHEN e.from_release <> '' "
    f"THEN ' replacing ' || e.from_release ELSE '' END || ' by ' || {_WHO} "
    f"WHEN e.event_type = '{ROLLBACK_EXECUTED}' THEN 'rolled back' || {_ENV} || ' from ' || "
    f"CASE WHEN e.from_release <> '' THEN e.from_release ELSE {_REL} END || ' to ' || "
    "coalesce(NULLIF(e.to_release, ''), 'nothing (model switched off)') || ' by ' || "
    f"{_WHO} "
    f"WHEN e.event_type IN ({_sql_names(APPROVAL_DECISIONS)}) THEN {_REL} || "
    f"CASE e.event_type WHEN '{APPROVAL_GRANTED}' THEN ' approved' ELSE ' denied' END || "
    f"{_ENV} || ' by ' || {_WHO} "
    f"WHEN e.event_type = '{GATE_EVALUATED}' THEN {_REL} || ' gates' || {_ENV} || ': ' || "
    f"{_sql_words()} "
    f"ELSE replace(replace(e.event_type, '_', ' ') || ' ' || {_REL} || {_ENV} || ' by ' || "
    f"{_WHO}, '  ', ' ') END "
    "|| CASE WHEN e.incident <> '' THEN ' [incident ' || e.incident || ']' ELSE '' END"
)
# ``TIMELINE_LINE`` in SQL (``%!-19s``: the width in characters, as Python's), NULL for an
# event type or timestamp holding a NUL (``printf``'s ``%s`` would stop there).
_TIMELINE_SQL = (
    "CASE WHEN instr(e.event_type, char(0)) = 0 AND instr(e.timestamp, char(0)) = 0 THEN "
    f"printf('%8d  %s  %!-19s  ', e.seq, e.timestamp, e.event_type) || {_SUMMARY_SQL} END"
)


def _event_by_seq(conn: sqlite3.Connection, seq: int) -> IndexedEvent:
    row = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        raise IndexMismatch(f"the query index has no event at seq {seq}")
    return _event(conn, row)


def _confirm_deployment(conn: sqlite3.Connection, seq: int) -> None:
    """The deployments row at ``seq`` is the change its verified event makes."""
    dep = conn.execute("SELECT seq, model, environment, ts, release_id FROM deployments "
                       "WHERE seq = ?", (seq,)).fetchone()
    row = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
    if dep is None or row is None:
        raise IndexMismatch(f"the query index lost the deployment at seq {seq}")
    confirm_deployment(conn, dep, row)


def _event(conn: sqlite3.Connection, row: Sequence[Any]) -> IndexedEvent:
    """An event row, checked against the verified ledger first (``confirm_row``)."""
    confirm_row(conn, row)
    return _indexed(row, json.loads(row[15]))


def _indexed(row: Sequence[Any], event: Mapping[str, Any]) -> IndexedEvent:
    """The row (``_EVENT_COLUMNS`` order: the fields' order) as an IndexedEvent, in one step
    (``tuple.__new__``: a timeline builds thousands, 6,001 for one model at 3,000 releases);
    the same object as ``IndexedEvent(...)`` (tests/unit/audit/test_queries.py)."""
    from governance.audit.values import IndexedEvent

    return tuple.__new__(IndexedEvent, (*row[:15], event))
