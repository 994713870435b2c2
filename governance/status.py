"""What `governance status` reports: per model and environment, the live release, the fallback,
pointer drift against the ledger, release states and open obligations (pure over the fold).

The fold of one model needs only the events that name it: ``model_state`` reads them from the
query index (``governance/audit/index.py``, caught up incrementally from the ledger and refusing
a rewritten one) instead of reading and folding the whole ledger on every call. Every event the
fold acts on (registration, gates, approvals, promotions, break-glass, rollbacks, retirement)
carries ``model_name``, so the per-model fold equals the whole-ledger fold for that model
(tests/integration/lifecycle checks the two agree).

Release states are what is true now (``LifecycleState.standings``): ``production`` only for
the release live in production, ``superseded`` (since when, by which release) for one replaced
there. Releases are listed newest first by time (the first ledger event naming the release;
for a release the ledger does not name yet, its ``created_at``), the newest ``DEFAULT_LIMIT``
unless asked for more, with a count per state and a line saying how many were left out.

Approval status of a release awaiting promotion (listed, on disk, not live, retired or
replaced) is the required-approvals gate's own count for the strictest environment
(``governance.policy.approval_standing``, the same as ``report`` and ``explain``): per role
who counted and, for every approval that did not, the gate's reason. It is evaluated for the
newest ``APPROVALS_LIMIT`` such releases (one engine for all of them); others say how to ask.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.audit import queries
from governance.display import display_path
from governance.domain.event_types import BREAK_GLASS, ROLLBACK_EXECUTED
from governance.domain.frozen import frozen
from governance.domain.lazy_re import lazy
from governance.domain.lifecycle_states import APPROVED, DRAFT, REJECTED, VALIDATED
from governance.errors import GovernanceError
from governance.input_files import InputFileProblem, read_input
from governance.safe_text import join_lines
from governance.text import when
from governance.timeparse import TimeFormatError, parse_instant_fast, to_seconds

if TYPE_CHECKING:  # the fold's classes: only when folding (a kept summary needs none)
    from governance.domain.config import GovernanceConfig
    from governance.lifecycle import LifecycleState
    from governance.repo import GovernedRepo
    from governance.status_memo import StatusMemo

# governance.repo's names of the layout and its default size limit (governance.yaml_source's),
# not imported: they bring the YAML parser and the document loader, which a warm status reads
# no file with (StatusFiles); tests/unit/test_status_files.py checks they are the same.
RELEASES = "releases"
ENVIRONMENTS = "environments"
RELEASE_FILE = "release.yaml"
MODEL_FILE = "model.yaml"
DEFAULT_MAX_BYTES = 1024 * 1024

DEFAULT_LIMIT = 20  # releases listed per model unless --all (or --limit) asks for more
APPROVALS_LIMIT = 20  # awaiting releases per model whose approvals the gate counts in status
AWAITING = frozenset({DRAFT, VALIDATED, APPROVED, REJECTED})


@frozen
class ModelStatus:
    model: str
    environments: tuple[dict[str, Any], ...]
    releases: tuple[dict[str, Any], ...]
    obligations: tuple[dict[str, Any], ...]
    drift: tuple[str, ...]
    releases_total: int = 0  # every release of the model, listed or not
    state_counts: tuple[tuple[str, int], ...] = ()  # state -> releases, over all of them

    @property
    def releases_omitted(self) -> int:
        return self.releases_total - len(self.releases)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "environments": list(self.environments),
                "releases": list(self.releases), "releases_total": self.releases_total,
                "releases_omitted": self.releases_omitted,
                "state_counts": dict(self.state_counts),
                "obligations": list(self.obligations), "drift": list(self.drift)}


def model_state(conn: sqlite3.Connection, model: str, *,
                production_env: str) -> LifecycleState:
    """The lifecycle of ``model`` folded from the index's events that name it;
    ``production_env``: governance.yaml's last environment."""
    from governance.lifecycle import LifecycleState, fold_lifecycle

    if not queries.model_exists(conn, model):
        return LifecycleState(production_env=production_env)
    return fold_lifecycle(queries.history(conn, model), production_env=production_env)


