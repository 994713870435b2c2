"""The pointer branch: environments/<env>.yaml as signed commits that deployment systems watch.

In CI the promote and rollback workflows write the pointer files on the runner, where nothing
would see them. They are published to a dedicated branch, ``governance/environments`` (DESIGN
section 3, docs/workflows.md), holding only ``environments/<env>.yaml``: one signed commit per
publication, fast-forward only, never to the protected branch (which keeps "no bypass" for
everyone, bots included).

Ledger first: the files are regenerated from the ledger (``governance.environments``), never
copied from a working tree, and publishing refuses while the local ledger has events the remote
does not (push the ledger first). So a crash or a failed push between the ledger and the pointer
leaves the pointer behind, never ahead, and re-running ``governance env publish`` repairs it.
A non-fast-forward push (another run published meanwhile) is retried on top of the new remote
tip, with the files regenerated from the newest ledger, so concurrent runs never drop each
other's promotions.

Reading a pointer at a commit (``env verify --ref``) goes through the same adapter.

A use case, not part of ``governance/ledger/``: it regenerates the files through the lifecycle
fold (``governance.lifecycle``), the pointer rules (``governance.environments``) and the document
writer (``governance.authoring``), and appends through the ledger's writer like any other use
case. The ledger package imports none of those (the contract in tools/import_graph.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.authoring import dump_document
from governance.domain.config import GovernanceConfig
from governance.domain.event_types import POLICY_VIOLATION
from governance.domain.events import EventView
from governance.environments import (
    PointerMismatch,
    compare_pointers,
    pointer_body,
    pointer_violation,
    pointers_from_ledger,
)
from governance.errors import ConfigurationError, Tampered, Undecided
from governance.input_files import InputFileProblem, read_input
from governance.ledger.append import append_event, open_store, signer_principal
from governance.ledger.reader import entries
from governance.ledger.signing import commit_signer
from governance.ledger.store import GitStore
from governance.lifecycle import fold_lifecycle
from governance.yaml_source import DEFAULT_MAX_BYTES, YamlProblem, load_yaml_bytes

POINTER_BRANCH = "governance/environments"
DIRECTORY = "environments"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Publication:
    branch: str
    commit: str  # the pointer branch tip after publishing
    changed: bool  # False: the branch already said exactly this
    ledger_seq: int
    files: tuple[str, ...]
    attempts: int

    def to_json(self) -> dict[str, Any]:
        return {"branch": self.branch, "commit": self.commit, "changed": self.changed,
                "ledger_seq": self.ledger_seq, "files": list(self.files),
                "attempts": self.attempts}


def pointer_files(config: GovernanceConfig, listed: Sequence[EventView]
                  ) -> tuple[dict[str, bytes], int]:
    """path -> bytes of every environments/<env>.yaml as the ledger entries say, and the seq."""
    state = fold_lifecycle(listed, production_env=config.production_environment)
    pointers = pointers_from_ledger(config, state, listed)
    files = {f"{DIRECTORY}/{env}.yaml":
             dump_document("EnvironmentState", pointer_body(env, models)).encode()
             for env, models in pointers.items()}
    return files, state.last_seq


def _sync_ledger(ledger: GitStore, remote: str) -> None:
    """Take the remote's ledger (the newest events) and refuse to publish ahead of it."""
    rtip = ledger.fetch(remote)
    ltip = ledger.tip()
    if rtip == ltip:
        return
    if rtip is None or (ltip is not None and ledger.is_ancestor(rtip, ltip)):
        raise Undecided(f"the local ledger has events {remote!r} does not; push the ledger "
                        "before the pointers (the ledger is written first)",
                        hint=f"git push {remote} {ledger.branch}:{ledger.branch}")
    if ltip is None or ledger.is_ancestor(ltip, rtip):
        ledger.compare_and_swap(rtip, ltip)
        return
    raise Tampered(f"the local ledger ({ltip[:12]}) and {remote}'s ({rtip[:12]}) have diverged")


