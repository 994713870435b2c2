"""The six answers of DESIGN section 1 for one release, each with its evidence.

Pure: built from the release as it is on disk and the model's ledger events (from the index or
the ledger itself). Every answer names the events (id, seq, commit, leaf hash), digests and
decision ids it rests on, so an auditor can verify each claim independently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.audit.queries import decision_word
from governance.domain.event_types import (
    APPROVAL_DECISIONS,
    APPROVAL_GRANTED,
    GATE_EVALUATED,
    GOES_LIVE,
    RELEASE_APPROVED,
    ROLLBACK_EXECUTED,
)
from governance.domain.events import EventView
from governance.domain.identity import same_identity
from governance.lifecycle import LifecycleState
from governance.repo import LoadedRelease
from governance.safe_text import join_lines
from governance.text import metrics, per_key, release_ref, when, window

if TYPE_CHECKING:  # the gate's count is computed by the caller (governance.audit.answers)
    from governance.policy.approval_standing import ApprovalStanding, ApprovalVerdict


@dataclass(frozen=True)
class Explanation:
    release_id: str
    model_name: str
    environment: str | None
    at: str | None
    answers: Mapping[str, Mapping[str, Any]]  # the six, in order

    def to_json(self) -> dict[str, Any]:
        return {"release_id": self.release_id, "model_name": self.model_name,
                "environment": self.environment, "at": self.at,
                "answers": {k: dict(v) for k, v in self.answers.items()}}


QUESTIONS = (
    ("deployed", "What artifact was deployed?"),
    ("based_on", "What data, code and config was it based on?"),
    ("evaluation", "What testing or evaluation was completed before release?"),
    ("approvals", "Who reviewed and approved it?"),
    ("audit_trail", "Where is the audit trail of that decision?"),
    ("rollback", "What rollback path exists, and what happened when it was used?"),
)


def _ref(event: EventView) -> dict[str, Any]:
    out: dict[str, Any] = {"event_id": event.event_id, "seq": event.seq,
                           "event_type": event.event_type, "timestamp": event.timestamp}
    for attr in ("commit", "leaf_hash"):
        value = getattr(event, attr, None)
        if value:
            out[attr] = value
    return out


def _evidence(ref: Any) -> dict[str, Any] | None:
    return None if ref is None else ref.to_json()


def explain_release(loaded: LoadedRelease, model_events: Sequence[EventView], *,
                    environment: str | None = None, at: str | None = None,
                    state: LifecycleState,
                    standing: ApprovalStanding | None = None) -> Explanation:
    """``model_events``: the model's events in seq order, up to ``at`` when given;
    ``standing``: the required-approvals gate's count, which says of every approval whether
    it counts and why not (without it the answer lists the events and counts nothing)."""
    release, card = loaded.release, loaded.card
    rid = release.release_id
    mine = [e for e in model_events if e.event.get("release_id") == rid
            or rid in (e.event.get("from_release"), e.event.get("to_release"))]
    life = state.release(rid)
    now = state.standings(release.model_name).get(rid)
    envs = sorted({k[1] for k in state.live if k[0] == release.model_name})
    live_where = []
    for env in envs:
        for span in state.live[(release.model_name, env)]:
            if span.release_id == rid and not span.disabled:
                live_where.append({"environment": env, "since": span.since, "until": span.until,
                                   "by": span.actor_id, "event_id": span.event_id,
                                   "seq": span.seq, "via": span.event_type})
    promotions = [e for e in mine if e.event_type in GOES_LIVE
                  and e.event.get("release_id") == rid]
    deployed = {
        "release_id": rid, "model_version": release.model_version,
        "artifact": _evidence(release.artifact), "release_digest": loaded.digest.value,
        # what is true now (production only while live there; else superseded, ...)
        "state": now.state if now else "draft (no ledger events)",
        "live": live_where,
        "replaced": [r.to_json() for r in now.replaced] if now else [],
        "promotions": [{**_ref(e), "environment": e.event.get("environment"),
                        "actor_id": e.event.get("actor_id"),
                        "release_digest": e.event.get("release_digest"),
                        "decision_id": (e.event.get("decision") or {}).get("decision_id"),
                        "digest_matches": e.event.get("release_digest") in (
                            None, loaded.digest.value)}
                       for e in promotions],
    }
    based_on = {
        "training_dataset": _evidence(release.training_dataset),
        "training_data_window": dict(card.training_data_window or {}),
        "training_data_scope": card.training_data_scope,
        "training_data_exclusions": list(card.training_data_exclusions),
        "git_commit": release.git_commit, "trained_by": release.trained_by,
        "feature_schema_version": release.feature_schema_version,
        "config_version": release.config_version,
        "prompt_version": release.prompt_version, "policy_version": release.policy_version,
    }
    gates = [e for e in mine if e.event_type == GATE_EVALUATED]
    evaluation = {
        "evaluation_report": _evidence(release.evaluation_report),
        "evaluated_at": card.evaluated_at, "metrics": dict(card.metrics),
        "subgroups": {k: dict(v) for k, v in card.subgroups.items()},
        "test_conditions": dict(card.test_conditions),
        "known_limitations": list(card.known_limitations),
        "gate_decisions": [{**_ref(e), "environment": e.event.get("environment"),
                            "policy_digest": e.event.get("policy_digest"),
                            **{k: v for k, v in (e.event.get("decision") or {}).items()
                               if k in ("decision_id", "allow", "result", "deny", "warn",
                                        "engine", "outcome", "undecided", "failures",
                                        "warnings")}}
                           for e in gates],
    }
    approval_events = [e for e in mine
                       if e.event_type in APPROVAL_DECISIONS]
    verdicts = _verdicts(approval_events, standing)
    approvals = {
        "approvals": [{**_ref(e), "actor_id": e.event.get("actor_id"),
                       "actor_role": e.event.get("actor_role"),
                       "approval_state": e.event.get("approval_state")
                       or ("approved" if e.event_type == APPROVAL_GRANTED else "denied"),
                       "release_digest": e.event.get("release_digest"),
                       "bound_to_current_content": e.event.get("release_digest")
                       == loaded.digest.value,
                       "source": e.event.get("source"),
                       "counted": v.counted if v else None,
                       "not_counted_because": v.reason if v and not v.counted else None}
                      for e, v in zip(approval_events, verdicts, strict=True)],
        "release_approved": [_ref(e) for e in mine if e.event_type == RELEASE_APPROVED],
        "approved_digest": life.approved_digest if life else None,
        "standing": standing.to_json() if standing else None,
    }
    trail = {
        "events": [_ref(e) for e in mine],
        "latest_checkpoint": next((getattr(e, "checkpoint", None) for e in reversed(mine)
                                   if getattr(e, "checkpoint", None)), None),
        "how_to_verify": "governance ledger verify --checkpoint <exported checkpoint>",
    }
    rollbacks = [e for e in model_events if e.event_type == ROLLBACK_EXECUTED
                 and rid in (e.event.get("from_release"), e.event.get("to_release"))]
    rollback = {
        "rollback_target": release.rollback_target.to_json() if release.rollback_target else None,
        "fallback_now": {env: state.fallback(release.model_name, env) for env in envs},
        "rollbacks": [{**_ref(e), "environment": e.event.get("environment"),
                       "from_release": e.event.get("from_release"),
                       "to_release": e.event.get("to_release"),
                       "actor_id": e.event.get("actor_id"), "reason": e.event.get("reason"),
                       "incident": e.event.get("incident"),
                       # the target's gates, reported and never blocking a rollback
                       "decision": e.event.get("decision")} for e in rollbacks],
        "open_obligations": [o.__dict__ for o in state.open_obligations(release.model_name)],
    }
    parts: list[Mapping[str, Any]] = [deployed, based_on, evaluation, approvals, trail, rollback]
    answers = dict(zip([q for q, _ in QUESTIONS], parts, strict=True))
    return Explanation(release_id=rid, model_name=release.model_name, environment=environment,
                       at=at, answers=answers)


def _verdicts(events: Sequence[EventView], standing: ApprovalStanding | None
              ) -> list[ApprovalVerdict | None]:
    """The gate's verdict on each approval event. The gate input lists the release's approval
    events in ledger order (``approvals_from_ledger``), so the i-th verdict is the i-th event's;
    when actor or role disagree (or nothing was counted) no event gets a verdict."""
    none: list[ApprovalVerdict | None] = [None] * len(events)
    if standing is None or standing.undecided is not None:
        return none
    if len(standing.approvals) != len(events):
        return none
    pairs = list(zip(events, standing.approvals, strict=True))
    if any(not same_identity(e.event.get("actor_id"), v.actor_id)
           or (e.event.get("actor_role") or "") != v.role for e, v in pairs):
        return none
    return [v for _, v in pairs]


def render_text(exp: Explanation) -> str:
    a = exp.answers
    d, b, ev, ap, tr, rb = (a[k] for k, _ in QUESTIONS)
    lines = [f"{exp.release_id} ({exp.model_name})"
             + (f" live in {exp.environment} at {exp.at}" if exp.environment and exp.at else "")]
    art = d["artifact"] or {}
    lines.append(f"1. {QUESTIONS[0][1]}")
    lines.append(f"   artifact {art.get('uri', '-')} sha256 {art.get('sha256', '-')}")
    lines.append(f"   release digest {d['release_digest']}; state {d['state']}")
    for span in d["live"]:
        lines.append(f"   live in {span['environment']} since {span['since']}"
                     f"{' until ' + span['until'] if span['until'] else ''} by {span['by']}"
                     f" (event {span['event_id']}, seq {span['seq']})")
    for gone in d["replaced"]:
        lines.append(f"   no longer live in {gone['environment']}: replaced since {gone['since']} "
                     f"by {gone['by_release'] or 'nothing (switched off)'} via {gone['via']}"
                     f" (seq {gone['seq']})")
    lines.append(f"2. {QUESTIONS[1][1]}")
    ds = b["training_dataset"] or {}
    lines.append(f"   data {ds.get('uri', '-')} (sha256 {ds.get('sha256', '-')}),"
                 f" window {window(b['training_data_window'])}")
    lines.append(f"   code {b['git_commit'] or '-'} trained by {b['trained_by'] or '-'};"
                 f" features {b['feature_schema_version'] or '-'};"
                 f" config {b['config_version'] or '-'}"
                 + (f"; prompt {b['prompt_version']}" if b["prompt_version"] else "")
                 + (f"; policy {b['policy_version']}" if b["policy_version"] else ""))
    lines.append(f"3. {QUESTIONS[2][1]}")
    lines.append(f"   metrics {metrics(ev['metrics'])}; evaluated {when(ev['evaluated_at'])}")
    for slice_name, values in ev["subgroups"].items():
        lines.append(f"   subgroup {slice_name}: {metrics(values)}")
    for g in ev["gate_decisions"]:
        lines.append(f"   gate decision {g.get('decision_id', '-')} "
                     f"{decision_word(g)} env={g.get('environment') or '-'}"
                     f" policy {g.get('policy_digest') or '-'} (seq {g['seq']})")
    lines.append(f"4. {QUESTIONS[3][1]}")
    if not ap["approvals"]:
        lines.append("   no approvals recorded")
    for x in ap["approvals"]:
        bound = "bound to this content" if x["bound_to_current_content"] else \
            "NOT bound to the current content"
        counted = ("" if x["counted"] is None else "; counted" if x["counted"] else
                   f"; NOT counted: {x['not_counted_because']}")
        lines.append(f"   {x['actor_role']}: {x['actor_id']} {x['approval_state']} at "
                     f"{x['timestamp']} ({bound}; event {x['event_id']}{counted})")
    lines += [f"   {line}" for line in standing_lines(ap["standing"])]
    lines.append(f"5. {QUESTIONS[4][1]}")
    lines.append(f"   {len(tr['events'])} ledger events: "
                 + ", ".join(f"{e['event_type']}#{e['seq']}" for e in tr["events"]))
    lines.append(f"   verify with: {tr['how_to_verify']}")
    lines.append(f"6. {QUESTIONS[5][1]}")
    lines.append(f"   rollback target: {release_ref(rb['rollback_target'])}")
    lines.append("   fallback now (where a rollback would go): "
                 + per_key(rb["fallback_now"], none="not live anywhere",
                           missing="none (nothing approved was live there before)"))
    for r in rb["rollbacks"]:
        lines.append(f"   rollback {r['from_release']} -> {r['to_release'] or 'switched off'} in "
                     f"{r['environment']} by {r['actor_id']} at {r['timestamp']}: {r['reason']}"
                     f" (incident {r['incident'] or '-'})")
    for o in rb["open_obligations"]:
        lines.append(f"   OPEN {o['kind']} for {o['release_id']} "
                     f"(incident {o['incident'] or 'none'})")
    return join_lines(lines)  # one record per line, control characters escaped


def standing_lines(standing: Mapping[str, Any] | None) -> list[str]:
    """The gate's count in text, answer first: per role the status and who counted."""
    if standing is None:
        return []
    env = standing["environment"]
    if standing["undecided"] is not None:
        return [f"approvals for {env}: could not decide: {standing['undecided']}"]
    verdict = "complete" if standing["allow"] else "NOT complete"
    lines = [f"approvals for {env} (as the required_approvals gate counts them): {verdict}"]
    for role in standing["roles"]:
        who = ", ".join(role["counted"]) or "nobody"
        lines.append(f"  {role['role']}: {role['status']} ({len(role['counted'])} of "
                     f"{role['need']}; counted: {who})")
        lines += [f"    not counted: {v['reason']}" for v in role["not_counted"]]
        lines += [f"    {s}" for s in role["shortfalls"]]
    return lines