def model_summary(conn: sqlite3.Connection, model: str, *, production_env: str,
                  memo: StatusMemo | None) -> tuple[dict[str, Any], LifecycleState | None]:
    """``summarize`` of the fold of ``model``, and the fold when it was made: from ``memo``
    when it holds the summary for the model's last event (confirmed against the verified
    chain), else folded from the model's confirmed events (and kept in ``memo``)."""
    from governance.audit.index import model_head

    head = model_head(conn, model) if memo is not None else None
    if memo is not None and head is not None:
        kept = memo.get(model, production_env, head)
        if kept is not None:
            return kept, None
    state = model_state(conn, model, production_env=production_env)
    summary = summarize(state, model)
    if memo is not None and head is not None:
        memo.put(model, production_env, head, summary)
    return summary, state


def model_status(repo: GovernedRepo, state: LifecycleState, model: str,
                 limit: int | None = DEFAULT_LIMIT) -> ModelStatus:
    """The status of ``model``; ``limit`` newest releases listed (None: every release)."""
    return status_of(repo, summarize(state, model), model, limit, lambda: state)


def summarize(state: LifecycleState, model: str) -> dict[str, Any]:
    """Everything ``status`` reads from the fold of ``model``, as JSON (so a summary kept for
    a verified ledger position, ``governance.status_memo``, answers exactly as the fold):
    per environment with a history there, the live span and the fallback; per release the
    ledger names ``[release_id, state, first ledger time, sort key, approved digest,
    standing]`` (its standing now as JSON; in a kept summary the standing's JSON text, read
    only when the release is listed: ``governance.status_memo``); the open obligations."""
    envs: dict[str, Any] = {}
    for m, env in state.live:
        if m != model:
            continue
        current = state.current(model, env)
        envs[env] = {
            "live": None if current is None else {
                "release_id": current.release_id, "since": current.since,
                "by": current.actor_id, "via": current.event_type, "seq": current.seq},
            "fallback": state.fallback(model, env)}
    releases = []
    for rid, standing in state.standings(model).items():
        life = state.release(rid)
        releases.append([standing.release_id, standing.state, standing.first_seen,
                         list(_sort_key(standing.first_seen)) if standing.first_seen else None,
                         life.approved_digest if life else None, standing.to_json()])
    obligations = [{"kind": o.kind, "event_id": o.event_id, "seq": o.seq,
                    "release_id": o.release_id, "environment": o.environment,
                    "incident": o.incident, "opened_at": o.opened_at, "by": o.actor_id}
                   for o in state.open_obligations(model)]
    return {"environments": envs, "releases": releases, "obligations": obligations}


class _Unreadable(Exception):
    """A kept standing that is not the JSON object it was written as."""


def _standing(value: Any) -> dict[str, Any]:
    """A release's standing in a summary: the object, or its JSON text as kept
    (``governance.status_memo``)."""
    if type(value) is str:
        try:
            value = json.loads(value)
        except ValueError:
            raise _Unreadable from None
    if not isinstance(value, dict):
        raise _Unreadable
    return value


def status_of(repo: GovernedRepo | StatusFiles, summary: dict[str, Any], model: str,
              limit: int | None, full_state: Callable[[], LifecycleState]) -> ModelStatus:
    """The status of ``model`` from its ``summary``; ``full_state`` gives the whole fold, asked
    for only when a listed release awaits promotion (the approvals gate's input reads it), or
    when a kept standing cannot be read (the status is then that of the fold, as on a miss of
    the memo)."""
    try:
        return _status_of(repo, summary, model, limit, full_state)
    except _Unreadable:
        state = full_state()
        return _status_of(repo, summarize(state, model), model, limit, lambda: state)