def publish(root: Path, config: GovernanceConfig, *, remote: str | None = None,
            branch: str = POINTER_BRANCH) -> Publication:
    """Commit the pointer files the ledger implies onto ``branch`` (signed like a ledger
    commit, by the same key) and, with ``remote``, push it there fast-forward only."""
    store = GitStore(root, branch)
    ledger = open_store(root)
    principal = signer_principal(root)
    identity = config.identity(principal)
    if identity is None:
        raise ConfigurationError(f"the signing key's principal {principal!r} is not a person or "
                                 "bot of governance.yaml")
    with commit_signer(store.config_get) as signer:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if remote:
                _sync_ledger(ledger, remote)
                parent = store.fetch(remote)
            else:
                parent = store.tip()
            listed = list(entries(root))  # one read of the ledger per attempt
            if parent is not None and _record_hand_edit(store, root, config, parent, remote,
                                                        listed):
                listed = list(entries(root))  # with the policy_violation just appended
            files, seq = pointer_files(config, listed)
            blobs = {path: store.write_object("blob", data) for path, data in files.items()}
            tree = store.tree_with(None, blobs)
            if parent is not None and store.tree_of(parent) == tree:
                if store.tip() != parent:
                    store.run(["update-ref", store.ref, parent])
                return Publication(branch, parent, False, seq, tuple(sorted(files)), attempt)
            message = (f"pointers: environments as of ledger seq {seq}\n\n"
                       f"Ledger-Seq: {seq}\n")
            commit = store.commit_signed(tree, parent, message, identity.name, identity.email,
                                         signer.git_args)
            if remote is None:
                if store.compare_and_swap(commit, parent):
                    return Publication(branch, commit, True, seq, tuple(sorted(files)), attempt)
                continue
            if store.push(remote, commit):  # fast-forward only; False: the remote moved
                store.run(["update-ref", store.ref, commit])
                return Publication(branch, commit, True, seq, tuple(sorted(files)), attempt)
    raise Undecided(f"could not publish {branch} after {MAX_ATTEMPTS} attempts (the remote "
                    "kept moving)", hint="re-run `governance env publish`")


def _record_hand_edit(store: GitStore, root: Path, config: GovernanceConfig, tip: str,
                      remote: str | None, listed: Sequence[EventView]) -> bool:
    """Before building on the pointer branch's tip, check it is a publication: its files must
    be what the ledger implied at the seq its ``Ledger-Seq`` trailer names. Anything else was
    pushed by hand: record a ``policy_violation`` (once per commit) and publish over it.
    True when a violation was appended here."""
    trailer = store.run(["log", "-1", "--format=%(trailers:key=Ledger-Seq,valueonly)", tip])
    text = trailer.stdout.decode().strip()
    seq = int(text) if text.isdigit() else None
    upto = [e for e in listed if seq is not None and e.seq <= seq]
    expected = pointers_from_ledger(
        config, fold_lifecycle(upto, production_env=config.production_environment), upto)
    found = pointers_at(root, tip)
    mismatches = compare_pointers(expected, found)
    if seq is None:
        mismatches.insert(0, PointerMismatch("*", "*", None, None,
                                             "the commit names no Ledger-Seq: not a publication"))
    if not mismatches:
        return False
    if any(e.event_type == POLICY_VIOLATION
           and (e.event.get("details") or {}).get("pointer_commit") == tip for e in listed):
        return False  # recorded by an earlier run; this one only repairs
    append_event(root, pointer_violation(f"{store.branch} at {tip[:12]} differs", mismatches,
                                         {"pointer_commit": tip}), remote=remote)
    return True


def pointers_at(root: Path, commit: str) -> dict[str, dict[str, dict[str, Any]]]:
    """env -> model -> fields of every environments/*.yaml at ``commit`` (any branch)."""
    store = GitStore(root, POINTER_BRANCH)
    sha = store.resolve(commit)
    if sha is None:
        raise Undecided(f"commit {commit!r} is not in the local clone",
                        hint="fetch it first (actions/checkout fetch-depth: 0)")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for path in store.list_paths(sha, DIRECTORY + "/"):
        name = path.rsplit("/", 1)[-1]
        if "/" in path[len(DIRECTORY) + 1:] or not name.endswith(".yaml"):
            continue
        data = store.read_path(sha, path) or b""
        out[name[: -len(".yaml")]] = _models(path, data)
    return out


def _models(path: str, data: bytes) -> dict[str, dict[str, Any]]:
    """The models of one pointer file, read with the hardened loader (the branch is writable
    by whoever may push to it: no alias bombs, duplicate keys or oversized files); a file that
    does not load is itself a mismatch, named with its problem."""
    if len(data) > DEFAULT_MAX_BYTES:
        return {"<unreadable>": {"release_id": f"{path}: {len(data)} bytes, over the limit "
                                              f"of {DEFAULT_MAX_BYTES}"}}
    try:
        doc = load_yaml_bytes(data, path).data
    except YamlProblem as err:
        return {"<unreadable>": {"release_id": err.problem.render()}}
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict):
        return {}
    return {str(k): (v if isinstance(v, dict) else {"release_id": str(v)})
            for k, v in models.items()}


def pointers_in(directory: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The same from a working tree's environments/ directory."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    base = directory / DIRECTORY
    if base.is_dir():
        for path in sorted(base.glob("*.yaml")):
            name = f"{DIRECTORY}/{path.name}"
            try:  # a regular file only, bounded: a FIFO or a link is named, never read
                data = read_input(path, name, DEFAULT_MAX_BYTES)
            except InputFileProblem as err:
                out[path.stem] = {"<unreadable>": {"release_id": err.problem.render()}}
                continue
            out[path.stem] = _models(name, data)
    return out
