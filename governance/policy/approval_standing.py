"""Approval standing: which approvals count, asked of the required-approvals gate itself.

The one counting authority for git-native (ledger) approvals is the Rego gate
(``policies/gates/approvals.rego``): role membership from governance.yaml, the trainer and
excluded actors, binding to the current release digest, denials, and distinct people per role
(Hall's condition over the required roles). Its rule ``approval_standing`` gives that count as
data: per required role who counted, whether the role is filled, and the distinct-people
shortfalls it is part of; per approval, counted or not and the gate's own reason text; the
gate's failures verbatim. ``report``, ``explain`` and ``status`` read approval status only
from here, with the input ``check --env E`` builds (``GateRun``'s input builder, approvals
from the ledger), so none of them can count an approval the gate rejects (issue 14 item 3).

The same rule judges a pull request's reviews (``pull_request_standing``: ``config record`` and
the PR evaluation of ``governance.approvals.evaluate``), on an input of the gate's shape built
from the normalised facts (``governance.approvals.pull_request.gate_facts``) with the policies
read at the pull request's base commit. ``ApprovalStanding.outcome`` is the one place an
approval outcome (approved, denied, undecided) is produced in Python, from the gate's ``allow``
(``tests/unit/test_approval_authority_ast.py``). Each standing carries the policy digest, the
input digest and a decision id: ``approve`` records them with its ``release_approved`` so the
ledger replay checks that verdict's facts instead of deciding again.

Fail closed: an engine error, an undefined rule (a policy without ``approval_standing``), an
input or result of the wrong shape make the standing ``undecided`` with the reason; nothing is
then shown as approved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from governance.approvals.facts import ApprovalPolicy
from governance.domain.identity import identity_key
from governance.errors import GovernanceError
from governance.lifecycle import LifecycleState
from governance.policy.bundle import POLICY_DIR, PolicyBundle, load_bundle
from governance.policy.decision_log import json_digest
from governance.policy.engines.port import PolicyEngine
from governance.policy.engines.select import select_engine
from governance.policy.gates import GateRun
from governance.policy.input import ApprovalFact, GateRequest
from governance.records import display_path
from governance.repo import GovernedRepo, LoadedRelease
from governance.timeparse import utc_now

STANDING_PATH = "governance.gates.approval_standing"


@dataclass(frozen=True)
class ApprovalVerdict:
    """One recorded approval or denial as the gate judged it."""

    actor_id: str
    role: str
    state: str  # approved | denied | changes_requested
    digest: str | None
    counted: bool
    outcome: str  # counted | excluded | stale | denied | not_required
    reason: str | None  # the gate's text for why it does not count (None when it counts)
    submitted_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"actor_id": self.actor_id, "role": self.role, "state": self.state,
                "digest": self.digest, "counted": self.counted, "outcome": self.outcome,
                "reason": self.reason, "submitted_at": self.submitted_at}


@dataclass(frozen=True)
class RoleStanding:
    role: str
    need: int
    counted: tuple[str, ...]  # distinct people whose approval of the current digest counts
    filled: bool  # enough people, none of them needed by another role (distinct people)
    shortfalls: tuple[str, ...] = ()  # the gate's distinct-people failures naming this role
    may_approve: tuple[str, ...] = ()  # members whose approval would still count here
    teams: tuple[str, ...] = ()  # the role's teams (their members may approve too)

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "need": self.need, "counted": list(self.counted),
                "filled": self.filled, "shortfalls": list(self.shortfalls),
                "may_approve": list(self.may_approve), "teams": list(self.teams)}

    def who_may_approve(self) -> str:
        """``bob, members of team acme/risk``, or said plainly when nobody can."""
        named = [*self.may_approve, *(f"members of team {t}" for t in self.teams)]
        return ", ".join(named) or "nobody (every member is excluded or already counted)"


@dataclass(frozen=True)
class ApprovalStanding:
    release_id: str
    environment: str
    digest: str
    allow: bool = False  # the required-approvals gate has no failure
    failures: tuple[str, ...] = ()  # the gate's deny messages, verbatim
    roles: tuple[RoleStanding, ...] = ()
    approvals: tuple[ApprovalVerdict, ...] = ()
    undecided: str | None = None
    engine: str = ""
    reviewers: tuple[str, ...] = ()  # PR reviewers whose approval counts as a person's
    reviewer_exclusions: tuple[str, ...] = ()  # "login: why" for each PR approval that does not
    policy_digest: str | None = None  # the bundle that decided (git tree of the policies)
    input_digest: str | None = None  # sha256 of the gate input (canonical JSON)
    decision_id: str | None = None

    @property
    def outcome(self) -> str:
        """approved | denied | undecided: the gate's allow, or why it could not decide."""
        if self.undecided is not None:
            return "undecided"
        return "approved" if self.allow else "denied"

    def reasons(self) -> tuple[str, ...]:
        """Why not approved: the undecided reason, or the gate's failures verbatim."""
        if self.undecided is not None:
            return (self.undecided,)
        return self.failures

    def not_counted(self) -> tuple[str, ...]:
        """The gate's text for every approval that does not count."""
        return tuple(v.reason for v in self.approvals if not v.counted and v.reason)

    def verdict_record(self) -> dict[str, Any]:
        """What ``release_approved`` records of this verdict (``details.verdict``)."""
        return {"policy_digest": self.policy_digest, "input_digest": self.input_digest,
                "decision_id": self.decision_id, "engine": self.engine,
                "environment": self.environment, "allow": self.allow and self.undecided is None,
                "counted": [{"role": r.role, "actor_id": p} for r in self.roles
                            for p in r.counted]}

    def verdicts(self, role: str) -> tuple[ApprovalVerdict, ...]:
        return tuple(v for v in self.approvals if v.role == role)

    def role_word(self, role: RoleStanding) -> str:
        """approved | denied | not distinct | pending (k of n) | stale | undecided."""
        if self.undecided is not None:
            return "undecided"
        mine = self.verdicts(role.role)
        if any(v.outcome == "denied" for v in mine):
            return "denied"
        if role.filled:
            return "approved"
        if len(role.counted) >= role.need and role.shortfalls:
            return "not distinct"
        if role.counted:
            return f"pending ({len(role.counted)} of {role.need})"
        if mine and all(v.outcome == "stale" for v in mine):
            return "stale"
        return "pending"

    def to_json(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id, "environment": self.environment,
            "digest": self.digest, "allow": self.allow and self.undecided is None,
            "undecided": self.undecided, "engine": self.engine,
            "failures": list(self.failures),
            "roles": [{**r.to_json(), "status": self.role_word(r),
                       "not_counted": [v.to_json() for v in self.verdicts(r.role)
                                       if not v.counted]}
                      for r in self.roles],
            "approvals": [v.to_json() for v in self.approvals],
        }


