"""The gate input document: Python gathers the facts, Rego decides (STYLE: "Python builds the
input, Rego decides").

Shape: governance/schemas/gate-input.schema.json (validated before every evaluation; an input
that does not match is "could not decide", never a pass). Normalisations made here because of
regopy's gaps (docs/policy.md):

- every timestamp appears twice, as RFC 3339 with ``+00:00`` (``time.parse_rfc3339_ns`` in
  regopy rejects ``Z``) and as integer nanoseconds since the epoch (``*_ns``), so policies
  compare integers and never parse times;
- version comparisons are precomputed (``versions.model_version_vs_baseline``: -1, 0, 1)
  because regopy's ``semver.compare`` orders ``1.10.0`` before ``1.9.0``;
- facts that need the disk or the ledger (is a local evidence file present, what is its
  sha256, is the rollback target registered, earlier, approved) are computed here; whether
  they are acceptable is decided by the gates;
- every identity the gates compare (approvals' ``actor_id``, ``release.trained_by``, role
  members, people, bots, excluded actors, waiver approvers, duty holders) is in its normal form
  (``governance.domain.identity.identity_key``: GitHub logins are case-insensitive), so the
  policies compare ids with ``==`` and ``Alice`` is the same person as ``alice``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from governance.digest import YAML_SUFFIXES, file_sha256
from governance.domain.card import ModelCard, is_placeholder
from governance.domain.config import GovernanceConfig, Waiver
from governance.domain.identity import identity_key
from governance.domain.model import Model
from governance.domain.release import Release
from governance.errors import UsageError
from governance.input_files import InputFileProblem, read_input
from governance.lifecycle import DRAFT, LifecycleState, is_approved
from governance.records import display_path
from governance.repo import CARD_FILE, RELEASE_FILE, GovernedRepo, LoadedRelease
from governance.timeparse import (
    TimeFormatError,
    format_rfc3339_offset,
    parse_instant_or_date,
    utc_now,
)
from governance.timeparse import to_ns as _to_ns
from governance.yaml_source import DEFAULT_MAX_BYTES

INPUT_SCHEMA_VERSION = "governance/gate-input/v1"
APPROVAL_SOURCES = ("github", "git", "none")


# --- time ---------------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """A recorded time: RFC 3339 with ``Z`` or an offset, or a date (``YYYY-MM-DD``, start of day
    UTC), by the one rule set of ``governance.timeparse``; anything else is a UsageError."""
    try:
        return parse_instant_or_date(text.strip())
    except TimeFormatError as err:
        raise UsageError(f"{text!r} is not an RFC 3339 time ({err})",
                         hint="expected e.g. 2026-05-06T08:00:00Z") from None


# the gate input's two forms of an instant (see the module docstring)
to_ns = _to_ns
rfc3339 = format_rfc3339_offset


def time_fields(text: str | None) -> tuple[str | None, int | None]:
    if not text:
        return None, None
    moment = parse_time(text)
    return rfc3339(moment), to_ns(moment)


# --- versions -----------------------------------------------------------------------------


def _version_key(version: str) -> tuple[tuple[int, Any], ...]:
    parts = re.split(r"[.\-+_]", version.strip().lstrip("vV"))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def compare_versions(a: str | None, b: str | None) -> int | None:
    """-1/0/1 comparing numeric parts numerically (1.10.0 > 1.9.0; dates compare as dates)."""
    if not a or not b:
        return None
    ka, kb = _version_key(a), _version_key(b)
    return (ka > kb) - (ka < kb)


# --- the lifecycle and approval facts the caller supplies -----------------------------------


@dataclass(frozen=True)
class ApprovalFact:
    """One approval as the approval sources report it (fixed shape; see the schema)."""

    role: str
    actor_id: str
    source: str  # github | git
    digest: str | None
    commit_id: str | None
    submitted_at: str
    state: str = "approved"  # approved | denied | changes_requested
    role_verified: bool = False  # team membership resolved by the source
    reason: str | None = None
    review_id: str | None = None
    permission: str | None = None  # a GitHub reviewer's permission on the repository
    account_type: str | None = None  # a GitHub reviewer's account type (User, Bot, ...)

    def to_input(self) -> dict[str, Any]:
        at, at_ns = time_fields(self.submitted_at)
        out: dict[str, Any] = {
            "role": self.role,
            "actor_id": self.actor_id,
            "source": self.source,
            "state": self.state,
            "digest": self.digest,
            "commit_id": self.commit_id,
            "submitted_at": at,
            "submitted_at_ns": at_ns,
            "role_verified": self.role_verified,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.review_id is not None:
            out["review_id"] = self.review_id
        if self.permission is not None:
            out["permission"] = self.permission
        if self.account_type is not None:
            out["account_type"] = self.account_type
        return out


def approvals_from_ledger(state: LifecycleState, release_id: str) -> list[ApprovalFact]:
    life = state.release(release_id)
    if life is None:
        return []
    facts = []
    for a in life.approvals:
        commit = a.source.get("head_sha") or a.source.get("commit") if a.source else None
        facts.append(
            ApprovalFact(
                role=a.role,
                actor_id=a.actor_id,
                source="github" if a.source.get("review_id") else "git",
                digest=a.digest,
                commit_id=str(commit) if commit else None,
                submitted_at=a.timestamp,
                state="approved" if a.granted else "denied",
                role_verified=bool(a.source.get("role_verified", False)),
                review_id=str(a.source["review_id"]) if a.source.get("review_id") else None,
            )
        )
    return facts


@dataclass(frozen=True)
class GateRequest:
    """What one ``check`` evaluates: the environment (None = readiness), time and sources."""

    environment: str | None = None
    now: datetime = field(default_factory=utc_now)
    approval_source: str = "git"
    approvals: tuple[ApprovalFact, ...] = ()
    excluded_actors: tuple[str, ...] = ()  # PR author, committers (from the PR source)
    checks: tuple[Mapping[str, Any], ...] = ()
    pr: int | None = None
    deployers: tuple[str, ...] = ()  # everyone who promotes (separation of duties)
    head_sha: str | None = None  # the pull request's head: GitHub approvals bind to it
    # release_id -> the release directory's digest AT that head (None: absent there). A review
    # approves the head commit, so it binds to the content there, not to whatever a merge
    # commit or a checkout holds now; empty: not computed (the content checked is the head's).
    head_digests: tuple[tuple[str, str | None], ...] = ()
    # the pull request's CODEOWNERS groups: {"owners", "paths", "people"} (the gate decides)
    codeowners: tuple[Mapping[str, Any], ...] = ()
    # only approvals signed by the approver count (``approve``'s release_approved, as the
    # ledger's replay checks it): GitHub reviews recorded by CI are left out
    signed_only: bool = False


# --- the builder --------------------------------------------------------------------------


class ReleaseFacts:
    """Cheap, cached facts about other releases (created_at, model, card metrics) for a run.

    ``check --all`` builds thousands of inputs; baseline and rollback-target lookups hit the
    same few releases again and again, so each is loaded once.
    """

    def __init__(self, repo: GovernedRepo) -> None:
        self.repo = repo
        self._loaded: dict[str, LoadedRelease | None] = {}
        self._created: dict[Path, int | None] = {}
        self._model_times: dict[Path, list[int]] = {}
        self._model_dirs: dict[Path, list[Path]] | None = None

    def load(self, release_id: str) -> LoadedRelease | None:
        if release_id not in self._loaded:
            dirs = self.repo.release_index().get(release_id)
            self._loaded[release_id] = self.repo.load_release(dirs[0]) if dirs else None
        return self._loaded[release_id]

    def remember(self, loaded: LoadedRelease) -> None:
        self._loaded.setdefault(loaded.release.release_id, loaded)

    def created_ns(self, directory: Path) -> int | None:
        if directory not in self._created:
            self._created[directory] = _created_at_ns(directory / RELEASE_FILE)
        return self._created[directory]

    def _by_model(self) -> dict[Path, list[Path]]:
        """Release directories grouped by model directory (one pass over the index)."""
        if self._model_dirs is None:
            grouped: dict[Path, list[Path]] = {}
            for entries in self.repo.release_index().values():
                for d in entries:
                    grouped.setdefault(d.parent, []).append(d)
            self._model_dirs = grouped
        return self._model_dirs

    def releases_before(self, loaded: LoadedRelease) -> int:
        """How many releases of the same model were created earlier (sorted once per model)."""
        mine = time_fields(loaded.release.created_at)[1]
        model_dir = loaded.directory.parent
        if model_dir not in self._model_times:
            times = []
            for d in self._by_model().get(model_dir, ()):
                if (t := self.created_ns(d)) is not None:
                    times.append(t)
            self._model_times[model_dir] = sorted(times)
        if mine is None:
            return 0
        return bisect.bisect_left(self._model_times[model_dir], mine)


_CREATED = re.compile(r"^created_at:\s*['\"]?([^'\"\n#]+)", re.MULTILINE)


def _created_at_ns(path: Path) -> int | None:
    """created_at of a release record, read without a full YAML load (ordering only)."""
    try:  # a regular file only, bounded (a FIFO must not hang the gates); validate names it
        text = read_input(path, str(path), DEFAULT_MAX_BYTES).decode("utf-8", "replace")
        m = _CREATED.search(text)
        return time_fields(m.group(1).strip())[1] if m else None
    except (InputFileProblem, UsageError):
        return None


def _artifacts(loaded: LoadedRelease) -> list[dict[str, Any]]:
    # The digest hashed every file of the release directory byte-exact, except YAML (line
    # endings normalised): evidence hashes are taken from it, the same bytes approvals bind to.
    hashed = {rel: sha for rel, sha in loaded.digest.manifest if not rel.endswith(YAML_SUFFIXES)}
    out = []
    for path, ref in loaded.release.evidence_refs():
        name = path[2:] if path.startswith("$.") else path
        item: dict[str, Any] = {
            "name": name,
            "uri": ref.uri,
            "sha256": ref.sha256,
            "local": ref.path is not None,
            "field": path,
        }
        if ref.path is not None:
            item["path"] = ref.path
            known = hashed.get(PurePosixPath(ref.path).as_posix())
            local = loaded.directory / ref.path
            item["present"] = known is not None or local.is_file()
            if known is not None:
                item["actual_sha256"] = known
            elif item["present"]:
                item["actual_sha256"] = file_sha256(local)
        out.append(item)
    return out


def _evaluation(card: ModelCard) -> dict[str, Any]:
    # an unfilled skeleton placeholder is no time (the freshness gate then says so; the card
    # gate names the placeholder)
    at, at_ns = time_fields(None if is_placeholder(card.evaluated_at) else card.evaluated_at)
    return {
        "metrics": dict(card.metrics),
        "subgroups": {k: dict(v) for k, v in card.subgroups.items()},
        "test_conditions": dict(card.test_conditions),
        "completed_at": at,
        "completed_at_ns": at_ns,
    }


def config_input(config: GovernanceConfig) -> dict[str, Any]:
    raw = config.raw or {}
    return {
        "gates": dict(raw.get("gates") or config.gates or {}),
        "environments": {
            name: {
                "required_approvals": list(env.required_approvals),
                **({"after": env.after} if env.after else {}),
            }
            for name, env in config.environments.items()
        },
        "roles": {
            name: {"members": _ids(role.members), "teams": list(role.teams)}
            for name, role in config.roles.items()
        },
        "risk_tiers": {
            tier: {"approvals_per_role": n} for tier, n in config.approvals_per_role.items()
        },
        "people": sorted(set(_ids(config.people))),
        "bots": sorted(set(_ids(config.bots))),
        "ledger": {"clock_skew_seconds": (config.ledger or {}).get("clock_skew_seconds", 300)},
    }


def _ids(identities: Iterable[str]) -> list[str]:
    """Identities in their normal form, in the order given (the gates compare them with ==)."""
    return [identity_key(i) for i in identities]


def waivers_data(waivers: Sequence[Waiver]) -> dict[str, Any]:
    """``data.waivers``; a date expiry means the end of that day UTC (governance.yaml docs)."""
    out = []
    for w in waivers:
        expires = parse_time(w.expires)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", w.expires.strip()):
            expires = expires + timedelta(days=1)
        item: dict[str, Any] = {
            "gate_id": w.gate_id,
            "model": w.model,
            "approver": identity_key(w.approver),
            "reason": w.reason,
            "expires": w.expires,
            "expires_ns": to_ns(expires),
        }
        if w.release_id:
            item["release_id"] = w.release_id
        out.append(item)
    return {"waivers": out}


def _duties(release: Release, approvals: Sequence[ApprovalFact], request: GateRequest
            ) -> dict[str, Any]:
    """Who held which duty (trainer, approvers, deployer, PR author and committers) and the
    rule pairs; the separation_of_duties gate finds the overlaps."""
    from governance.approvals.duties import duties_input, holders_from

    holders = holders_from(
        trainers=[release.trained_by] if release.trained_by else [],
        committers=request.excluded_actors,
        # pull request reviews hold the approver duty only when the approvals gate counts
        # them (separation_of_duties.rego adds those); signed approvals always do
        approvers=[a.actor_id for a in approvals if a.state == "approved" and a.source != "github"],
        deployers=request.deployers,
    )
    facts = duties_input(holders)
    return {"duties": facts["duties"], "rules": facts["rules"]}


def build_gate_input(
    repo: GovernedRepo,
    loaded: LoadedRelease,
    request: GateRequest,
    state: LifecycleState,
    facts: ReleaseFacts | None = None,
    *,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The input document for one release (see the module docstring and the JSON Schema).

    One section builder per part of the document; each gathers facts, none decides.
    """
    facts = facts or ReleaseFacts(repo)
    facts.remember(loaded)
    release: Release = loaded.release
    cfg = repo.config
    model: Model | None = loaded.model
    env_doc = environment_section(cfg, model, request.environment)
    baseline_doc, baseline_version = baseline_section(release, state, facts)
    approvals = approvals_section(loaded, request, state)
    now = request.now.astimezone(UTC)
    return {
        "schema": INPUT_SCHEMA_VERSION,
        "mode": "promotion" if env_doc else "readiness",
        "environment": env_doc,
        "time": {"now": rfc3339(now), "now_ns": to_ns(now)},
        "release": release_section(loaded),
        "model_card": {**loaded.card.to_json(),
                       "file": display_path(loaded.directory / CARD_FILE)},
        "model": {
            **(model.to_json() if model else {"name": release.model_name, "risk_tier": "high"}),
            "releases_before": facts.releases_before(loaded),
        },
        "config": dict(config) if config is not None else config_input(cfg),
        "baseline": baseline_doc,
        "versions": {
            "model_version": release.model_version,
            "baseline_model_version": baseline_version,
            "model_version_vs_baseline": compare_versions(release.model_version, baseline_version),
        },
        "lifecycle": lifecycle_section(release, state),
        "rollback_target": rollback_section(repo, loaded, state, facts),
        "approvals": [{**a.to_input(), "actor_id": identity_key(a.actor_id)} for a in approvals],
        "separation_of_duties": _duties(release, approvals, request),
        "approval_source": request.approval_source,
        "approval_context": approval_context_section(cfg, request),
        "checks": [dict(c) for c in request.checks],
    }


