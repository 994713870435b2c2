"""Evidence answers over the query index and the governed repository: the core behind
``governance diff``, ``governance explain`` and ``governance report``.

Reads the query index (``governance.audit.queries``) and release directories on disk; it never
folds the whole ledger. A release's ledger facts come from the events that name it, a model's
answers from ``history(conn, model)`` (that model's events only), so each answer stays fast on a
ledger of a million events (bench/explain_bench.py).

Choices written down here (DESIGN section 1 leaves them open):

- Approval status (``explain``'s fourth answer, the report's per-role table) is the
  required-approvals gate's own count (``governance.policy.approval_standing``) for the
  environment asked about (``explain MODEL --env E``), else the strictest one; every approval
  says whether it counted and, if not, the gate's reason.
- The policy bundle a release "was judged under" is the ``policy_digest`` of its latest
  ``gate_evaluated`` event (the decision that counted last). Its approvers, as ``role:actor``,
  are the approvals the required-approvals gate counts for it in the strictest environment
  (the same standing ``explain`` and ``report`` show); a stale, excluded or non-member
  approval is not an approver (the explanation still shows it, with the gate's reason).
- ``explain MODEL --env E --at T`` explains the release live then (``live_release_at``) from the
  model's events up to T: an approval or rollback after T is not part of that answer.
- The report's environment is ``--env`` or the strictest environment (the one with the most
  required roles; on a tie the later in promotion order). The "previous production release" is
  the last release live in that environment before this release first went live there (or, for
  a release never live there, the last release that was).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from governance.audit import queries
from governance.audit.diff import ReleaseDiff, diff_releases
from governance.audit.explain import Explanation, explain_release
from governance.audit.queries import AuditFilter, IndexedEvent, LiveRelease
from governance.domain.config import GovernanceConfig
from governance.domain.event_types import GATE_EVALUATED
from governance.errors import InvalidInput, NotFound, Problem, UsageError
from governance.lifecycle import LifecycleState, LiveSpan, fold_lifecycle
from governance.policy.approval_standing import (
    ApprovalStanding,
    StandingReader,
    approval_standing,
)
from governance.records import display_path
from governance.repo import MODEL_FILE, RELEASE_FILE, RELEASES, GovernedRepo, LoadedRelease
from governance.report.evidence import (
    EvidenceReport,
    latest_gate_decision,
    role_statuses,
)
from governance.report.timeline import render_timeline
from governance.timeparse import format_rfc3339, parse_instant, to_micros


@dataclass(frozen=True)
class ReleaseFacts:
    """What the ledger says about one release, as the diff reads it."""

    release_id: str
    policy_digest: str | None  # of the latest gate_evaluated event, None if never gated
    gate_event: IndexedEvent | None
    approvers: tuple[str, ...]  # "role:actor" the required-approvals gate counts


def release_facts(conn: sqlite3.Connection, release_id: str, standing: ApprovalStanding
                  ) -> ReleaseFacts:
    """The policy bundle (latest ``gate_evaluated`` naming ``release_id``, from the index) and
    the approvers the gate's ``standing`` counts (none when it could not decide)."""
    events = [e for e in queries.audit_query(conn, AuditFilter(
        release=release_id, event_types=(GATE_EVALUATED,)))
        if e.release_id == release_id]
    gate = events[-1] if events else None
    policy = gate.event.get("policy_digest") if gate is not None else None
    approvers = sorted({f"{r.role}:{p}" for r in standing.roles for p in r.counted})
    return ReleaseFacts(release_id=release_id,
                        policy_digest=policy if isinstance(policy, str) else None,
                        gate_event=gate, approvers=tuple(approvers))


def diff_with_ledger(repo: GovernedRepo, a: LoadedRelease, b: LoadedRelease,
                     conn: sqlite3.Connection) -> ReleaseDiff:
    """``diff_releases`` with each release's policy bundle (from the index) and approvers (the
    required-approvals gate's count in the strictest environment)."""
    if a.release.model_name != b.release.model_name:
        raise InvalidInput([Problem(
            display_path(b.directory / RELEASE_FILE), None, "$.model_name",
            f"release {b.release.release_id!r} is a release of {b.release.model_name!r}, "
            f"{a.release.release_id!r} of {a.release.model_name!r}",
            "diff compares two releases of the same model")],
            message="cannot diff releases of different models")
    state = fold_lifecycle(model_events(conn, a.release.model_name),
                           production_env=repo.config.production_environment)
    facts = []
    undecided = []
    if repo.config.environments:
        env = strictest_environment(repo.config)
        with StandingReader(repo, state) as reader:
            for x in (a, b):
                standing = reader.standing(x, env)
                if standing.undecided is not None:
                    undecided.append(f"approvers of {x.release.release_id} could not be "
                                     f"decided: {standing.undecided}")
                facts.append(release_facts(conn, x.release.release_id, standing))
    else:
        facts = [release_facts(conn, x.release.release_id, ApprovalStanding(
            x.release.release_id, "", x.digest.value)) for x in (a, b)]
    diff = diff_releases(a, b, policy={f.release_id: f.policy_digest for f in facts},
                         approvers={f.release_id: list(f.approvers) for f in facts})
    if undecided:
        diff = replace(diff, notes=(*diff.notes, *undecided))
    return diff