@dataclass
class StandingReader:
    """One loaded engine answering the standing of many releases of one lifecycle state.

    The input is built by the gates' own ``GateRun`` (same configuration, waivers, approvals
    from the ledger and normalisations as ``check --env E``), so a change to what the gates
    are given reaches the standing with no second copy here.
    """

    repo: GovernedRepo
    state: LifecycleState
    now: datetime = field(default_factory=utc_now)
    engine_name: str | None = None
    policy_dir: Path | None = None
    signed_only: bool = False  # count approvals signed by the approver only (not CI records)
    _runs: dict[str, GateRun] = field(default_factory=dict)
    _bundle: PolicyBundle | None = None

    def __enter__(self) -> StandingReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        for run in self._runs.values():
            run.close()
        self._runs.clear()

    def _run(self, environment: str) -> GateRun:
        if environment not in self._runs:
            if self._bundle is None:
                root = self.policy_dir or self.repo.root / POLICY_DIR
                self._bundle = load_bundle(root, display_prefix=display_path(root))
            request = GateRequest(environment=environment, now=self.now, approval_source="git",
                                  signed_only=self.signed_only)
            self._runs[environment] = GateRun(self.repo, self._bundle,
                                              select_engine(self.engine_name), request,
                                              self.state)
        return self._runs[environment]

    def standing(self, loaded: LoadedRelease, environment: str) -> ApprovalStanding:
        """The required-approvals gate's count for ``loaded`` promoted to ``environment``."""
        base = ApprovalStanding(release_id=loaded.release.release_id, environment=environment,
                                digest=loaded.digest.value)
        try:
            run = self._run(environment)
            doc, _files, problems = run._prepare(loaded)  # the gates' own input (and checks)
            if problems:
                return _undecided(base, "; ".join(problems))
            value = run.engine.evaluate(STANDING_PATH, doc).value
        except GovernanceError as err:
            return _undecided(base, err.diagnostics())
        return _verdict(base, value, run.engine.name, run.bundle.digest, doc)