def environment_section(cfg: GovernanceConfig, model: Model | None,
                        environment: str | None) -> dict[str, Any] | None:
    """The environment promoted to (None: readiness), with the roles it requires (the model's
    ``approver_roles`` when it names any)."""
    if environment is None:
        return None
    env = cfg.environments.get(environment)
    if env is None:
        from governance.errors import NotFound

        raise NotFound(
            f"unknown environment {environment!r}",
            hint=f"governance.yaml defines: {', '.join(cfg.environments) or 'none'}",
        )
    roles = list(model.approver_roles) if model and model.approver_roles else []
    return {
        "name": env.name,
        "after": env.after,
        "required_approvals": roles or list(env.required_approvals),
    }


def baseline_section(release: Release, state: LifecycleState, facts: ReleaseFacts
                     ) -> tuple[dict[str, Any] | None, str | None]:
    """The baseline release's metrics and state (and its model version), if one is named."""
    if not release.baseline:
        return None, None
    base = facts.load(release.baseline)
    if base is None:
        return {"release_id": release.baseline, "found": False}, None
    life = state.release(release.baseline)
    return {
        "release_id": release.baseline,
        "found": True,
        "model_name": base.release.model_name,
        "model_version": base.release.model_version,
        "metrics": dict(base.card.metrics),
        "subgroups": {k: dict(v) for k, v in base.card.subgroups.items()},
        "lifecycle_state": life.state if life else DRAFT,
    }, base.release.model_version


