"""Lifecycle replay: the ledger's events must follow a lifecycle the commands allow.

A ledger can be correctly signed by keys with the authority to emit every event type and still
hold events no lifecycle allowed (a promotion nobody gated, an approval by someone outside the
role, a ``release_approved`` that one person wrote). ``LifecycleReplay`` is fed every verified
event in seq order (``ledger verify`` calls ``check`` after the signature and authority checks)
and answers with the reason the event breaks the lifecycle, or None. It is pure, and its state
is a JSON value (``to_json`` / ``from_json``) so an incremental verifier can persist it beside
the trust state and resume.

The rules (DESIGN section 4; issue 13 item 5), each mirroring what the command that writes the
event checks before writing it:

  deployment_promoted  the latest ``gate_evaluated`` for the same release, environment and
                       release digest allows (``decision.allow`` is true), and no earlier
                       promotion used that decision (``governance promote`` evaluates the gates
                       for every promotion); the environment is one the ledger pins and the
                       release was live in the environment it comes ``after``; the release is
                       not retired
  break_glass          the loud override: valid with its reason and incident (the schema
                       requires both) for a release that is not retired; opens a post-hoc
                       review obligation
  rollback_executed    the target was approved (``release_approved``, not denied since), is not
                       retired and was live in that environment before
  approval_granted,    ``actor_id`` is a member of ``actor_role`` in the membership the ledger
  approval_denied      pins, whoever signed (a bot recording a GitHub review on behalf of a
                       person is held to the same roster; team membership cannot be checked
                       from the ledger and does not count here); an approval that closes a
                       break-glass review (``details.closes`` or ``details.post_hoc``) is a
                       grant, names open reviews of the same release, and is not by the person
                       who broke the glass
  release_approved     it rests on the signed approvals on the ledger: every required role of
                       the strictest environment (most required roles, ``governance approve``'s
                       choice) has a current member who signed an approval of this digest in
                       that role, and nobody signed a denial of this digest (a denial blocks
                       the digest, as in the gate); when the event records the gate's verdict
                       (``details.verdict``: policy digest, input digest, decision id, the
                       approvals it counted), the verdict allowed, is about that environment,
                       and every approval it counted is such a signed grant (its event id, actor,
                       role and digest)

Why ``release_approved`` is checked this way and not decided again: whether approvals suffice
(approvals per role by risk tier, distinct people across roles, the trainer and bots) is
decided by one authority, the required-approvals gate (``policies/gates/approvals.rego``), and
``governance approve`` records that gate's verdict in the event it signs. The replay cannot run
the gate at verification (the policies of the day are not in the ledger, and a cold index build
must stay cheap), and a second rule set here could disagree with it. So the replay checks only
what a verdict rests on and the ledger can prove: the signed facts it counted exist, bind this
digest, come from pinned members in the roles counted, and are not contradicted by a signed
denial of the digest. A forged ``release_approved`` therefore still needs each required role's
approval signed by a member of that role; the sufficiency judgement is the gate's, identified
by the recorded policy digest and decision id.

What the rules need from governance.yaml (role membership, environment order, each
environment's required roles) is pinned in the genesis (``details.lifecycle``) and changes only
through ``key_rotated`` changes ``set_role_members`` and ``set_environments``; a ledger whose
genesis pins none fails closed for the checks that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.domain.event_types import APPROVAL_GRANTED, LIFECYCLE_COMMAND_OF, REPLAY_RULE_OF
from governance.domain.identity import identity_key

# Event types only the lifecycle commands write, and the command that writes each one (the
# event table's ``lifecycle_command``, as the names module writes it out).
LIFECYCLE_COMMANDS: Mapping[str, str] = LIFECYCLE_COMMAND_OF
LIFECYCLE_TYPES = frozenset(LIFECYCLE_COMMANDS)
LIFECYCLE_OPS = frozenset({"set_role_members", "set_environments"})
STATE_VERSION = 1


class LifecycleViolation(ValueError):
    """An event no lifecycle allows; ``reason`` says which rule and names the seqs involved."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class EnvironmentRule:
    name: str
    after: str | None
    required_approvals: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name,
                               "required_approvals": list(self.required_approvals)}
        if self.after is not None:
            out["after"] = self.after
        return out