def diff_by_id(repo: GovernedRepo, conn: sqlite3.Connection, release_a: str, release_b: str
               ) -> ReleaseDiff:
    """Load both releases (NotFound for an unknown id) and diff them with the ledger's facts."""
    return diff_with_ledger(repo, load(repo, conn, release_a), load(repo, conn, release_b),
                            conn)


def model_events(conn: sqlite3.Connection, model: str, until: datetime | None = None
                 ) -> list[IndexedEvent]:
    """The model's events in seq order, those at or before ``until`` when given (none when the
    ledger has never named the model: a release can exist before its first event)."""
    if not queries.model_exists(conn, model):
        return []
    events = queries.history(conn, model)
    if until is None:
        return events
    cutoff = to_micros(until)
    return [e for e in events if to_micros(parse_instant(e.timestamp)) <= cutoff]


@dataclass(frozen=True)
class LiveExplanation:
    """``explain MODEL --env E --at T``: which release was live then, and its six answers."""

    live: LiveRelease
    explanation: Explanation

    def to_json(self) -> dict[str, Any]:
        return {**self.explanation.to_json(), "live": self.live.to_json()}


def locate_release(repo: GovernedRepo, conn: sqlite3.Connection, release_id: str) -> Path:
    """The directory of ``release_id``: where the layout puts it for the model the ledger names
    (one stat, whatever the repository's size), else a search of the repository. NotFound for an
    unknown id; UsageError when the id is a model's name (it needs --env)."""
    row = conn.execute("SELECT model FROM events WHERE release_id = ? AND model IS NOT NULL "
                       "LIMIT 1", (release_id,)).fetchone()
    if row is not None:
        directory = repo.root / RELEASES / str(row[0]) / release_id
        if (directory / RELEASE_FILE).is_file():
            return directory
    if (repo.root / RELEASES / release_id / MODEL_FILE).is_file():
        raise UsageError(f"{release_id!r} is a model, not a release",
                         hint=f"ask which release was live: governance explain {release_id} "
                              "--env production [--at TIME]")
    return repo.find_release_dir(release_id)


def load(repo: GovernedRepo, conn: sqlite3.Connection, ref: str) -> LoadedRelease:
    """A release given as its directory or its id, loaded alone (``load_release_alone``: the
    release's own checks, no scan of every release directory; ``governance validate`` checks the
    cross-references)."""
    if (Path(ref) / RELEASE_FILE).is_file():
        return repo.load_release_alone(Path(ref).resolve())
    return repo.load_release_alone(locate_release(repo, conn, ref))


def explain_release_id(repo: GovernedRepo, conn: sqlite3.Connection, release_id: str,
                       at: datetime | None = None) -> Explanation:
    """The six answers for a release, from its model's events (up to ``at`` when given)."""
    loaded = load(repo, conn, release_id)
    events = model_events(conn, loaded.release.model_name, at)
    state = fold_lifecycle(events, production_env=repo.config.production_environment)
    env = strictest_environment(repo.config) if repo.config.environments else None
    standing = _standing(repo, loaded, state, env, at)
    return explain_release(loaded, events, at=format_rfc3339(at) if at else None, state=state,
                           standing=standing)


def _standing(repo: GovernedRepo, loaded: LoadedRelease, state: LifecycleState,
              environment: str | None, at: datetime | None) -> ApprovalStanding | None:
    """The required-approvals gate's count for ``environment`` at ``at`` (default now); None
    when governance.yaml names no environment (there is nothing to count against)."""
    if environment is None or environment not in repo.config.environments:
        return None
    return approval_standing(repo, loaded, state, environment, now=at)