def rollback_section(repo: GovernedRepo, loaded: LoadedRelease, state: LifecycleState,
                     facts: ReleaseFacts) -> dict[str, Any]:
    """The declared rollback target: registered, same model, earlier, approved, not retired."""
    release = loaded.release
    target = release.rollback_target
    rollback: dict[str, Any] = {"declared": target is not None}
    if target is None:
        return rollback
    rollback["disable"] = bool(target.disable)
    rollback["reason"] = target.reason
    rollback["release_id"] = target.release_id
    if not target.release_id:
        return rollback
    dirs = repo.release_index().get(target.release_id) or []
    rollback["registered"] = bool(dirs)
    if dirs:
        _, created_ns = time_fields(release.created_at)
        rollback["same_model"] = dirs[0].parent == loaded.directory.parent
        theirs = facts.created_ns(dirs[0])
        rollback["earlier"] = theirs is not None and created_ns is not None and theirs < created_ns
        life = state.release(target.release_id)
        rollback["lifecycle_state"] = life.state if life else DRAFT
        rollback["approved"] = bool(life and is_approved(life) and not life.retired)
    return rollback


def lifecycle_section(release: Release, state: LifecycleState) -> dict[str, Any]:
    """The release's folded lifecycle: state, approved digest, where it is and was live, and
    the model's open obligations (break-glass reviews)."""
    rid, model_name = release.release_id, release.model_name
    life = state.release(rid)
    live_in = sorted(
        env
        for (m, env), _spans in state.live.items()
        if m == model_name and (cur := state.current(m, env)) and cur.release_id == rid
    )
    return {
        "state": life.state if life else DRAFT,
        "approved_digest": life.approved_digest if life else None,
        "was_live_in": sorted(life.environments_live) if life else [],
        "live_in": live_in,
        "obligations": [
            {
                "kind": o.kind,
                "event_id": o.event_id,
                "incident": o.incident,
                "description": f"{o.kind} for {o.release_id or model_name}"
                + (f" (incident {o.incident})" if o.incident else "")
                + f" opened {o.opened_at} by {o.actor_id}",
            }
            for o in state.open_obligations(model_name)
        ],
    }