def environment_rules(items: Iterable[Mapping[str, Any]]) -> tuple[EnvironmentRule, ...]:
    """Environments in promotion order, each ``after`` naming an earlier one."""
    out: list[EnvironmentRule] = []
    for item in items:
        name = str(item["name"])
        after = item.get("after")
        if any(e.name == name for e in out):
            raise LifecycleViolation(f"environment {name!r} is listed twice")
        if after is not None and not any(e.name == after for e in out):
            raise LifecycleViolation(f"environment {name!r} comes after {after!r}, which is not "
                                     "listed before it")
        out.append(EnvironmentRule(name, None if after is None else str(after),
                                   tuple(str(r) for r in item.get("required_approvals", ()))))
    return tuple(out)


def lifecycle_details(role_members: Mapping[str, Sequence[str]],
                      environments: Iterable[EnvironmentRule]) -> dict[str, Any]:
    """The genesis ``details.lifecycle`` value pinning roles and environments."""
    return {"roles": {role: sorted(set(members)) for role, members in role_members.items()},
            "environments": [e.to_json() for e in environments]}


def apply_lifecycle_changes(roles: dict[str, list[str]] | None,
                            environments: tuple[EnvironmentRule, ...] | None,
                            changes: Iterable[Mapping[str, Any]]
                            ) -> tuple[dict[str, list[str]] | None,
                                       tuple[EnvironmentRule, ...] | None]:
    """The pinned roles and environments after a key_rotated event's lifecycle changes (other
    ops are the trust's); LifecycleViolation names a malformed change."""
    for ch in changes:
        op = ch.get("op")
        if op == "set_role_members":
            roles = dict(roles or {})
            roles[str(ch["role"])] = sorted({str(m) for m in ch["members"]})
        elif op == "set_environments":
            environments = environment_rules(ch["environments"])
    return roles, environments


def pinned_after(pinned: Mapping[str, Any] | None, changes: Iterable[Mapping[str, Any]]
                 ) -> dict[str, Any] | None:
    """The pinned lifecycle configuration as JSON (``{"roles", "environments"}``, either None
    while unknown) after ``changes``: the form the trust state stores it in."""
    roles = None if pinned is None or pinned.get("roles") is None else {
        str(k): [str(m) for m in v] for k, v in pinned["roles"].items()}
    envs = None if pinned is None or pinned.get("environments") is None else environment_rules(
        pinned["environments"])
    roles, envs = apply_lifecycle_changes(roles, envs, changes)
    if roles is None and envs is None:
        return None
    return {"roles": roles, "environments": None if envs is None else [e.to_json()
                                                                         for e in envs]}


def _short(digest: str | None) -> str:
    return f"{digest[:19]}..." if digest and len(digest) > 22 else str(digest)