def _status_of(repo: GovernedRepo | StatusFiles, summary: dict[str, Any], model: str,
               limit: int | None, full_state: Callable[[], LifecycleState]) -> ModelStatus:
    files = repo if isinstance(repo, StatusFiles) else StatusFiles.of(repo)
    envs = []
    drift = []
    known = summary["environments"]
    for env in files.config.environments:
        here = known.get(env) or {}
        current = here.get("live")
        envs.append({
            "environment": env,
            "live": current["release_id"] if current else None,
            "since": current["since"] if current else None,
            "by": current["by"] if current else None,
            "via": current["via"] if current else None,
            "seq": current["seq"] if current else None,
            "fallback": here.get("fallback"),
        })
        problem = _drift(files, model, env, current["release_id"] if current else None)
        if problem:
            drift.append(problem + " (re-run the promote or rollback to repair)")
    dirs = ReleaseDirs(files.root / RELEASES / model)
    rows: list[tuple[tuple[int, float], str, str | None, str, Any, str | None]] = []
    named = set()
    for rid, state, first_seen, key, digest, standing in summary["releases"]:
        named.add(rid)
        when = first_seen or (_created_at(dirs[rid]) if rid in dirs else None)
        rows.append((tuple(key) if first_seen else _sort_key(when),
                     rid, when, state, standing, digest))
    for rid in dirs.names() - named:  # on disk, not in the ledger yet: a draft
        if rid not in dirs:
            continue
        when = _created_at(dirs[rid])
        rows.append((_sort_key(when), rid, when, DRAFT,  # ReleaseStanding(rid, DRAFT).to_json()
                     {"release_id": rid, "state": DRAFT, "live": [], "replaced": []}, None))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    counts = Counter(state for _, _, _, state, _, _ in rows)
    shown = rows if limit is None else rows[:limit]
    releases = [{**_standing(standing), "time": when, "on_disk": rid in dirs,
                 "approved_digest": digest} for _, rid, when, _, standing, digest in shown]
    awaiting = [r for r in releases if r["on_disk"] and r["state"] in AWAITING
                and not r["live"] and not r["replaced"]]
    if awaiting and files.config.environments:
        _add_approvals(files.governed, full_state(), dirs, awaiting)
    return ModelStatus(model=model, environments=tuple(envs), releases=tuple(releases),
                       obligations=tuple(summary["obligations"]), drift=tuple(drift),
                       releases_total=len(rows), state_counts=tuple(sorted(counts.items())))


def pointer_drift(repo: GovernedRepo, state: LifecycleState, model: str, env: str
                  ) -> str | None:
    """How environments/<env>.yaml differs from what the ledger says is live, or None when
    they agree (status reports it; promote and rollback repair it). Kept here, not in
    ``governance.promotion``, which brings the pointer writer and the document authoring code
    that a read query never needs."""
    current = state.current(model, env)
    return _drift(StatusFiles.of(repo), model, env, current.release_id if current else None)


def _drift(files: StatusFiles, model: str, env: str, want: str | None) -> str | None:
    have = files.pointed(env, model)
    if want == have:
        return None
    path = files.root / ENVIRONMENTS / f"{env}.yaml"
    return (f"{display_path(path)} says {have or 'nothing'} for {model}, "
            f"the ledger says {want or 'nothing'} is live")