def approval_standing(repo: GovernedRepo, loaded: LoadedRelease, state: LifecycleState,
                      environment: str, *, now: datetime | None = None,
                      signed_only: bool = False) -> ApprovalStanding:
    """The standing of one release (one engine started and closed)."""
    with StandingReader(repo, state, now=now or utc_now(),
                        signed_only=signed_only) as reader:
        return reader.standing(loaded, environment)


def pull_request_standing(bundle: PolicyBundle, policy: ApprovalPolicy,
                          approvals: Sequence[ApprovalFact], *, number: int, head_sha: str,
                          excluded_actors: Iterable[str],
                          codeowners: Sequence[Mapping[str, Any]],
                          environment: str | None, risk_tier: str,
                          engine_name: str | None = None,
                          engine: PolicyEngine | None = None) -> ApprovalStanding:
    """The required-approvals gate's verdict on pull request ``number``'s reviews.

    ``environment`` None: a governance change, no role required; every changed file with
    owners needs a review that counts as a person's (the CODEOWNERS groups). The reviews on
    the head commit are bound to a digest naming that commit, so the gate's stale-review and
    digest rules apply unchanged. ``engine``: one already loaded with ``bundle`` (the caller
    closes it); otherwise one is selected by ``engine_name``, loaded and closed here.
    """
    digest = f"git-commit:{head_sha}"
    label = environment or "governance configuration"
    base = ApprovalStanding(release_id=f"pull request #{number}", environment=label,
                            digest=digest)
    tier = risk_tier or "medium"
    per_role = max((n for _, n in policy.required), default=1)
    doc: dict[str, Any] = {
        "release": {"release_id": f"pull-request-{number}", "digest": digest, "trained_by": ""},
        "model": {"risk_tier": tier},
        "environment": {"name": label, "required_approvals": [r for r, _ in policy.required]},
        "config": {
            "roles": {name: {"members": sorted({identity_key(m) for m in role.members}),
                             "teams": sorted(role.teams)}
                      for name, role in policy.roles.items()},
            "risk_tiers": {tier: {"approvals_per_role": per_role}},
        },
        "approvals": [{**a.to_input(), "actor_id": identity_key(a.actor_id),
                       "digest": digest if a.commit_id == head_sha else None}
                      for a in approvals],
        "approval_source": "github",
        "approval_context": {
            "excluded_actors": sorted({identity_key(x) for x in (*excluded_actors,
                                                                 *policy.bots)}),
            "pr": number, "head_sha": head_sha,
            "codeowners": [{"owners": list(g["owners"]), "paths": list(g["paths"]),
                            "people": sorted({identity_key(p) for p in g["people"]})}
                           for g in codeowners],
        },
    }
    own = engine is None
    run = select_engine(engine_name) if engine is None else engine
    try:
        if own:
            run.load(bundle, {})
        value = run.evaluate(STANDING_PATH, doc).value
    except GovernanceError as err:
        return _undecided(base, err.diagnostics())
    finally:
        if own:
            run.close()
    return _verdict(base, value, run.name, bundle.digest, doc)