class LifecycleReplay:
    """The lifecycle fold ``ledger verify`` runs; see the module docstring for the rules.

    State (all JSON): the pinned ``roles`` (role -> members) and ``environments`` (None until
    pinned), per release its model, retirement, approved digest and signed approvals, the
    latest gate decision per (release, environment, digest), what was ever live per (model,
    environment), and the open break-glass reviews.
    """

    def __init__(self) -> None:
        self.roles: dict[str, list[str]] | None = None
        self.environments: tuple[EnvironmentRule, ...] | None = None
        # release -> {"retired": seq|None, "approved": digest|None, "approvals": [...]}
        self.releases: dict[str, dict[str, Any]] = {}
        # "release\tenv\tdigest" -> [allow, decision_id, seq, used_by_seq|None]
        self.gates: dict[str, list[Any]] = {}
        self.live: dict[str, list[str]] = {}  # "model\tenv" -> releases ever live, in order
        self.obligations: dict[str, dict[str, Any]] = {}  # break_glass event_id -> facts
        self.last_seq = -1

    # --- persistence ------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "last_seq": self.last_seq,
                "roles": self.roles,
                "environments": None if self.environments is None
                else [e.to_json() for e in self.environments],
                "releases": self.releases, "gates": self.gates, "live": self.live,
                "obligations": self.obligations}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LifecycleReplay:
        if doc.get("version") != STATE_VERSION:
            raise ValueError(f"lifecycle replay state version {doc.get('version')!r}, expected "
                             f"{STATE_VERSION}")
        replay = cls()
        replay.last_seq = int(doc["last_seq"])
        roles = doc.get("roles")
        replay.roles = None if roles is None else {str(k): [str(m) for m in v]
                                                   for k, v in roles.items()}
        envs = doc.get("environments")
        replay.environments = None if envs is None else environment_rules(envs)
        replay.releases = {str(k): dict(v) for k, v in doc["releases"].items()}
        replay.gates = {str(k): list(v) for k, v in doc["gates"].items()}
        replay.live = {str(k): list(v) for k, v in doc["live"].items()}
        replay.obligations = {str(k): dict(v) for k, v in doc["obligations"].items()}
        return replay

    # --- one event --------------------------------------------------------------------------
    def check(self, seq: int, event: Mapping[str, Any], signer: Any = None) -> str | None:
        """Fold the event at ``seq``; the reason it breaks the lifecycle, or None (then the
        state includes it). ``signer`` (the verified signing principal, when known) only
        words the reasons."""
        kind = event.get("event_type")
        try:
            rule = REPLAY_RULE_OF.get(str(kind))  # the event table names the rule (or none)
            if rule is not None:
                REPLAY_HANDLERS[rule](self, seq, event, signer)
        except LifecycleViolation as err:
            return f"lifecycle: {err.reason}"
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            return f"lifecycle: {kind} event cannot be replayed ({type(err).__name__}: {err})"
        self.last_seq = seq
        return None

    def check_all(self, entries: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
        """Fold events (seq, event) in order; LifecycleViolation at the first that breaks it."""
        for seq, event in entries:
            reason = self.check(seq, event)
            if reason is not None:
                raise LifecycleViolation(f"seq {seq}: {reason}")

    # --- configuration ----------------------------------------------------------------------
    def _genesis(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        pinned = (event.get("details") or {}).get("lifecycle")
        if pinned is None:
            return  # an older genesis: the checks that need it fail closed
        self.roles = {str(k): sorted({str(m) for m in v})
                      for k, v in pinned["roles"].items()}
        self.environments = environment_rules(pinned["environments"])

    def _rotation(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        changes = (event.get("details") or {}).get("changes") or ()
        self.roles, self.environments = apply_lifecycle_changes(self.roles, self.environments,
                                                                changes)

    def _need_roles(self, what: str) -> dict[str, list[str]]:
        if self.roles is None:
            raise LifecycleViolation(
                f"cannot check {what}: the ledger pins no role membership (its genesis has no "
                "details.lifecycle; pin it with a key_rotated set_role_members change)")
        return self.roles

    def _need_environments(self, what: str) -> tuple[EnvironmentRule, ...]:
        if self.environments is None:
            raise LifecycleViolation(
                f"cannot check {what}: the ledger pins no environment order (its genesis has "
                "no details.lifecycle; pin it with a key_rotated set_environments change)")
        return self.environments

    def _member(self, actor: str, role: str, what: str, signer: Any) -> None:
        roles = self._need_roles(what)
        if role not in roles:
            raise LifecycleViolation(f"{what}: actor_role {role!r} is not a role the ledger "
                                     f"pins (roles: {', '.join(sorted(roles)) or 'none'})")
        if actor not in roles[role]:
            by = getattr(signer, "principal", None)
            recorded = f" (recorded by {by})" if by and by != actor else ""
            raise LifecycleViolation(
                f"{what}: {actor or '(no actor_id)'}{recorded} is not a member of role "
                f"{role!r} (members pinned in the ledger: "
                f"{', '.join(roles[role]) or 'none'})")

    def _release(self, rid: str) -> dict[str, Any]:
        life = self.releases.get(rid)
        if life is None:
            life = self.releases[rid] = {"retired": None, "approved": None, "approvals": []}
        return life

    def _not_retired(self, rid: str, what: str) -> None:
        retired = self._release(rid)["retired"]
        if retired is not None:
            raise LifecycleViolation(f"{what}: release {rid} was retired at seq {retired} and "
                                     "can never be live again")

    # --- gates and promotions ---------------------------------------------------------------
    def _gate(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        env, digest = event.get("environment"), event.get("release_digest")
        if env is None or digest is None:
            return  # a readiness check (no environment): no promotion can rest on it
        decision = event.get("decision") or {}
        self.gates[f"{event['release_id']}\t{env}\t{digest}"] = [
            decision.get("allow") is True, decision.get("decision_id"), seq, None]

    def _promoted(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        rid, env, digest = event["release_id"], event["environment"], event["release_digest"]
        what = f"deployment_promoted of {rid} to {env}"
        envs = self._need_environments(what)
        rule = next((e for e in envs if e.name == env), None)
        if rule is None:
            raise LifecycleViolation(f"{what}: {env!r} is not an environment the ledger pins "
                                     f"({', '.join(e.name for e in envs) or 'none'})")
        self._not_retired(rid, what)
        model = str(event["model_name"])
        if rule.after is not None and rid not in self.live.get(f"{model}\t{rule.after}", ()):
            raise LifecycleViolation(f"{what} skips the environment order: {rid} was never live "
                                     f"in {rule.after!r}, which comes before {env!r}")
        gate = self.gates.get(f"{rid}\t{env}\t{digest}")
        if gate is None:
            raise LifecycleViolation(f"{what}: no gate_evaluated for {rid}, {env} and digest "
                                     f"{_short(digest)} precedes it (promotions record their "
                                     "gate decision first)")
        allow, decision_id, gate_seq, used_by = gate
        if not allow:
            raise LifecycleViolation(f"{what}: the gate decision for it (seq {gate_seq}) "
                                     "denied the promotion")
        if used_by is not None:
            raise LifecycleViolation(f"{what}: the gate decision at seq {gate_seq} was already "
                                     f"used by the promotion at seq {used_by}; every promotion "
                                     "is gated anew")
        named = (event.get("decision") or {}).get("decision_id")
        if named is not None and decision_id is not None and named != decision_id:
            raise LifecycleViolation(f"{what} names decision {named}, the gate decision at seq "
                                     f"{gate_seq} is {decision_id}")
        gate[3] = seq
        self._went_live(model, env, rid)

    def _went_live(self, model: str, env: str, rid: str) -> None:
        ever = self.live.setdefault(f"{model}\t{env}", [])
        if rid not in ever:
            ever.append(rid)

    def _break_glass(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        rid, env = event.get("release_id"), event.get("environment")
        if rid is None:
            return
        self._not_retired(rid, f"break_glass of {rid}")
        if env is not None and event.get("model_name"):
            self._went_live(str(event["model_name"]), env, rid)
        self.obligations[str(event["event_id"])] = {
            "release": rid, "breaker": event.get("actor_id"), "seq": seq}

    def _rollback(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        target, env, model = event.get("to_release"), event["environment"], event["model_name"]
        if not target:
            return  # switching the model off is always a way back
        what = f"rollback_executed of {model} in {env} to {target}"
        life = self._release(target)
        if life["approved"] is None:
            raise LifecycleViolation(f"{what}: {target} is not approved (a rollback goes only "
                                     "to an approved release)")
        self._not_retired(target, what)
        if target not in self.live.get(f"{model}\t{env}", ()):
            raise LifecycleViolation(f"{what}: {target} was never live in {env} (a rollback "
                                     "goes only to a release previously live there)")

    def _retired(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        life = self._release(event["release_id"])
        if life["retired"] is None:
            life["retired"] = seq

    # --- approvals --------------------------------------------------------------------------
    def _approval(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        granted = event["event_type"] == APPROVAL_GRANTED
        rid, role = str(event["release_id"]), str(event["actor_role"])
        actor = str(event.get("actor_id") or "")
        what = f"{event['event_type']} of {rid}"
        self._member(actor, role, what, signer)
        details = event.get("details") or {}
        closes = details.get("closes") if isinstance(details, Mapping) else None
        post_hoc = isinstance(details, Mapping) and bool(details.get("post_hoc"))
        if closes or post_hoc:
            self._close(seq, rid, actor, granted, closes, what)
        life = self._release(rid)
        source = event.get("source") or {}
        github = isinstance(source, Mapping) and ("review_id" in source
                                                  or source.get("kind") == "github")
        if not github:  # evidence of a GitHub review is not an approval signed by the approver
            life["approvals"].append([str(event["event_id"]), actor, role,
                                      str(event.get("release_digest") or ""), granted,
                                      str(event["timestamp"])])
        if not granted:
            life["approved"] = None

    def _close(self, seq: int, rid: str, actor: str, granted: bool, closes: Any,
               what: str) -> None:
        if not granted:
            raise LifecycleViolation(f"{what}: a denial cannot close a break-glass review")
        if closes:
            ob = self.obligations.get(str(closes))
            if ob is None or ob["release"] != rid:
                raise LifecycleViolation(f"{what} closes {closes}, which is not an open "
                                         f"break-glass review of {rid}")
            keys = [str(closes)]
        else:
            keys = [k for k, ob in self.obligations.items() if ob["release"] == rid]
        for key in keys:
            ob = self.obligations[key]
            if ob["breaker"] == actor:
                raise LifecycleViolation(f"{what}: {actor} broke the glass (seq {ob['seq']}) and "
                                         "cannot close its post-hoc review")
        for key in keys:
            del self.obligations[key]

    def strictest(self, what: str) -> EnvironmentRule:
        """The environment with the most required roles (ties: the later), as
        ``governance.approving.strictest_environment`` chooses."""
        envs = self._need_environments(what)
        if not envs:
            raise LifecycleViolation(f"cannot check {what}: the ledger pins no environment")
        return max(reversed(envs), key=lambda e: len(e.required_approvals))

    def _release_approved(self, seq: int, event: Mapping[str, Any], signer: Any) -> None:
        rid, digest = str(event["release_id"]), str(event["release_digest"])
        what = f"release_approved of {rid}"
        roles = self._need_roles(what)
        env = self.strictest(what)
        life = self._release(rid)
        words = [a for a in life["approvals"] if a[3] == digest]  # signed words on this digest
        details = event.get("details")
        verdict = details.get("verdict") if isinstance(details, Mapping) else None
        problems = _unsupported(env, roles, words)
        if verdict is not None:
            problems += _verdict_problems(verdict, env, roles, words)
        elif isinstance(details, Mapping) and "approvers" in details:
            problems += _approvers_problems(details["approvers"], env, words)
        else:  # approve always names its count; an event naming none is not approve's
            problems.append("it names no counted approvals (details.verdict or "
                            "details.approvers)")
        if problems:
            raise LifecycleViolation(f"{what} (digest {_short(digest)}) is not supported by "
                                     f"the counted approvals for {env.name!r}: "
                                     + "; ".join(problems))
        life["approved"] = digest
        for key in [k for k, ob in self.obligations.items() if ob["release"] == rid]:
            del self.obligations[key]


def _unsupported(env: EnvironmentRule, roles: Mapping[str, Sequence[str]],
                 words: Sequence[Sequence[Any]]) -> list[str]:
    """What the signed words on the digest ([event_id, actor, role, digest, granted, timestamp])
    lack for an approval: a required role no current member granted, or a denial (which blocks
    the digest, as it does in the gate). Each is a fact the ledger proves, not a count."""
    problems = [f"{a[1]} denied as {a[2]} ({a[0]})" for a in words if not a[4]]
    for role in env.required_approvals:
        members = {identity_key(m) for m in roles.get(role, ())}
        if not any(a[4] and a[2] == role and identity_key(a[1]) in members for a in words):
            problems.append(f"role {role} has no signed approval of this digest by a current "
                            f"member (members pinned in the ledger: "
                            f"{', '.join(roles.get(role, ())) or 'none'})")
    return problems


def _verdict_problems(verdict: Any, env: EnvironmentRule, roles: Mapping[str, Sequence[str]],
                      words: Sequence[Sequence[Any]]) -> list[str]:
    """Where the recorded gate verdict disagrees with the signed words on the digest."""
    if not isinstance(verdict, Mapping):
        return ["details.verdict is not an object"]
    problems = [f"details.verdict.{k} is missing" for k in ("policy_digest", "decision_id")
                if not isinstance(verdict.get(k), str) or not verdict.get(k)]
    if verdict.get("allow") is not True:
        problems.append("the recorded gate verdict did not allow it")
    if verdict.get("environment") != env.name:
        problems.append(f"the recorded gate verdict is for {verdict.get('environment')!r}, the "
                        f"strictest environment the ledger pins is {env.name!r}")
    counted = verdict.get("counted")
    if not isinstance(counted, list) or not all(isinstance(c, Mapping) for c in counted):
        return [*problems, "details.verdict.counted is not a list of objects"]
    for c in counted:
        role, actor, event_id = str(c.get("role")), str(c.get("actor_id")), c.get("event_id")
        grants = [a for a in words if a[4] and a[2] == role
                  and identity_key(a[1]) == identity_key(actor)]
        if identity_key(actor) not in {identity_key(m) for m in roles.get(role, ())}:
            problems.append(f"the recorded verdict counts {actor} as {role}, who is not a "
                            "member the ledger pins")
        elif not grants:
            problems.append(f"the recorded verdict counts {actor} as {role}, who signed no "
                            "approval of this digest in that role")
        elif event_id is not None and event_id not in {a[0] for a in grants}:
            problems.append(f"the recorded verdict counts {actor}'s approval {event_id} as "
                            f"{role}, which is not their signed approval of this digest "
                            f"({', '.join(a[0] for a in grants)})")
    named = {str(c.get("role")) for c in counted}
    problems += [f"the recorded verdict counts nobody for role {r}"
                 for r in env.required_approvals if r not in named]
    return problems + _one_slot_each([(str(c.get("role")), str(c.get("actor_id")))
                                      for c in counted])


def _one_slot_each(counted: Sequence[tuple[str, str]]) -> list[str]:
    """A recorded count is an assignment of people to role slots, and the gate fills every slot
    with a different person: a person named for two slots (two roles, or twice in one) is a
    count the gate never makes. This checks the record's shape, it does not count again."""
    slots: dict[str, list[str]] = {}
    for role, actor in counted:
        slots.setdefault(identity_key(actor), []).append(role)
    return [f"the recorded count fills {len(roles)} slots ({', '.join(roles)}) with one person, "
            f"{person}; every slot needs a different person"
            for person, roles in slots.items() if len(roles) > 1]


def _approvers_problems(approvers: Any, env: EnvironmentRule,
                        words: Sequence[Sequence[Any]]) -> list[str]:
    """An event without a verdict (written before approve recorded one) names its count as
    ``details.approvers`` ("role:person"): each one a signed approval of the digest, one slot
    each."""
    if not isinstance(approvers, list) or not all(
            isinstance(a, str) and ":" in a for a in approvers):
        return ["details.approvers is not a list of 'role:person'"]
    pairs = [tuple(a.split(":", 1)) for a in approvers]
    problems = [f"details.approvers names {person} as {role}, who signed no approval of this "
                "digest in that role" for role, person in pairs
                if not any(w[4] and w[2] == role and identity_key(w[1]) == identity_key(person)
                           for w in words)]
    named = {role for role, _ in pairs}
    problems += [f"details.approvers names nobody for role {r}"
                 for r in env.required_approvals if r not in named]
    return problems + _one_slot_each([(role, person) for role, person in pairs])


# The replay's rules by the name the event table gives (``EventSpec.replay``);
# tests/unit/test_event_table.py checks every name the table uses is here and every rule used.
REPLAY_HANDLERS: Mapping[str, Callable[[LifecycleReplay, int, Mapping[str, Any], Any], None]] = {
    "genesis": LifecycleReplay._genesis,
    "rotation": LifecycleReplay._rotation,
    "gate": LifecycleReplay._gate,
    "promoted": LifecycleReplay._promoted,
    "emergency": LifecycleReplay._break_glass,
    "rollback": LifecycleReplay._rollback,
    "retired": LifecycleReplay._retired,
    "approval": LifecycleReplay._approval,
    "approved": LifecycleReplay._release_approved,
}