class StatusFiles:
    """The work tree's files as ``status`` reads them: the models (releases/*/model.yaml) and
    the environment pointer files, loaded and checked by ``governance.repo.GovernedRepo``
    exactly as before, except that with a ``memo`` (``governance.status_memo``) a file whose
    exact bytes passed those checks before, under the same size limit and the same code, is
    taken as it was read then: a warm ``status`` then imports neither the YAML parser nor the
    document loader. Any other file is loaded by ``GovernedRepo`` (refused as it refuses) and
    remembered when it passed. ``governed`` is that repository (for the approvals gate)."""

    def __init__(self, root: Path, config: GovernanceConfig, memo: StatusMemo | None = None,
                 governed: GovernedRepo | None = None) -> None:
        self.root = root
        self.config = config
        self.memo = memo
        self._governed = governed

    @classmethod
    def of(cls, repo: GovernedRepo) -> StatusFiles:
        """``repo``'s files read through ``repo`` itself, nothing remembered."""
        return cls(repo.root, repo.config, None, repo)

    @property
    def governed(self) -> GovernedRepo:
        if self._governed is None:
            from governance.repo import GovernedRepo

            self._governed = GovernedRepo(self.root, self.config)
        return self._governed

    @property
    def max_bytes(self) -> int:
        return self.config.max_file_bytes or DEFAULT_MAX_BYTES  # GovernedRepo.max_bytes

    def model_names(self) -> list[str]:
        """``GovernedRepo.model_names``: the directories under releases/ holding a model.yaml
        (a regular file, or a link to one: loading it names the link)."""
        base = self.root / RELEASES
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / MODEL_FILE).is_file())

    def check_model(self, name: str) -> None:
        """``GovernedRepo.load_model``'s verdict on the model: NotFound when its model.yaml
        does not exist, InvalidInput naming every problem when it is invalid."""
        relative = f"{RELEASES}/{name}/{MODEL_FILE}"
        raw = self._remembered(relative)
        if raw is not None and self.memo is not None \
                and self.memo.document(relative, raw, self.max_bytes) is not None:
            return
        self.governed.load_model(name)
        self._remember(relative, raw, True)

    def pointed(self, env: str, model: str) -> str | None:
        """The release environments/<env>.yaml names for ``model`` (None: none, or no such
        file), as ``GovernedRepo.load_environment`` reads it (InvalidInput when invalid)."""
        relative = f"{ENVIRONMENTS}/{env}.yaml"
        if not (self.root / relative).is_file():
            return None  # GovernedRepo.load_environment: no file, no model named
        raw = self._remembered(relative)
        if raw is not None and self.memo is not None:
            kept = self.memo.document(relative, raw, self.max_bytes)
            if isinstance(kept, dict):
                found = kept.get(model)
                return found if isinstance(found, str) else None
        state = self.governed.load_environment(env)
        models = {name: d.release_id for name, d in state.models.items()}
        self._remember(relative, raw, models)
        return models.get(model)

    def _remembered(self, relative: str) -> bytes | None:
        """The bytes of the file at ``relative`` when a memo may hold them, else None (no
        memo; not a regular file within the limit: the loader names what is wrong)."""
        if self.memo is None:
            return None
        path = self.root / relative
        try:
            return read_input(path, str(path), self.max_bytes)
        except InputFileProblem:
            return None

    def _remember(self, relative: str, before: bytes | None, value: Any) -> None:
        """Keep ``value`` for the file at ``relative``, which the loader has just accepted,
        when its bytes are still those read before the load (``before``): what is kept is
        what was checked."""
        if self.memo is None or before is None:
            return
        path = self.root / relative
        try:
            after = read_input(path, str(path), self.max_bytes)
        except InputFileProblem:
            return
        if after == before:
            self.memo.put_document(relative, before, self.max_bytes, value)


