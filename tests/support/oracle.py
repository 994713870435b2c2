"""Independent answers computed naively from the raw events (the stored bytes, re-parsed).

Deliberately written without the index, SQL or any shared code from governance.audit, so the
tests compare two independent implementations of the same definitions (docs/audit.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from governance.domain.events import LedgerEntry


def _events(entries: Iterable[LedgerEntry]) -> list[dict[str, Any]]:
    return [json.loads(e.stored) for e in entries]


def _when(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["timestamp"])


def live(
    entries: Iterable[LedgerEntry], model: str, env: str, at: datetime
) -> dict[str, Any] | None:
    """None when nothing was deployed by then; else release (None = switched off), since, seq."""
    state: dict[str, Any] | None = None
    for ev in _events(entries):
        if ev.get("model_name") != model or ev.get("environment") != env or _when(ev) > at:
            continue
        if ev["event_type"] in ("deployment_promoted", "break_glass"):
            release = ev.get("release_id") or ev.get("to_release")
            if not release:
                continue
        elif ev["event_type"] == "rollback_executed":
            release = ev.get("to_release") or None
        else:
            continue
        if state is None or state["release"] != release:
            state = {
                "release": release,
                "since": ev["timestamp"],
                "seq": ev["seq"],
                "actor": ev.get("actor_id"),
            }
    return state


def history(entries: Iterable[LedgerEntry], model: str) -> list[int]:
    return [ev["seq"] for ev in _events(entries) if ev.get("model_name") == model]


def query(
    entries: Iterable[LedgerEntry],
    *,
    model: str | None = None,
    types: tuple[str, ...] = (),
    actor: str | None = None,
    role: str | None = None,
    env: str | None = None,
    release: str | None = None,
    incident: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[int]:
    out = []
    for ev in _events(entries):
        if model is not None and ev.get("model_name") != model:
            continue
        if types and ev["event_type"] not in types:
            continue
        if actor is not None and ev.get("actor_id") != actor:
            continue
        if role is not None and ev.get("actor_role") != role:
            continue
        if env is not None and ev.get("environment") != env:
            continue
        if release is not None and release not in (
            ev.get("release_id"),
            ev.get("from_release"),
            ev.get("to_release"),
        ):
            continue
        if incident is not None and ev.get("incident") != incident:
            continue
        if since is not None and _when(ev) < since:
            continue
        if until is not None and _when(ev) > until:
            continue
        out.append(ev["seq"])
    return out
