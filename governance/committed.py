"""The committed-state rule: promote, rollback and approve decide on what the protected branch
holds, never on a working tree.

Owns one question, asked before any of these actions records anything: is every file the
decision reads (the release directory, its model.yaml, the releases it is compared with,
governance.yaml, policies/) exactly what is committed at the tip of the protected branch? A
governance.yaml, waiver, policy or release edited locally, or never committed, would otherwise
decide a promotion nobody reviewed (issue 14, items 4, 7 and 8).

Two checks, both from git: ``git status`` names what is untracked, ignored, staged or modified
(the message a person can act on: commit it and merge through review); then the content itself
is compared with the git objects at HEAD (release digest, policies/ tree id, bytes of the YAML
files), so a file hidden from ``git status`` (``update-index --assume-unchanged``,
``skip-worktree``) is still caught. promote and rollback run only with the protected branch
checked out, so HEAD is its tip; approve may run on a review branch (its approval binds to the
committed release digest, which promotion checks again on the protected branch) but reads roles
from governance.yaml at the tip of the protected branch. A protected branch with no commit at
all has nothing to decide on.

Refusals are ``Denied`` (exit 1); when git cannot answer, ``Undecided`` (exit 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from governance.approvals import gitfiles
from governance.approvals.policy import config_at
from governance.config import CONFIG_FILE
from governance.digest import release_digest
from governance.domain.config import GovernanceConfig
from governance.errors import Denied, GovernanceError, InvalidInput, Undecided
from governance.policy.bundle import POLICY_DIR, git_tree_id
from governance.records import display_path
from governance.repo import MODEL_FILE, RELEASES, GovernedRepo, LoadedRelease
from governance.vcs import branch_tip, head_commit, path_prefix, uncommitted


@dataclass(frozen=True)
class CommittedState:
    """The tip of the protected branch an action decides on, and its governance.yaml."""

    branch: str
    commit: str  # full sha of the tip
    config: GovernanceConfig  # governance.yaml as committed there
    policy_tree: str | None  # git tree id of the committed policies/ (None: not asked for)
    # release digest of each directory checked (path relative to the root -> "sha256:...")
    digests: Mapping[str, str] = field(default_factory=dict)

    @property
    def policy_digest(self) -> str | None:
        """The policy bundle digest as recorded on the ledger (``git-tree:<id>``)."""
        return f"git-tree:{self.policy_tree}" if self.policy_tree else None

    def repo(self, root: Path) -> GovernedRepo:
        """The repository read with the committed governance.yaml (roles, waivers, gates)."""
        return GovernedRepo(root, self.config)


def release_paths(repo: GovernedRepo, loaded: LoadedRelease) -> tuple[str, ...]:
    """What a decision on ``loaded`` reads besides configuration: its directory, its model's
    model.yaml (risk tier) and the releases it names (baseline, rollback target), relative to
    the repository root. A release directory outside ``releases/<model>/`` is refused."""
    release = loaded.release
    model = release.model_name
    expected = (repo.root / RELEASES / model / release.release_id).resolve()
    if loaded.directory.resolve() != expected:
        raise Denied(f"{display_path(loaded.directory)} is not the release directory "
                     f"{RELEASES}/{model}/{release.release_id} of {display_path(repo.root)}",
                     hint="name the release by its id inside the governed repository")
    paths = [f"{RELEASES}/{model}/{release.release_id}", f"{RELEASES}/{model}/{MODEL_FILE}"]
    named = [release.baseline,
             release.rollback_target.release_id if release.rollback_target else None]
    for other in dict.fromkeys(n for n in named if n):
        if (repo.root / RELEASES / model / other).is_dir():
            paths.append(f"{RELEASES}/{model}/{other}")
    return tuple(paths)


def require_committed(repo: GovernedRepo, branch: str, paths: Sequence[str], *, action: str,
                      policies: bool = False) -> CommittedState:
    """Refuse unless every path in ``paths`` (files or directories, relative to the repository
    root), governance.yaml and, with ``policies``, policies/ are in the working tree exactly
    what HEAD holds, and ``branch`` has a commit. The configuration returned is governance.yaml
    at the tip of ``branch`` (which is HEAD when ``branch`` is checked out, as promote and
    rollback require; ``approve`` may run on a review branch, its release bound by digest).

    ``action`` words the refusal ("promote", "roll back to", "approve").
    """
    root = repo.root
    tip = branch_tip(root, branch)
    if tip is None:
        raise Denied(f"the protected branch {branch!r} has no commit: there is nothing "
                     f"committed to {action}",
                     hint=f"commit the governed repository to {branch!r} (through review) "
                          "and run again")
    head = head_commit(root)
    if head is None:
        raise Denied(f"nothing is committed in {display_path(root)}: there is nothing to "
                     f"{action}", hint=f"commit and merge through review into {branch!r}")
    checked = [*paths, CONFIG_FILE, *([POLICY_DIR] if policies else [])]
    dirty = uncommitted(root, checked)
    if dirty is None:
        raise Undecided(f"git could not tell whether {', '.join(checked)} are committed in "
                        f"{display_path(root)}")
    if dirty:
        listed = "\n".join(f"  - {name} ({state})" for name, state in dirty)
        raise Denied(f"{action} decides on what is committed on the protected branch "
                     f"{branch!r}; these files are not committed:\n{listed}",
                     hint=f"commit them and merge them into {branch!r} through review (or "
                          "discard the local changes), then run again")
    prefix = path_prefix(root)
    if prefix is None:
        raise Undecided(f"{display_path(root)} is not a git checkout")
    digests: dict[str, str] = {}
    differs = _differences(repo, head, prefix, [*paths, CONFIG_FILE], digests)
    tree: str | None = None
    if policies:
        tree = gitfiles.object_at(root, head, prefix + POLICY_DIR)
        on_disk = git_tree_id(root / POLICY_DIR) if (root / POLICY_DIR).is_dir() else None
        if tree is None or tree != on_disk:
            differs.append(f"{POLICY_DIR}/ (tree {on_disk or 'missing'} here, "
                           f"{tree or 'missing'} committed)")
    if differs:
        listed = "\n".join(f"  - {d}" for d in differs)
        raise Denied(f"{action} decides on what is committed on the protected branch "
                     f"{branch!r}; here these differ from the commit {head[:12]}:\n{listed}",
                     hint="undo the local changes git status does not show (git update-index "
                          "--no-assume-unchanged / --no-skip-worktree, git checkout -- PATH); "
                          "a checkout that converts line endings (core.autocrlf) differs too")
    try:
        raw = gitfiles.file_at(root, tip, prefix + CONFIG_FILE)
    except GovernanceError as err:
        raise Undecided(f"could not read {CONFIG_FILE} at {branch} ({tip[:12]}): "
                        f"{err.message}") from None
    if raw is None:
        raise Denied(f"{CONFIG_FILE} is not committed on the protected branch {branch!r} "
                     f"({tip[:12]})", hint="commit it and merge through review")
    config = config_at(raw, f"{CONFIG_FILE} at {branch} ({tip[:12]})")
    return CommittedState(branch=branch, commit=tip, config=config, policy_tree=tree,
                          digests=digests)


def _differences(repo: GovernedRepo, tip: str, prefix: str, paths: Iterable[str],
                 digests: dict[str, str]) -> list[str]:
    """The paths whose content here is not the content at ``tip`` (release directories by
    their digest, files by their bytes); the digests of equal directories go to ``digests``."""
    root = repo.root
    found: list[str] = []
    for rel in paths:
        local = root / rel
        try:
            if local.is_dir():
                here: str | None = release_digest(local).value
                there = gitfiles.release_digest_at(root, tip, prefix + rel)
            else:
                here = local.read_bytes().hex() if local.is_file() else None
                blob = gitfiles.file_at(root, tip, prefix + rel)
                there = blob.hex() if blob is not None else None
        except InvalidInput as err:
            raise Denied(f"{rel} cannot be read: {err.message}") from None
        except GovernanceError as err:
            raise Undecided(f"could not read {rel} at {tip[:12]}: {err.message}") from None
        if here == there and here is not None and local.is_dir():
            digests[rel] = here
        if here != there:
            found.append(f"{rel} ({'not at the tip' if there is None else 'content differs'})")
    return found
