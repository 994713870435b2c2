"""The governed repository on disk: models, releases, environments, and their validation.

Layout (DESIGN section 3)::

    governance.yaml
    releases/<model>/model.yaml
    releases/<model>/<release_id>/release.yaml
    releases/<model>/<release_id>/model-card.yaml
    releases/<model>/<release_id>/evidence/...
    environments/<env>.yaml

``validate_paths`` collects every problem in every file before returning; nothing stops at the
first error. Nothing is skipped either: a symbolic link, FIFO, socket, device or unreadable
directory met while walking the governed layout is named as a problem, a ``release.yaml`` that
is a directory is named, and release discovery (``release_dirs``, ``release_index``) returns
linked release directories so that loading one names the link instead of answering "unknown
release". The rule is the digest's (``governance.digest``): governed content is regular files
in real directories; links are refused everywhere, and named.

Cross-references are checked against the whole repository, not just the files named, so
validating one release still catches a dangling rollback target.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from governance.config import CONFIG_FILE, find_root, load_config, require_root
from governance.digest import ReleaseDigest, file_sha256, release_digest
from governance.domain.card import ModelCard
from governance.domain.config import GovernanceConfig
from governance.domain.model import EnvironmentState, Model
from governance.domain.release import Release
from governance.errors import GovernanceError, InvalidInput, NotFound, Problem
from governance.input_files import describe_entry
from governance.records import Loaded, display_path, load_file, ratio_problems
from governance.yaml_source import DEFAULT_MAX_BYTES

RELEASES = "releases"
ENVIRONMENTS = "environments"
RELEASE_FILE = "release.yaml"
CARD_FILE = "model-card.yaml"
MODEL_FILE = "model.yaml"


@dataclass(frozen=True)
class LoadedRelease:
    """A release with everything that belongs to it, as found on disk."""

    directory: Path
    release: Release
    card: ModelCard
    model: Model | None
    digest: ReleaseDigest


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    releases: int = 0
    models: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "valid": self.ok,
            "files": self.files,
            "releases": self.releases,
            "models": self.models,
            "problems": [p.to_json() for p in self.problems],
        }


class GovernedRepo:
    """Read access to one governed repository rooted at ``root``."""

    def __init__(self, root: Path, config: GovernanceConfig | None = None) -> None:
        self.root = root
        self._config = config
        self._release_index: dict[str, list[Path]] | None = None
        self._models: dict[str, Model | None] = {}

    @classmethod
    def open(cls, start: Path) -> GovernedRepo:
        """The repository containing ``start`` (ConfigurationError, exit 3, when none)."""
        return cls(require_root(start))

    @property
    def config(self) -> GovernanceConfig:
        if self._config is None:
            self._config = load_config(self.root)
        return self._config

    @property
    def max_bytes(self) -> int:
        return self.config.max_file_bytes or DEFAULT_MAX_BYTES

    # --- discovery ---------------------------------------------------------------------

    def model_names(self) -> list[str]:
        base = self.root / RELEASES
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / MODEL_FILE).is_file())

    def release_dirs(self, model: str | None = None) -> list[Path]:
        """Release directories of one model or of all, sorted; linked ones included (loading
        one names the link: never a release silently fewer)."""
        base = self.root / RELEASES
        if not base.is_dir():
            return []
        models = [base / model] if model else sorted(p for p in base.iterdir() if p.is_dir())
        return [d for m in models if m.is_dir() for d in _release_candidates(m)]

    def release_index(self) -> dict[str, list[Path]]:
        """release_id -> release directories holding it (built once: one listing per model)."""
        if self._release_index is None:
            index: dict[str, list[Path]] = {}
            base = self.root / RELEASES
            if base.is_dir():
                for model_dir in sorted(base.iterdir()):
                    if not model_dir.is_dir():
                        continue
                    for directory in _release_candidates(model_dir):
                        index.setdefault(directory.name, []).append(directory)
            self._release_index = index
        return self._release_index

    def find_release_dir(self, release_id: str) -> Path:
        found = self.release_index().get(release_id)
        if found:
            return found[0]
        raise NotFound(f"unknown release {release_id!r} in {display_path(self.root)}",
                       hint="list releases with `governance status` or check the id")

    def resolve_release(self, ref: str) -> Path:
        """A release given as its directory or its id (a linked directory is kept as the link,
        so loading it names the link rather than reading what it points to)."""
        as_path = Path(ref)
        try:
            listed = os.path.lexists(as_path / RELEASE_FILE)
            linked = as_path.is_symlink() and os.sep in ref
        except OSError:  # a name the OS refuses (too long, ...) is no directory: try it as an id
            listed = linked = False
        if linked:
            return as_path.absolute()
        if listed:
            absolute = as_path.absolute()
            return absolute if absolute.is_symlink() else absolute.resolve()
        return self.find_release_dir(ref)

    # --- loading -----------------------------------------------------------------------

    def load_model(self, name: str) -> Model:
        path = self.root / RELEASES / name / MODEL_FILE
        if not path.is_file():
            raise NotFound(f"unknown model {name!r}: {display_path(path)} does not exist",
                           hint=f"register it with `governance model new {name} --owner ID`")
        loaded, problems = load_file(path, display=display_path(path), max_bytes=self.max_bytes)
        if problems or loaded is None:
            raise InvalidInput(problems)
        model: Model = loaded.value
        return model

    def load_release(self, ref: str | Path) -> LoadedRelease:
        """Load and fully check one release (schema, cross-references, evidence)."""
        directory = self.resolve_release(str(ref))
        report = ValidationReport()
        loaded = _check_release_dir(self, directory, report)
        if report.problems or loaded is None:
            raise InvalidInput(report.problems,
                               message=f"release {directory.name} is invalid")
        return loaded

    def load_release_alone(self, directory: Path) -> LoadedRelease:
        """Load one release directory with every check about the release itself (schema,
        evidence sha256, card consistency, digest) but not the repository-wide cross-references
        (baseline, rollback target, unique id), which list every release directory: queries
        answering for one release (explain) then cost the same in a repository of any size."""
        report = ValidationReport()
        loaded = _check_release_dir(None, directory, report, self.max_bytes,
                                    ratios=_ratios(self))
        if loaded is not None and loaded.release.model_name != directory.parent.name:
            report.problems.append(Problem(
                display_path(directory / RELEASE_FILE), None, "$.model_name",
                f"model_name {loaded.release.model_name!r} does not match the model directory "
                f"{directory.parent.name!r}"))
        if report.problems or loaded is None:
            raise InvalidInput(report.problems, message=f"release {directory.name} is invalid")
        try:
            model: Model | None = self.load_model(loaded.release.model_name)
        except NotFound:
            model = None
        return replace(loaded, model=model)

    def load_environment(self, env: str) -> EnvironmentState:
        path = self.root / ENVIRONMENTS / f"{env}.yaml"
        if not path.is_file():
            return EnvironmentState(environment=env, models={})
        loaded, problems = load_file(path, display=display_path(path),
                                     expected_kind="EnvironmentState", max_bytes=self.max_bytes)
        if problems or loaded is None:
            raise InvalidInput(problems)
        state: EnvironmentState = loaded.value
        return state



# --- validation --------------------------------------------------------------------------


PARALLEL_THRESHOLD = 400  # releases; below this a worker pool costs more than it saves


def validate_paths(paths: Iterable[Path], *, max_bytes: int | None = None,
                   jobs: int | None = None) -> ValidationReport:
    """Validate governed repositories, directories or single files; collect every problem.

    Large trees are checked by ``jobs`` worker processes (default: one per CPU); each worker
    checks whole releases, and reports are merged in the order the tree was walked, so the
    output is the same as a single-process run.
    """
    report = ValidationReport()
    for path in paths:
        if path.is_symlink() or (path.exists() and describe_entry(path) is not None):
            report.problems.append(_entry_problem(path, None))
            continue
        if not path.exists():
            report.problems.append(
                Problem(display_path(path), None, "$", "no such file or directory"))
            continue
        root = find_root(path)
        repo = GovernedRepo(root) if root is not None else None
        limit = max_bytes or DEFAULT_MAX_BYTES
        if repo is not None and max_bytes is None:
            limit = _config_limit(repo)
        targets = _collect_targets(repo, path.resolve())
        workers = jobs if jobs is not None else (os.cpu_count() or 1)
        if workers > 1 and sum(kind == "release" for kind, _ in targets) >= PARALLEL_THRESHOLD:
            part = _run_parallel(root, targets, limit, workers)
        else:
            part = _run_targets(repo, targets, limit)
        report.problems += part.problems
        report.files += part.files
        report.releases += part.releases
        report.models += part.models
    return report


def _config_limit(repo: GovernedRepo) -> int:
    """The size limit from governance.yaml (its own problems are reported when it is walked)."""
    path = repo.root / CONFIG_FILE
    loaded, _ = load_file(path, display=display_path(path))
    if loaded is None:
        return DEFAULT_MAX_BYTES
    repo._config = loaded.value
    return repo._config.max_file_bytes or DEFAULT_MAX_BYTES


Target = tuple[str, Path]  # ("release", directory) or ("file", path)


def _collect_targets(repo: GovernedRepo | None, path: Path) -> list[Target]:
    if path.is_file() or path.is_symlink() and not path.is_dir():
        return [("release", path.parent) if path.name == RELEASE_FILE else ("file", path)]
    if (path / RELEASE_FILE).is_file():
        return [("release", path)]
    if repo is not None and path == repo.root.resolve():
        # A whole repository: only the governed layout, not tests, docs or tooling.
        targets: list[Target] = [("file", path / CONFIG_FILE)]
        for sub in (ENVIRONMENTS, RELEASES):
            if (path / sub).is_symlink() or describe_entry(path / sub) is not None:
                targets.append(("entry", path / sub))
            elif (path / sub).is_dir():
                targets += _collect_targets(repo, path / sub)
        return targets
    targets = []
    _walk_tree(repo, path, targets)
    return targets


def _walk_tree(repo: GovernedRepo | None, top: Path, targets: list[Target]) -> None:
    """Targets below ``top``, depth first in name order: release directories, governed files,
    and every entry that is not a real directory or regular file (named by ``_run_targets``,
    never skipped). A stack of listings, not recursion: any depth of directories is walked."""
    frames: list[Iterator[os.DirEntry[str]]] = []

    def enter(directory: Path) -> None:
        try:
            with os.scandir(directory) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError:
            targets.append(("entry", directory))
            return
        if any(e.name == RELEASE_FILE for e in entries):
            targets.append(("release", directory))
            return
        frames.append(iter(entries))

    enter(top)
    while frames:
        entry = next(frames[-1], None)
        if entry is None:
            frames.pop()
            continue
        if entry.name.startswith("."):
            continue
        candidate = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            enter(candidate)
        elif entry.is_file(follow_symlinks=False):
            if entry.name.endswith((".yaml", ".yml")) and _is_governed_document(repo, candidate):
                targets.append(("file", candidate))
        else:
            targets.append(("entry", candidate))


def _release_candidates(model_dir: Path) -> list[Path]:
    """Entries of a model directory that are releases: real directories holding an entry named
    release.yaml (whatever it is), and symbolic links (refused by name when loaded)."""
    out = []
    try:
        with os.scandir(model_dir) as found:
            entries = sorted(found, key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        if entry.is_symlink():
            if entry.name != MODEL_FILE:
                out.append(model_dir / entry.name)
        elif entry.is_dir(follow_symlinks=False) and os.path.lexists(
                os.path.join(entry.path, RELEASE_FILE)):
            out.append(model_dir / entry.name)
    return out


def _entry_problem(path: Path, root: Path | None) -> Problem:
    what = describe_entry(path, root)
    if what is None:  # a directory that could not be listed
        try:
            os.listdir(path)
            what = "a directory that changed while it was walked"
        except OSError as err:
            what = f"an unreadable directory ({err.strerror})"
    return Problem(display_path(path), None, "$",
                   f"found {what}, expected a directory or a regular file",
                   "governed content is regular files in real directories; links and special "
                   "files are refused, never followed or skipped")


def _run_targets(repo: GovernedRepo | None, targets: list[Target], limit: int
                 ) -> ValidationReport:
    report = ValidationReport()
    for kind, path in targets:
        if kind == "release":
            _check_release_dir(repo, path, report, limit)
        elif kind == "entry":
            report.problems.append(_entry_problem(path, repo.root if repo else None))
        else:
            _check_file(repo, path, report, limit)
    return report


def _run_chunk(root: Path | None, targets: list[Target], limit: int, cwd: Path
               ) -> ValidationReport:
    os.chdir(cwd)  # display paths are relative to the caller's working directory
    return _run_targets(GovernedRepo(root) if root is not None else None, targets, limit)


def _run_parallel(root: Path | None, targets: list[Target], limit: int, workers: int
                  ) -> ValidationReport:
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, len(targets) // (workers * 8))
    chunks = [targets[i:i + size] for i in range(0, len(targets), size)]
    merged = ValidationReport()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_run_chunk, [root] * len(chunks), chunks,
                             [limit] * len(chunks), [Path.cwd()] * len(chunks)):
            merged.problems += part.problems
            merged.files += part.files
            merged.releases += part.releases
            merged.models += part.models
    return merged


def _is_governed_document(repo: GovernedRepo | None, path: Path) -> bool:
    """Workflows, CODEOWNERS and other YAML in a repo are not governed documents."""
    if repo is None:
        return True
    rel = path.relative_to(repo.root).parts if path.is_relative_to(repo.root) else path.parts
    if rel == (CONFIG_FILE,):
        return True
    if len(rel) == 2 and rel[0] == ENVIRONMENTS:
        return True
    return len(rel) >= 3 and rel[0] == RELEASES and rel[-1] == MODEL_FILE


def _check_file(repo: GovernedRepo | None, path: Path, report: ValidationReport,
                limit: int) -> Loaded | None:
    report.files += 1
    expected = None
    if repo is not None and path.parent.name == ENVIRONMENTS and \
            path.parent.parent.resolve() == repo.root.resolve():
        expected = "EnvironmentState"
    loaded, problems = load_file(path, display=display_path(path), expected_kind=expected,
                                 max_bytes=limit)
    report.problems += problems
    if loaded is None:
        return None
    if loaded.kind == "Model":
        report.models += 1
        model: Model = loaded.value
        if (path.name == MODEL_FILE and path.parent.parent.name == RELEASES
                and model.name != path.parent.name):
            report.problems.append(_at(loaded, "$.name",
                f"model name {model.name!r} does not match its directory {path.parent.name!r}",
                "the directory under releases/ is the model name"))
    if (loaded.kind == "EnvironmentState" and repo is not None
            and path.parent.resolve() == (repo.root / ENVIRONMENTS).resolve()):
        _check_environment(repo, path, loaded, report)
    return loaded


def _check_environment(repo: GovernedRepo, path: Path, loaded: Loaded,
                       report: ValidationReport) -> None:
    state: EnvironmentState = loaded.value
    if state.environment != path.stem:
        report.problems.append(_at(loaded, "$.environment",
            f"environment {state.environment!r} does not match its file name {path.stem!r}"))
    for model, deployment in state.models.items():
        target = repo.root / RELEASES / model / deployment.release_id / RELEASE_FILE
        if not target.is_file():
            report.problems.append(_at(loaded, f"$.models.{model}.release_id",
                f"release {deployment.release_id!r} of model {model!r} does not exist",
                f"expected a directory releases/{model}/{deployment.release_id}"))


def _at(loaded: Loaded, path: str, message: str, hint: str = "") -> Problem:
    return Problem(loaded.source.file, loaded.source.line_of(path), path, message, hint)


def _check_release_dir(repo: GovernedRepo | None, directory: Path, report: ValidationReport,
                       limit: int | None = None, *, ratios: frozenset[str] | None = None
                       ) -> LoadedRelease | None:
    limit = limit or (repo.max_bytes if repo is not None else DEFAULT_MAX_BYTES)
    report.releases += 1
    root = repo.root if repo is not None else None
    for place in (directory, directory.parent):
        if place.is_symlink():
            report.problems.append(_release_link_problem(directory, place, root))
            return None
    rel_loaded = _check_file(repo, directory / RELEASE_FILE, report, limit)
    card_path = directory / CARD_FILE
    card_loaded = None
    if os.path.lexists(card_path):  # whatever it is: read_input names what is not a file
        card_loaded = _check_file(repo, card_path, report, limit)
    else:
        report.problems.append(Problem(display_path(card_path), None, "$",
                                       "missing model card for this release",
                                       "every release directory holds model-card.yaml"))
    if rel_loaded is None or rel_loaded.kind != "Release":
        return None
    release: Release = rel_loaded.value
    before = len(report.problems)
    model_dir = directory.parent
    in_layout = model_dir.parent.name == RELEASES
    if in_layout and release.release_id != directory.name:
        report.problems.append(_at(rel_loaded, "$.release_id",
            f"release_id {release.release_id!r} does not match its directory {directory.name!r}",
            "the release directory is named after its release_id"))
    in_repo = repo is not None and model_dir.parent == repo.root / RELEASES
    if in_repo and release.model_name != model_dir.name:
        report.problems.append(_at(rel_loaded, "$.model_name",
            f"model_name {release.model_name!r} does not match the model directory "
            f"{model_dir.name!r}"))
    model: Model | None = None
    if in_repo:
        assert repo is not None
        model_file = repo.root / RELEASES / release.model_name / MODEL_FILE
        if release.model_name not in repo._models:
            loaded_model = None
            if model_file.is_file():
                loaded_model, _ = load_file(model_file, display=display_path(model_file),
                                            max_bytes=limit)
            repo._models[release.model_name] = (
                loaded_model.value if loaded_model is not None else None)
        model = repo._models[release.model_name]
        if not model_file.is_file():
            report.problems.append(_at(rel_loaded, "$.model_name",
                f"unknown model {release.model_name!r}: {display_path(model_file)} does not exist",
                f"run `governance model new {release.model_name} --owner ID`"))
        _check_reference(repo, rel_loaded, release, "$.baseline", release.baseline, report)
        if release.rollback_target is not None:
            _check_reference(repo, rel_loaded, release, "$.rollback_target.release_id",
                             release.rollback_target.release_id, report)
        _check_unique(repo, rel_loaded, release, directory, report)
    _check_evidence(directory, rel_loaded, release, report)
    card: ModelCard | None = None
    if card_loaded is not None and card_loaded.kind == "ModelCard":
        card = card_loaded.value
        assert card is not None
        for field_path, found, expected in (
            ("$.release_id", card.release_id, release.release_id),
            ("$.model_name", card.model_name, release.model_name),
            ("$.version", card.version, release.model_version),
        ):
            if found != expected:
                report.problems.append(_at(card_loaded, field_path,
                    f"model card says {found!r}, the release record says {expected!r}",
                    "the card must describe this release"))
    if ratios is None and repo is not None:
        ratios = _ratios(repo)
    if card_loaded is not None and card is not None and ratios:
        report.problems += ratio_problems(card_loaded.source, ratios)
    if len(report.problems) != before or card is None:
        return None
    try:
        digest = release_digest(directory)
    except InvalidInput as err:
        report.problems += err.problems
        return None
    return LoadedRelease(directory=directory, release=release, card=card, model=model,
                         digest=digest)


def _ratios(repo: GovernedRepo) -> frozenset[str]:
    try:
        return repo.config.ratio_metrics
    except GovernanceError:
        return frozenset()  # governance.yaml's own problems are reported where it is checked


def _release_link_problem(directory: Path, link: Path, root: Path | None) -> Problem:
    what = describe_entry(link, root) or "a symbolic link"
    where = "release directory" if link == directory else "model directory"
    return Problem(display_path(directory), None, "$",
                   f"the {where} {display_path(link)} is {what}, expected a real directory",
                   "copy the release into releases/<model>/<release_id>: a linked release is "
                   "not content the repository holds, and its digest would not be")


def _check_reference(repo: GovernedRepo, loaded: Loaded, release: Release, path: str,
                     target: str | None, report: ValidationReport) -> None:
    if target is None:
        return
    if target == release.release_id:
        report.problems.append(_at(loaded, path, f"{target!r} refers to this release itself",
                                   "name an earlier release of the same model"))
        return
    holders = repo.release_index().get(target, [])
    if any(d.parent.name == release.model_name for d in holders):
        return
    others = [d.parent.name for d in holders]
    if others:
        report.problems.append(_at(loaded, path,
            f"release {target!r} belongs to model {others[0]!r}, not {release.model_name!r}",
            "baseline and rollback target must be releases of the same model"))
    else:
        report.problems.append(_at(loaded, path,
            f"release {target!r} does not exist (expected releases/{release.model_name}/{target})",
            "name an existing earlier release of this model"))


def _check_unique(repo: GovernedRepo, loaded: Loaded, release: Release, directory: Path,
                  report: ValidationReport) -> None:
    for other in repo.release_index().get(release.release_id, []):
        if other.parent.name != directory.parent.name:
            report.problems.append(_at(loaded, "$.release_id",
                f"release_id {release.release_id!r} is also used by "
                f"{display_path(other)}", "release ids are unique across the repository"))


def _short(text: str, limit: int = 80) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _check_evidence(directory: Path, loaded: Loaded, release: Release,
                    report: ValidationReport) -> None:
    for path, ref in release.evidence_refs():
        if ref.path is None:
            continue
        where = f"{path}.path"
        pure = PurePosixPath(ref.path)
        if pure.is_absolute() or ref.path.startswith(("/", "\\")) or ":" in pure.parts[0]:
            report.problems.append(_at(loaded, where,
                f"evidence path {ref.path!r} is absolute",
                "expected a path relative to the release directory"))
            continue
        if ".." in pure.parts:
            report.problems.append(_at(loaded, where,
                f"evidence path {ref.path!r} escapes the release directory",
                "expected a path inside the release directory, without '..'"))
            continue
        local = directory / ref.path
        # the deepest symbolic link between the file and the release directory, if any
        inside = [local, *(directory / p for p in pure.parents if p != PurePosixPath("."))]
        try:
            link = next((p for p in inside if p.is_symlink()), None)
        except OSError as err:  # a name the OS refuses (too long, ...)
            report.problems.append(_at(loaded, where,
                f"evidence path {_short(ref.path)} cannot be looked up: {err.strerror}",
                "expected a path relative to the release directory, of names under 256 bytes"))
            continue
        if link is not None:
            outside = not local.resolve().is_relative_to(directory.resolve())
            report.problems.append(_at(loaded, where,
                f"evidence path {ref.path!r} is a symbolic link"
                + (f" pointing outside the release directory ({os.readlink(link)!r})"
                   if outside else ""),
                "copy the evidence file into the release directory"))
            continue
        what = describe_entry(local)
        if what is None and local.is_dir():
            what = "a directory"
        if what is not None:
            report.problems.append(_at(loaded, where,
                f"evidence path {ref.path!r} is {what}, expected a regular file",
                "name the evidence file itself"))
            continue
        if not local.is_file():
            report.problems.append(_at(loaded, where,
                f"evidence file {ref.path!r} does not exist in {display_path(directory)}",
                "add the file or remove 'path'"))
            continue
        try:
            actual = file_sha256(local)
        except InvalidInput as err:
            report.problems += err.problems
            continue
        if actual != ref.sha256:
            report.problems.append(_at(loaded, f"{path}.sha256",
                f"sha256 does not match {ref.path} (got {actual}, expected {ref.sha256})",
                "the evidence changed after it was recorded; regenerate the release record"))