class ReleaseDirs(Mapping[str, Path]):
    """``GovernedRepo.release_dirs(model)`` by name, each entry checked only when asked (a
    status lists 20 of 1,000 releases and needs the directory of those, and of any release
    the ledger does not name yet): one listing, no stat per release. The same entries:
    symbolic links (refused by name when loaded) and real directories holding an entry named
    release.yaml."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._links: set[str] = set()
        self._dirs: set[str] = set()
        self._checked: dict[str, bool] = {}
        try:
            with os.scandir(model_dir) as found:
                for entry in found:
                    if entry.is_symlink():
                        if entry.name != MODEL_FILE:
                            self._links.add(entry.name)
                    elif entry.is_dir(follow_symlinks=False):
                        self._dirs.add(entry.name)
        except OSError:
            pass

    def names(self) -> set[str]:
        """Every name that may be a release (``in`` says which are)."""
        return self._links | self._dirs

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name in self._links:
            return True
        if name not in self._dirs:
            return False
        found = self._checked.get(name)
        if found is None:
            found = self._checked[name] = os.path.lexists(
                os.path.join(self.model_dir, name, RELEASE_FILE))
        return found

    def __getitem__(self, name: str) -> Path:
        if name not in self:
            raise KeyError(name)
        return self.model_dir / name

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(n for n in self.names() if n in self))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _add_approvals(repo: GovernedRepo, state: LifecycleState, dirs: Mapping[str, Path],
                   awaiting: list[dict[str, Any]]) -> None:
    """Each awaiting release's ``approvals``: the gate's count for the strictest environment
    (the newest APPROVALS_LIMIT; the rest say how to ask)."""
    from governance.audit.answers import strictest_environment
    from governance.policy.approval_standing import StandingReader

    env = strictest_environment(repo.config)
    with StandingReader(repo, state) as reader:
        for i, release in enumerate(awaiting):
            rid = release["release_id"]
            if i >= APPROVALS_LIMIT:
                release["approvals"] = {"environment": env, "evaluated": False,
                                        "ask": f"governance check {rid} --env {env}"}
                continue
            try:
                loaded = repo.load_release_alone(dirs[rid])
            except GovernanceError as err:
                release["approvals"] = {"environment": env, "evaluated": True,
                                        "undecided": err.diagnostics().splitlines()[0],
                                        "allow": False, "roles": []}
                continue
            release["approvals"] = {"evaluated": True,
                                    **reader.standing(loaded, env).to_json()}


_CREATED = lazy(r"^created_at:\s*['\"]?([^'\"\n#]+)", re.MULTILINE)


def _created_at(directory: Path) -> str | None:
    """created_at of a release the ledger does not name yet (read without a YAML load)."""
    path = directory / RELEASE_FILE
    try:  # a regular file only, bounded: a FIFO or a device here must not hang status
        text = read_input(path, str(path), DEFAULT_MAX_BYTES).decode("utf-8", "replace")
    except InputFileProblem:
        return None  # validate names it; status shows the release without a time
    found = _CREATED.search(text)
    return found.group(1).strip() if found else None


def _sort_key(when: str | None) -> tuple[int, float]:
    """Newest first: a known time sorts by its instant; an unknown or malformed one last."""
    if when:
        try:
            return (1, to_seconds(parse_instant_fast(when)))
        except TimeFormatError:
            return (0, 0.0)
    return (0, 0.0)


def describe(release: dict[str, Any]) -> str:
    """One release's line: its state now, where it is live, where it was replaced and by what."""
    parts = [f"{release['release_id']}: {release['state']}"]
    for span in release["live"]:
        parts.append(f"live in {span['environment']} since {span['since']} by {span['by']} "
                     f"(seq {span['seq']})")
    approvals = release.get("approvals")
    if approvals:
        parts.append(approvals_summary(approvals))
    for gone in release["replaced"]:
        by = ("switched off by rollback" if not gone["by_release"] else
              f"by rollback to {gone['by_release']}" if gone["via"] == ROLLBACK_EXECUTED else
              f"by break-glass of {gone['by_release']}" if gone["via"] == BREAK_GLASS else
              f"by {gone['by_release']}")
        parts.append(f"replaced in {gone['environment']} since {gone['since']} {by} "
                     f"(seq {gone['seq']})")
    return "; ".join(parts)


def approvals_summary(approvals: dict[str, Any]) -> str:
    """``approvals for E: complete | NOT complete (role status, not counted: gate's reason)``."""
    env = approvals["environment"]
    if not approvals["evaluated"]:
        return f"approvals for {env} not counted here (ask: {approvals['ask']})"
    if approvals.get("undecided"):
        return f"approvals for {env}: could not decide: {approvals['undecided']}"
    roles = []
    for role in approvals["roles"]:
        why = "".join(f"; not counted: {v['reason']}" for v in role["not_counted"])
        roles.append(f"{role['role']} {role['status']}{why}")
    verdict = "complete" if approvals["allow"] else "NOT complete"
    return f"approvals for {env}: {verdict} ({', '.join(roles)})"


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
                         f"(incident {ob['incident'] or 'none'}, opened {when(ob['opened_at'])} by "
                         f"{ob['by']}) until a post-hoc approval closes it")
        for d in st.drift:
            lines.append(f"  DRIFT {d}")
        if st.releases_total:
            counts = ", ".join(f"{n} {state}" for state, n in st.state_counts)
            lines.append(f"  releases, newest first ({st.releases_total}: {counts}):")
        for r in st.releases:
            lines.append(f"  {describe(r)}")
        if st.releases_omitted:
            lines.append(f"  ... {st.releases_omitted} older release(s) not shown "
                         "(--all lists every release)")
    return join_lines(lines)  # one record per line, control characters escaped