def undecided_standing(release_id: str, environment: str, reason: str) -> ApprovalStanding:
    """A standing that could not be decided (facts that cannot be trusted): never approved."""
    return ApprovalStanding(release_id=release_id, environment=environment, digest="",
                            undecided=reason)


def _verdict(base: ApprovalStanding, value: Any, engine: str, policy_digest: str,
             doc: Mapping[str, Any]) -> ApprovalStanding:
    try:
        standing = _parse(base, value, engine)
    except (KeyError, TypeError, ValueError) as err:
        return _undecided(base, f"data.{STANDING_PATH} has an unexpected shape ({err})")
    return replace(standing, policy_digest=policy_digest, input_digest=json_digest(doc),
                   decision_id=str(uuid.uuid4()))


def _undecided(base: ApprovalStanding, reason: str) -> ApprovalStanding:
    reason = reason.removeprefix("could not decide: ")
    return ApprovalStanding(release_id=base.release_id, environment=base.environment,
                            digest=base.digest, undecided=reason)


def _text(value: Any, what: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} is {type(value).__name__}, expected a string")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} is {type(value).__name__}, expected true or false")
    return value


def _texts(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError(f"{what} is {type(value).__name__}, expected a list")
    return tuple(_text(v, what) for v in value)


def _items(value: Any, what: str) -> Sequence[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TypeError(f"{what} is not a list of objects")
    return value


def _parse(base: ApprovalStanding, value: Any, engine: str) -> ApprovalStanding:
    """Check the rule's result shape field by field (any doubt: undecided, by the caller)."""
    if not isinstance(value, dict):
        raise TypeError(f"result is {type(value).__name__}, expected an object")
    need = value["need"]
    if not isinstance(need, int) or isinstance(need, bool):
        raise TypeError("need is not an integer")
    if value["digest"] != base.digest:
        raise ValueError(f"it judged digest {value['digest']!r}, the release is {base.digest}")
    roles = []
    for r in _items(value["roles"], "roles"):
        role_need = r["need"]
        if not isinstance(role_need, int) or isinstance(role_need, bool):
            raise TypeError("roles[].need is not an integer")
        roles.append(RoleStanding(role=_text(r["role"], "roles[].role"), need=role_need,
                                  counted=_texts(r["counted"], "roles[].counted"),
                                  filled=_flag(r["filled"], "roles[].filled"),
                                  shortfalls=_texts(r["shortfalls"], "roles[].shortfalls"),
                                  may_approve=_texts(r.get("may_approve", []),
                                                     "roles[].may_approve"),
                                  teams=_texts(r.get("teams", []), "roles[].teams")))
    approvals = tuple(
        ApprovalVerdict(actor_id=_text(a["actor_id"], "approvals[].actor_id"),
                        role=_text(a["role"], "approvals[].role"),
                        state=_text(a["state"], "approvals[].state"),
                        digest=_text(a["digest"], "approvals[].digest", optional=True),
                        counted=_flag(a["counted"], "approvals[].counted"),
                        outcome=_text(a["outcome"], "approvals[].outcome"),
                        reason=_text(a["reason"], "approvals[].reason", optional=True),
                        submitted_at=_text(a.get("submitted_at"), "approvals[].submitted_at",
                                           optional=True))
        for a in _items(value["approvals"], "approvals"))
    failures = _texts(value["failures"], "failures")
    allow = _flag(value["allow"], "allow")
    if allow == bool(failures):
        raise ValueError(f"allow is {allow} with {len(failures)} failure(s)")
    return ApprovalStanding(release_id=base.release_id, environment=base.environment,
                            digest=base.digest, allow=allow, failures=failures,
                            roles=tuple(roles), approvals=approvals, engine=engine,
                            reviewers=_texts(value.get("reviewers", []), "reviewers"),
                            reviewer_exclusions=_texts(value.get("reviewer_exclusions", []),
                                                       "reviewer_exclusions"))