def approvals_section(loaded: LoadedRelease, request: GateRequest, state: LifecycleState
                      ) -> list[ApprovalFact]:
    """The approvals of the chosen source (``git``: the ledger's; ``none``: nothing), each bound
    to the digest it approved."""
    rid, digest = loaded.release.release_id, loaded.digest.value
    approvals = list(request.approvals)
    if request.approval_source == "git" and not approvals:
        approvals = approvals_from_ledger(state, rid)
    if request.approval_source == "none":
        approvals = []
    if request.signed_only:
        approvals = [a for a in approvals if a.source == "git"]
    # A GitHub review approves the PR's head commit, so it binds to the digest of this release
    # directory AT that head (DESIGN section 6). After a merge the checkout is the merge commit:
    # when its content differs from the head's, the approvals bind to the head's digest and no
    # longer match the release checked now.
    at_head = dict(request.head_digests).get(rid, digest) if request.head_digests else digest
    return [
        replace(a, digest=at_head)
        if a.source == "github" and a.digest is None and a.commit_id
        and a.commit_id == request.head_sha
        else a
        for a in approvals
    ]


def approval_context_section(cfg: GovernanceConfig, request: GateRequest) -> dict[str, Any]:
    """Who never counts (authors, committers, bots), and for a pull request its number, head
    commit and CODEOWNERS groups (owners, paths, the people who may answer for them)."""
    context: dict[str, Any] = {
        "excluded_actors": sorted(set(_ids(request.excluded_actors)) | set(_ids(cfg.bots))),
        "pr": request.pr,
    }
    if request.head_sha is not None and request.approval_source == "github":
        context["head_sha"] = request.head_sha
    if request.codeowners:
        context["codeowners"] = [
            {"owners": list(g["owners"]), "paths": list(g["paths"]),
             "people": sorted(set(_ids(g["people"])))}
            for g in request.codeowners
        ]
    return context


def release_section(loaded: LoadedRelease) -> dict[str, Any]:
    """The release record with its digest, files, times, artifacts and evaluation facts."""
    release = loaded.release
    created_at, created_ns = time_fields(release.created_at)
    release_doc: dict[str, Any] = {
        **release.to_json(),
        "created_at": created_at,
        "created_at_ns": created_ns,
        "digest": loaded.digest.value,
        "file": display_path(loaded.directory / RELEASE_FILE),
        "directory": display_path(loaded.directory),
        "artifacts": _artifacts(loaded),
        "evaluation": _evaluation(loaded.card),
    }
    if release.trained_by:
        release_doc["trained_by"] = identity_key(release.trained_by)
    return release_doc


LifecycleProvider = Callable[[GovernedRepo], LifecycleState]
