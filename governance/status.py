"""What `governance status` reports: per model and environment, the live release, the fallback,
pointer drift against the ledger, release states and open obligations (pure over the fold).

The fold of one model needs only the events that name it: ``model_state`` reads them from the
query index (``governance/audit/index.py``, caught up incrementally from the ledger and refusing
a rewritten one) instead of reading and folding the whole ledger on every call. Every event the
fold acts on (registration, gates, approvals, promotions, break-glass, rollbacks, retirement)
carries ``model_name``, so the per-model fold equals the whole-ledger fold for that model
(tests/integration/lifecycle checks the two agree).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from governance.audit import queries
from governance.lifecycle import LifecycleState, fold_lifecycle
from governance.promotion import pointer_drift
from governance.repo import GovernedRepo


@dataclass(frozen=True)
class ModelStatus:
    model: str
    environments: tuple[dict[str, Any], ...]
    releases: tuple[dict[str, Any], ...]
    obligations: tuple[dict[str, Any], ...]
    drift: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "environments": list(self.environments),
                "releases": list(self.releases), "obligations": list(self.obligations),
                "drift": list(self.drift)}


def model_state(conn: sqlite3.Connection, model: str) -> LifecycleState:
    """The lifecycle of ``model`` folded from the index's events that name it."""
    if not queries.model_exists(conn, model):
        return LifecycleState()
    return fold_lifecycle(queries.history(conn, model))


def model_status(repo: GovernedRepo, state: LifecycleState, model: str) -> ModelStatus:
    envs = []
    drift = []
    for env in repo.config.environments:
        current = state.current(model, env)
        envs.append({
            "environment": env,
            "live": current.release_id if current else None,
            "since": current.since if current else None,
            "by": current.actor_id if current else None,
            "via": current.event_type if current else None,
            "seq": current.seq if current else None,
            "fallback": state.fallback(model, env),
        })
        problem = pointer_drift(repo, state, model, env)
        if problem:
            drift.append(problem + " (re-run the promote or rollback to repair)")
    releases = []
    on_disk = {d.name for d in repo.release_dirs(model)}
    for rid in sorted(on_disk | {r for r, life in state.releases.items()
                                 if life.model_name == model}):
        life = state.release(rid)
        releases.append({"release_id": rid, "state": life.state if life else "draft",
                         "approved_digest": life.approved_digest if life else None,
                         "on_disk": rid in on_disk})
    obligations = tuple({"kind": o.kind, "event_id": o.event_id, "seq": o.seq,
                         "release_id": o.release_id, "environment": o.environment,
                         "incident": o.incident, "opened_at": o.opened_at, "by": o.actor_id}
                        for o in state.open_obligations(model))
    return ModelStatus(model=model, environments=tuple(envs), releases=tuple(releases),
                       obligations=obligations, drift=tuple(drift))


def render_text(statuses: list[ModelStatus]) -> str:
    lines = []
    for st in statuses:
        lines.append(st.model)
        for env in st.environments:
            live = env["live"] or "nothing live"
            since = f" since {env['since']} by {env['by']} (seq {env['seq']})" if env["live"] \
                else ""
            lines.append(f"  {env['environment']}: {live}{since}; "
                         f"fallback {env['fallback'] or 'none'}")
        for ob in st.obligations:
            lines.append(f"  OPEN {ob['kind']}: {ob['release_id']} in {ob['environment']} "
                         f"(incident {ob['incident'] or '-'}, opened {ob['opened_at']} by "
                         f"{ob['by']}) until a post-hoc approval closes it")
        for d in st.drift:
            lines.append(f"  DRIFT {d}")
        for r in st.releases:
            lines.append(f"  {r['release_id']}: {r['state']}")
    return "\n".join(lines)