def explain_live(repo: GovernedRepo, conn: sqlite3.Connection, model: str, environment: str,
                 at: datetime) -> LiveExplanation:
    """Which release of ``model`` was live in ``environment`` at ``at``, and its six answers
    from the model's events up to ``at``. NotFound: unknown model, nothing live then, or the
    live release's directory is missing from the repository."""
    live = queries.live_release_at(conn, model, environment, at,
                                   configured=tuple(repo.config.environments))
    if live.release_id is None:
        raise NotFound(
            f"nothing was live for {model!r} in {environment!r} at {live.at}: switched off by "
            f"rollback at {live.since} (seq {live.change.seq}, event {live.change.event_id}, "
            f"incident {live.change.incident or '-'})")
    directory = repo.root / RELEASES / model / live.release_id
    if not (directory / RELEASE_FILE).is_file():
        raise NotFound(
            f"the ledger says {live.release_id!r} was live for {model!r} in {environment!r} at "
            f"{live.at} (seq {live.change.seq}), but {RELEASES}/{model}/{live.release_id} is not "
            "in this repository",
            hint="check out the commit that still holds the release record, or ask "
                 f"`governance live {model} --env {environment} --at {live.at}` for the ledger's "
                 "facts alone")
    loaded = repo.load_release_alone(directory)
    events = model_events(conn, model, at)
    state = fold_lifecycle(events, production_env=repo.config.production_environment)
    standing = _standing(repo, loaded, state, environment, at)
    explanation = explain_release(loaded, events, environment=environment, at=live.at,
                                  state=state, standing=standing)
    return LiveExplanation(live=live, explanation=explanation)


def strictest_environment(config: GovernanceConfig, environment: str | None = None) -> str:
    """``environment`` if configured, else the one with the most required roles (on a tie the
    later in promotion order). NotFound for an unknown name or no environment at all."""
    if environment is not None:
        if environment not in config.environments:
            raise NotFound(f"unknown environment {environment!r} (governance.yaml names "
                           f"{', '.join(config.environments) or 'none'})")
        return environment
    if not config.environments:
        raise NotFound("governance.yaml names no environments",
                       hint="add environments: {production: {required_approvals: [...]}}")
    envs = list(config.environments.values())
    return max(reversed(envs), key=lambda e: len(e.required_approvals)).name


def previous_live(state: LifecycleState, model: str, environment: str, release_id: str
                  ) -> str | None:
    """The last release live in ``environment`` before ``release_id`` first went live there
    (for a release never live there: the last release that was)."""
    spans: Sequence[LiveSpan] = state.live.get((model, environment), [])
    first = next((i for i, s in enumerate(spans)
                  if s.release_id == release_id and not s.disabled), len(spans))
    for span in reversed(spans[:first]):
        if not span.disabled and span.release_id != release_id:
            return span.release_id
    return None


def build_report(repo: GovernedRepo, conn: sqlite3.Connection, release_id: str, *,
                 environment: str | None = None, now: datetime) -> EvidenceReport:
    """The evidence bundle of one release (rendered by governance.report.markdown/html)."""
    env = strictest_environment(repo.config, environment)
    loaded = load(repo, conn, release_id)
    rid, model = loaded.release.release_id, loaded.release.model_name
    events = model_events(conn, model)
    state = fold_lifecycle(events, production_env=repo.config.production_environment)
    standing = approval_standing(repo, loaded, state, env, now=now)
    explanation = explain_release(loaded, events, state=state, standing=standing)
    roles = role_statuses(standing, explanation)
    previous = previous_live(state, model, env, rid)
    diff: ReleaseDiff | None = None
    note: str | None = None
    if previous is None:
        note = f"no release of {model} was live in {env} before {rid}"
    else:
        try:
            diff = diff_with_ledger(repo, load(repo, conn, previous), loaded, conn)
        except (NotFound, InvalidInput) as err:
            note = (f"the previous {env} release {previous} could not be loaded from this "
                    f"repository: {err}")
    order = list(repo.config.environments)
    lane_envs = sorted((e for (m, e) in state.live if m == model),
                       key=lambda e: (order.index(e) if e in order else len(order), e))
    generated = format_rfc3339(now)
    # No "now": the axis ends just after the model's last change, not at today's date, so a
    # history from months ago stays legible; the still-live spans run to the right edge.
    lanes = {e: tuple(state.live[(model, e)]) for e in lane_envs}
    svg = render_timeline(model, lanes, highlight=rid)
    return EvidenceReport(explanation=explanation, card=loaded.card, roles=roles,
                          gate_decision=latest_gate_decision(explanation), diff=diff,
                          timeline_svg=svg, generated_at=generated, environment=env,
                          previous_release=previous, diff_note=note, standing=standing,
                          lanes=lanes)
