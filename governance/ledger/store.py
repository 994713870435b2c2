"""The git adapter: every git process of the ledger runs here (GitPython only locates a
repository whose files do not say where its git directory is).

It owns every interaction with a repository: resolving the ledger ref, writing blobs, trees and
commits, signing through git's configured signing program (``git commit-tree -S``), the
compare-and-swap ref update (``git update-ref <ref> <new> <old>``), fetch/push to an origin, the
appender's lock file, and the batch reads the verifier and readers use. Everything above it is
pure and talks to it through the methods here.

Crash safety (kill -9 at any point): objects are written first and are unreachable until the
single atomic ref update (git writes ``<ref>.lock`` and renames it), so an interrupted append
leaves either the old ref or the new one, never a half event. What an interruption can leave
behind is reported with the command that clears it: our lock file (``governance-ledger.lock`` in
the git directory), git's ``<ref>.lock``, and unreachable objects (harmless;
``git prune --expire=now`` removes them).

Batch reads: ``read_commits`` reads a whole ledger with four git processes, not one per commit:
``rev-list --header`` (every commit object, checked against its id), concurrently with one
``ls-tree`` of the tip naming every event, checkpoint and trust blob and one ``cat-file --batch``
reading them, plus ``diff-tree`` for the genesis. Each commit's changes are proven from tree ids
(``treeproof``) instead of diffing every commit with git; git's own diff is used for any commit
the proof does not cover (rotations, tampering). Reading the commits after a known one (catching
up) costs in proportion to them, not to the ledger, and goes through one persistent ``cat-file
--batch`` per store (``_ObjectReader``, which also serves single objects and small batches, up
to _FEW): the new commits, the trees on their files' paths and the blobs, each commit proven to
be its parent plus its event and checkpoint (``_proven_after``), so a catch-up starts one git
process. A range the proof does not cover is read with one ``git log --format=raw --raw`` (the
commit objects and git's diff of each); without diffs, ``rev-list`` of the range and the event
and checkpoint paths read from the tip. The tip's tree is never listed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from governance.ci_context import child_environment, current
from governance.errors import ConfigurationError, NotFound, Undecided
from governance.ledger import layout
from governance.ledger.refs import Unresolvable, git_dirs, read_ref
from governance.ledger.treeproof import TreeState

ZERO = "0" * 40
_IDS = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?(?: [0-9a-f]{40}(?:[0-9a-f]{24})?)*\Z")
LOCK_NAME = "governance-ledger.lock"
_FEW = 256  # object reads up to this many go through the persistent cat-file
_FEW_BYTES = 32768  # ... asked at once: well within a pipe's buffer (64 KiB on Linux)
# a commit of ``git log --format=raw``: a line "commit <id> <parent ids>" (message lines are
# indented, header continuation lines start with a blank, change lines with ":")
_LOG_RECORD = re.compile(rb"(?:\A|\n)commit (?=[0-9a-f]{40})")


class Change(NamedTuple):
    """One path a commit changes (immutable; a tuple: built per commit read, cheaply)."""

    status: str  # A, M, D, T ... as git diff-tree reports it
    path: str
    blob: str  # new blob sha (zeros when deleted)


ObjectsHook = Callable[[Sequence[bytes], Sequence["bytes | None"], Sequence["bytes | None"]], None]


class RawCommit(NamedTuple):
    """One ledger commit as read in batch: raw object bytes, its diff, the added blobs
    (immutable; a tuple: built per commit read, cheaply)."""

    sha: str
    parents: tuple[str, ...]
    raw: bytes
    changes: tuple[Change, ...]
    blobs: Mapping[str, bytes]  # path -> content for added/modified files


def locate_repository(root: Path) -> tuple[Path, Path]:
    """(work tree, common git directory) of the repository at ``root`` (``root/.git`` or a bare
    repository at ``root``; no search in parent directories), from its files when they say it
    plainly (``refs.git_dirs``), otherwise as GitPython finds it."""
    try:
        return Path(os.path.abspath(root)), git_dirs(root).common_dir
    except Unresolvable:
        pass
    import git

    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ConfigurationError(
            f"{root} is not a git repository",
            hint="run inside the governed repository or pass --repo") from None
    return Path(repo.working_tree_dir or root), Path(repo.common_dir)


class GitStore:
    """A repository holding a ledger branch."""

    def __init__(self, root: Path, branch: str) -> None:
        self.root, self.git_dir = locate_repository(root)
        self.branch = branch
        self.ref = f"refs/heads/{branch}"
        self._exe = current().variable("GIT_PYTHON_GIT_EXECUTABLE") or "git"

    @cached_property
    def _objects(self) -> _ObjectReader:
        """One persistent ``git cat-file --batch``, started on the first object read: a query
        whose index is current reads only the ref (``tip``) and starts no git process."""
        return _ObjectReader(self._exe, self.git_dir)

    # --- plumbing ---------------------------------------------------------------------------
    def run(self, args: Sequence[str], *, input: bytes | None = None,
            env: Mapping[str, str] | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[bytes]:
        full_env = child_environment(env)
        proc = subprocess.run([self._exe, *args], cwd=self.git_dir, input=input,
                              capture_output=True, env=full_env, check=False)
        if check and proc.returncode != 0:
            raise Undecided(f"git {args[0]} failed: "
                            f"{proc.stderr.decode(errors='replace').strip()}")
        return proc

    def tip(self) -> str | None:
        """The ledger tip, read from the ref file or packed-refs (no process, no GitPython);
        git is asked when the files do not say it plainly (``refs.Unresolvable``)."""
        try:
            return read_ref(self.git_dir, self.ref)
        except Unresolvable:
            proc = self.run(["rev-parse", "--verify", "-q", self.ref + "^{commit}"], check=False)
            return proc.stdout.decode().strip() or None

    def resolve(self, rev: str) -> str | None:
        proc = self.run(["rev-parse", "--verify", "-q", rev + "^{commit}"], check=False)
        return proc.stdout.decode().strip() or None

    def head_commit(self) -> str:
        sha = self.resolve("HEAD")
        return sha or ""

    def config_get(self, key: str) -> str | None:
        proc = self.run(["config", "--get", key], check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def read_object(self, sha: str) -> bytes:
        """An object's content by id (ValueError when the repository does not have it)."""
        data = self._objects.get(sha)
        if data is None:
            raise ValueError(f"git object {sha} could not be read (missing)")
        return data

    def read_path(self, commit: str, path: str) -> bytes | None:
        """A file at ``commit`` (None when absent), one request to the persistent cat-file."""
        if not commit or not path or path.startswith("/"):
            return None
        return self._objects.get(f"{commit}:{path}")

    def list_paths(self, commit: str, prefix: str) -> list[str]:
        proc = self.run(["ls-tree", "-r", "--name-only", commit, "--", prefix], check=False)
        return [p for p in proc.stdout.decode().split("\n") if p]

    def leaf_trailers(self, tip: str) -> list[str]:
        """Ledger-Leaf values from the tip back to the root, in seq order (one process)."""
        proc = self.run(["log", "--first-parent", "--reverse",
                         "--format=%(trailers:key=Ledger-Leaf,valueonly,separator=)", tip])
        return [ln for ln in proc.stdout.decode().split("\n") if ln.strip()]

    # --- writing objects --------------------------------------------------------------------
    def write_object(self, kind: str, data: bytes) -> str:
        """Write a loose object as git does (zlib, temp file, atomic rename); GitPython's
        store would spawn ``git hash-object`` per object."""
        full = f"{kind} {len(data)}".encode() + b"\0" + data
        sha = hashlib.sha1(full).hexdigest()
        target = self.git_dir / "objects" / sha[:2] / sha[2:]
        if target.exists():
            return sha
        target.parent.mkdir(exist_ok=True)
        import tempfile  # the write paths only: a read that catches up imports neither

        fd, tmp = tempfile.mkstemp(prefix="tmp_obj_", dir=target.parent)
        try:
            os.write(fd, zlib.compress(full, 1))
        finally:
            os.close(fd)
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
        return sha

    def read_tree(self, sha: str | None) -> dict[str, tuple[str, str]]:
        """name -> (mode, sha) of one tree object."""
        if not sha:
            return {}
        data = self.read_object(sha)
        out: dict[str, tuple[str, str]] = {}
        at = 0
        while at < len(data):
            sp = data.index(b" ", at)
            nul = data.index(b"\0", sp)
            out[data[sp + 1 : nul].decode()] = (data[at:sp].decode(),
                                                 data[nul + 1 : nul + 21].hex())
            at = nul + 21
        return out

    def write_tree(self, entries: Mapping[str, tuple[str, str]]) -> str:
        # git orders tree entries by name, directories compared as if suffixed with "/".
        def order(item: tuple[str, tuple[str, str]]) -> bytes:
            name, (mode, _) = item
            return (name + "/" if mode == "40000" else name).encode()

        body = b"".join(f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha)
                        for name, (mode, sha) in sorted(entries.items(), key=order))
        return self.write_object("tree", body)

    def tree_with(self, base: str | None, files: Mapping[str, str]) -> str:
        """A new root tree: ``base`` plus ``files`` (path -> blob sha), added or replaced."""
        return self._tree_with(base, {tuple(p.split("/")): b for p, b in files.items()})

    def _tree_with(self, base: str | None, files: Mapping[tuple[str, ...], str]) -> str:
        entries = self.read_tree(base)
        groups: dict[str, dict[tuple[str, ...], str]] = {}
        for parts, blob in files.items():
            if len(parts) == 1:
                entries[parts[0]] = ("100644", blob)
            else:
                groups.setdefault(parts[0], {})[parts[1:]] = blob
        for name, sub in groups.items():
            old = entries.get(name)
            entries[name] = ("40000", self._tree_with(old[1] if old else None, sub))
        return self.write_tree(entries)

    def tree_of(self, commit: str) -> str:
        return self.run(["rev-parse", commit + "^{tree}"]).stdout.decode().strip()

    def commit_signed(self, tree: str, parent: str | None, message: str, name: str,
                      email: str, signing_args: Sequence[str]) -> str:
        """``git commit-tree -S``: git runs its configured signing program (ssh-keygen, gpg,
        an agent or a hardware token), so no private key passes through this process."""
        ident = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                 "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        args = [*signing_args, "commit-tree", "-S", tree]
        if parent:
            args += ["-p", parent]
        proc = self.run(args, input=message.encode(), env=ident, check=False)
        if proc.returncode != 0:
            raise Undecided("signing the ledger commit failed: "
                            f"{proc.stderr.decode(errors='replace').strip()}",
                            hint="check gpg.format=ssh and user.signingkey, or set "
                                 "GOVERNANCE_LEDGER_SIGNING_KEY")
        return proc.stdout.decode().strip()

    # --- the ref ----------------------------------------------------------------------------
    def compare_and_swap(self, new: str, old: str | None) -> bool:
        """Move the ledger ref from ``old`` (None: must not exist) to ``new``, atomically."""
        proc = self.run(["update-ref", "-m", "governance ledger append", self.ref, new,
                         old or ZERO], check=False)
        if proc.returncode == 0:
            return True
        ref_lock = self.git_dir / (self.ref + ".lock")
        if ref_lock.exists() and self.tip() == old:
            raise Undecided(
                f"stale git ref lock {ref_lock} (a git process was interrupted while updating "
                f"{self.ref})", hint=f"clear it with: rm -f {ref_lock}")
        return False

    def is_ancestor(self, a: str, b: str) -> bool:
        return self.run(["merge-base", "--is-ancestor", a, b], check=False).returncode == 0

    # --- origin -----------------------------------------------------------------------------
    def remote_ref(self, remote: str) -> str:
        return f"refs/remotes/{remote}/{self.branch}"

    def fetch(self, remote: str) -> str | None:
        """Fetch the origin's ledger; its tip, or None if the origin has no ledger yet."""
        proc = self.run(["ls-remote", "--exit-code", remote, self.ref], check=False)
        if proc.returncode == 2:
            return None
        if proc.returncode != 0:
            raise Undecided(f"cannot reach ledger origin {remote!r}: "
                            f"{proc.stderr.decode(errors='replace').strip()}")
        self.run(["fetch", "-q", remote, f"+{self.ref}:{self.remote_ref(remote)}"])
        return self.resolve(self.remote_ref(remote))

    def push(self, remote: str, sha: str) -> bool:
        """Fast-forward push only; False when the origin moved (non-fast-forward)."""
        proc = self.run(["push", "--porcelain", remote, f"{sha}:{self.ref}"], check=False)
        if proc.returncode == 0:
            return True
        out = (proc.stdout + proc.stderr).decode(errors="replace")
        if "rejected" in out or "non-fast-forward" in out or "fetch first" in out:
            return False
        raise Undecided(f"pushing {self.branch} to {remote!r} failed: {out.strip()}")

    # --- the appender's lock ----------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.git_dir / LOCK_NAME

    @contextlib.contextmanager
    def locked(self, timeout: float = 60.0) -> Iterator[None]:
        """Hold the appender lock; a lock whose holder died is reported, never stolen."""
        import socket
        import tempfile

        deadline = time.monotonic() + timeout
        content = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                              "since": time.time(), "step": "locked"}).encode()
        fd, tmp = tempfile.mkstemp(prefix="governance-lock.", dir=self.git_dir)
        try:
            os.write(fd, content)
            os.close(fd)
            while True:
                try:
                    os.link(tmp, self.lock_path)  # atomic create-with-content
                    break
                except FileExistsError:
                    stale = self.stale_lock()
                    if stale:
                        raise Undecided(stale[0], hint=stale[1]) from None
                    if time.monotonic() > deadline:
                        raise Undecided(f"ledger lock {self.lock_path} held for over "
                                        f"{timeout:.0f}s by a running process") from None
                    time.sleep(0.005)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.lock_path)

    def mark_step(self, step: str) -> None:
        """Record the append step in the lock file so an interruption can be explained."""
        try:
            doc = json.loads(self.lock_path.read_text())
        except (OSError, ValueError):
            return
        doc["step"] = step
        tmp = self.lock_path.with_name(LOCK_NAME + ".step")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.lock_path)

    def stale_lock(self) -> tuple[str, str] | None:
        """(message, clearing command) for a lock whose holder is gone, else None."""
        import socket

        try:
            doc = json.loads(self.lock_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            doc = {}
        pid, host = doc.get("pid"), doc.get("host")
        if isinstance(pid, int) and host == socket.gethostname() and _alive(pid):
            return None
        if isinstance(pid, int) and host not in (None, socket.gethostname()):
            return None  # held from another host sharing this directory: cannot tell
        step = doc.get("step", "unknown")
        return (f"stale ledger lock {self.lock_path}: held by pid {pid}, which is no longer "
                f"running (interrupted at step {step!r}); the ledger ref was updated atomically "
                "or not at all, and any objects the interrupted append wrote are unreachable",
                f"clear it with: rm -f {self.lock_path}  (optional: git -C {self.git_dir} "
                "prune --expire=now removes the unreachable objects)")

    def stale_ref_lock(self) -> tuple[str, str] | None:
        ref_lock = self.git_dir / (self.ref + ".lock")
        if ref_lock.exists() and not self.lock_path.exists():
            return (f"stale git ref lock {ref_lock}", f"clear it with: rm -f {ref_lock}")
        return None

    # --- batch reads ------------------------------------------------------------------------
    def read_commits(self, after: str | None = None, tip: str | None = None, *,
                     first_seq: int = 0, with_diff: bool = True,
                     on_objects: ObjectsHook | None = None) -> list[RawCommit]:
        """Every commit reachable from the ledger tip (after ``after``), oldest first.

        Objects come from two ``cat-file --batch`` runs: the commits (``rev-list`` order), and
        the event and checkpoint blobs each commit's position predicts (named by one ``ls-tree``
        of the tip; ``first_seq`` is the seq of the first commit read). With ``with_diff`` each
        commit carries its exact changes, as ``git diff-tree -r`` reports them: for a whole
        ledger they are proven from tree ids (``treeproof``: the parent's tree plus the
        predicted files must hash to the commit's tree), and git is asked for the real diff of
        any commit the prediction does not reproduce (the genesis, a rotation rewriting the
        trust files, a tampered commit). Any changed blob the prediction missed is fetched.

        ``on_objects(raws, events, notes)`` is called once the objects are read, before the
        changes are worked out: each commit object in order, with the event and checkpoint
        bytes its position predicts (None when absent), so a caller can start work on them.
        """
        tip = tip or self.tip()
        if tip is None:
            raise NotFound(f"no ledger branch {self.branch!r} in {self.root}",
                           hint="run `governance ledger init`")
        if after:
            return self._read_after(after, tip, first_seq, with_diff, on_objects)
        rng = tip
        listing: dict[str, str] = {}
        by_sha: dict[str, bytes] = {}

        def read_files() -> None:
            # An add-only ledger's tip tree holds every event and checkpoint file at the blob
            # its commit added: one ls-tree names them all (and the trust files, as the genesis
            # usually left them), one cat-file reads those from first_seq on.
            out = self.run(["ls-tree", "-r", "--full-tree", tip, "--", "events", "checkpoints",
                            "trust"]).stdout.decode(errors="replace")
            wanted = []
            for line in out.split("\n"):
                meta, _, path = line.partition("\t")
                if path:
                    blob = meta.split()[2]
                    listing[path] = blob
                    number = path.rpartition("/")[2].partition(".")[0]
                    if not first_seq or path.startswith("trust/") or (
                            number.isdigit() and int(number) >= first_seq):
                        wanted.append(blob)
            by_sha.update(self.cat_batch(wanted))

        files_reader = threading.Thread(target=read_files)
        files_reader.start()
        try:
            order, commit_objects = self._read_commit_objects(rng)
        finally:
            files_reader.join()
        if not order:
            return []
        predicted: list[tuple[str, str]] = []  # (path, blob) per commit: event, checkpoint
        for i in range(len(order)):
            seq = first_seq + i
            for path in (layout.event_path(seq), layout.checkpoint_path(seq + 1)):
                predicted.append((path, listing.get(path, "")))
        by_sha.update(commit_objects)
        if on_objects is not None:
            on_objects([commit_objects[sha] for sha, _ in order],
                       [by_sha.get(blob) if blob else None for _, blob in predicted[0::2]],
                       [by_sha.get(blob) if blob else None for _, blob in predicted[1::2]])
        if not with_diff:
            out = []
            for i, (sha, parents) in enumerate(order):
                blobs = {path: by_sha[blob] for path, blob in predicted[2 * i : 2 * i + 2]
                         if blob in by_sha}
                out.append(RawCommit(sha, parents, by_sha.get(sha, b""), (), blobs))
            return out
        proven = self._proven_commits(order, commit_objects, predicted, by_sha)
        if proven is not None:
            return proven
        return self._with_changes(order, commit_objects, self._diff_all(order), by_sha)

    def _with_changes(self, order: Sequence[tuple[str, tuple[str, ...]]],
                      commit_objects: Mapping[str, bytes],
                      changes: Mapping[str, tuple[Change, ...]], by_sha: dict[str, bytes]
                      ) -> list[RawCommit]:
        missing = [c.blob for chs in changes.values() for c in chs
                   if c.blob != ZERO and c.blob not in by_sha]
        if missing:
            by_sha.update(self.cat_batch(missing))
        return [RawCommit(sha, parents, commit_objects[sha], chs, _changed_blobs(chs, by_sha))
                for sha, parents in order for chs in (changes.get(sha, ()),)]

    def _read_after(self, after: str, tip: str, first_seq: int, with_diff: bool,
                    on_objects: ObjectsHook | None) -> list[RawCommit]:
        """``read_commits`` of the commits after ``after``: work in proportion to them, not to
        the ledger (no listing of the tip's whole tree). With ``with_diff`` each commit proven
        to be its parent plus its predicted event and checkpoint through the object reader
        (``_proven_after``), else git's diff of each names the blobs to read; without, each
        commit's predicted event and checkpoint paths are read from the tip (``<tip>:<path>``,
        as the whole-ledger read does)."""
        # the usual catch-up: through the object reader alone (no process started)
        out = self._proven_after(after, tip, first_seq) if with_diff else None
        if out is None:
            out = self._read_range(f"{after}..{tip}", tip, first_seq, with_diff)
        paths = [(layout.event_path(first_seq + i), layout.checkpoint_path(first_seq + i + 1))
                 for i in range(len(out))]
        if on_objects is not None and out:
            on_objects([c.raw for c in out],
                       [c.blobs.get(event) for c, (event, _) in zip(out, paths, strict=True)],
                       [c.blobs.get(note) for c, (_, note) in zip(out, paths, strict=True)])
        return out

    def _read_range(self, rng: str, tip: str, first_seq: int, with_diff: bool
                    ) -> list[RawCommit]:
        """The commits of ``rng`` with git's diff of each (one ``git log``), or without
        changes (``rev-list``, their predicted files read from the tip)."""
        if with_diff:  # objects and changes from one process
            order, commit_objects, diff = self._log_range(rng)
            return self._with_changes(order, commit_objects, diff, {})
        order, commit_objects = self._read_commit_objects(rng)
        paths = [(layout.event_path(first_seq + i), layout.checkpoint_path(first_seq + i + 1))
                 for i in range(len(order))]
        found = iter(self.cat_batch_list([f"{tip}:{p}" for pair in paths for p in pair]))
        out = []
        for (sha, parents), pair in zip(order, paths, strict=True):
            blobs = {}
            for path in pair:
                _, data = next(found)
                if data is not None:
                    blobs[path] = data
            out.append(RawCommit(sha, parents, commit_objects[sha], (), blobs))
        return out

    def _proven_after(self, after: str, tip: str, first_seq: int) -> list[RawCommit] | None:
        """The commits after ``after`` up to ``tip`` with their changes, through the persistent
        object reader alone (no ``git log``, no diff): None when this cannot be shown, and the
        caller then reads them with git's own diff.

        The tip's ``Ledger-Seq`` trailer says how many commits to expect (only a guess: what
        is read must lead from ``after`` to the tip, one parent each, every object hashing to
        its id); each commit's predicted event and checkpoint are read from it; the directories
        of ``after``'s tree on their paths are loaded (each tree hashing to the id its parent
        names, the root to ``after``'s tree); then each commit must be exactly its parent's
        tree plus those files (``treeproof``), as the whole-ledger read proves it. A commit
        that is not (a rotation, a tampered commit) sends the whole range to git's diff."""
        objects = self._objects
        found = objects.read_many([after, tip])
        if found[0] is None or found[1] is None:
            return None
        after_raw, tip_raw = found[0][1], found[1][1]
        if not _is_commit(after_raw, after) or not _is_commit(tip_raw, tip):
            return None
        seq = _LEDGER_SEQ.search(tip_raw)
        n = int(seq.group(1)) - first_seq + 1 if seq is not None else 0
        if not 1 <= n <= _FEW:
            return None
        older = _read_chunked(objects, [f"{tip}~{k}" for k in range(n - 1, 0, -1)])
        order: list[tuple[str, bytes, tuple[str, ...]]] = []
        prev = after
        for item in [*older, (tip, tip_raw)]:
            if item is None or not _is_commit(item[1], item[0]):
                return None
            sha, raw = item
            parents = _parents(raw)
            if parents != (prev,):
                return None
            order.append((sha, raw, parents))
            prev = sha
        paths = [(layout.checkpoint_path(first_seq + i + 1), layout.event_path(first_seq + i))
                 for i in range(n)]  # in git's (path) order: checkpoints/ before events/
        # the files by id, as the tip's tree names them (a path through the trees per file
        # would cost git a walk of four trees each)
        dirs = {d for parent in {p.rpartition("/")[0] for pair in paths for p in pair}
                for d in _dirs_of(parent.encode() + b"/")}
        at_tip, state = TreeState(), TreeState()
        if not _load_dirs(objects, at_tip, tip_raw, dirs) or \
                not _load_dirs(objects, state, after_raw, dirs):
            return None
        at_ids = [at_tip.file_id(p.encode()) for pair in paths for p in pair]
        got = iter(_read_chunked(objects, [i.hex() for i in at_ids if i is not None]))
        blobs: list[tuple[str, bytes] | None] = [next(got) if i is not None else None
                                                 for i in at_ids]
        out = []
        sha1 = hashlib.sha1
        for i, (sha, raw, parents) in enumerate(order):
            files = [(path, item[1]) for path, item in zip(paths[i], blobs[2 * i : 2 * i + 2],
                                                            strict=True) if item is not None]
            ids = [sha1(b"blob %d\0" % len(data) + data).digest() for _, data in files]
            if not state.add_files([(path.encode(), bid) for (path, _), bid
                                    in zip(files, ids, strict=True)],
                                   bytes.fromhex(raw[5:45].decode())):
                return None
            out.append(RawCommit(sha, parents, raw,
                                 tuple([Change("A", path, bid.hex()) for (path, _), bid
                                        in zip(files, ids, strict=True)]), dict(files)))
        return out

    def _log_range(self, rng: str) -> tuple[list[tuple[str, tuple[str, ...]]],
                                            dict[str, bytes], dict[str, tuple[Change, ...]]]:
        """(sha, parents) oldest first, every commit object and git's diff of each commit in
        ``rng``, from one ``git log --format=raw --raw``: each commit's headers as stored, its
        message indented by four spaces, then its ``--raw`` changes. Objects are rebuilt as
        ``_read_commit_objects`` does and accepted only when they hash to their id (the rest
        are read with ``cat-file``); output it does not expect falls back to ``rev-list`` and
        ``git log --raw``."""
        # user configuration must not change the output: no colour, no signature checks
        out = self.run(["log", "--format=raw", "--raw", "-r", "--no-renames", "--no-abbrev",
                        "--no-color", "--no-show-signature", "--no-ext-diff", "--reverse",
                        "--topo-order", "--parents", rng]).stdout
        order: list[tuple[str, tuple[str, ...]]] = []
        changes: dict[str, tuple[Change, ...]] = {}
        rebuilt: list[tuple[str, bytes | None]] = []
        for record in _LOG_RECORD.split(out)[1:]:
            nl = record.find(b"\n")
            if nl < 0 or not _IDS.match(record, 0, nl):
                return self._log_range_plainly(rng)
            ids = record[:nl].decode().split()
            head, sep, body = record[nl + 1 :].partition(b"\n\n")
            message: list[bytes] = []
            found: list[Change] = []
            for line in body.split(b"\n"):
                if line.startswith(b"    ") and not found:
                    message.append(line[4:])
                elif line.startswith(b":"):
                    meta, tab, path = line.partition(b"\t")
                    fields = meta.split()
                    if not tab or len(fields) < 5:
                        return self._log_range_plainly(rng)
                    found.append(Change(fields[4][:1].decode(), path.decode(errors="replace"),
                                        fields[3].decode()))
                elif line:
                    return self._log_range_plainly(rng)
            rebuilt.append((ids[0], head + b"\n\n" + b"\n".join(message) + b"\n"
                            if sep else None))
            order.append((ids[0], tuple(ids[1:])))
            changes[ids[0]] = tuple(found)
        return order, self._commit_objects(rebuilt), changes

    def _log_range_plainly(self, rng: str) -> tuple[list[tuple[str, tuple[str, ...]]],
                                                    dict[str, bytes],
                                                    dict[str, tuple[Change, ...]]]:
        order, objects = self._read_commit_objects(rng)
        return order, objects, self._diff_range(rng)

    def _read_commit_objects(self, rng: str
                             ) -> tuple[list[tuple[str, tuple[str, ...]]], dict[str, bytes]]:
        """(sha, parents) oldest first and every commit object, from one ``rev-list --header``.

        rev-list prints each commit in git's raw format, the message indented by four spaces;
        undoing the indent gives the object's bytes, accepted only when they hash to the
        commit's id. The few it does not reproduce (git trims trailing blanks of message lines)
        are read with ``cat-file``.
        """
        out = self.run(["rev-list", "--reverse", "--topo-order", "--parents", "--header", rng]
                       ).stdout
        order: list[tuple[str, tuple[str, ...]]] = []
        rebuilt: list[tuple[str, bytes | None]] = []
        for record in out.split(b"\0"):
            if not record:
                continue
            nl = record.find(b"\n")
            if nl < 0 or not _IDS.match(record, 0, nl):
                return self._read_commit_objects_plainly(rng)
            ids = record[:nl].decode().split()
            head, sep, body = record[nl + 1 :].partition(b"\n\n")
            rebuilt.append((ids[0], head + b"\n\n" + body[4:].replace(b"\n    ", b"\n")
                            if sep else None))
            order.append((ids[0], tuple(ids[1:])))
        return order, self._commit_objects(rebuilt)

    def _commit_objects(self, rebuilt: Sequence[tuple[str, bytes | None]]) -> dict[str, bytes]:
        """Commit objects by id from ``(id, bytes rebuilt from git's text output)``: a rebuilt
        object is accepted only when it hashes to its id (``_as_stored``); every other one
        (None: not rebuilt) is read with one ``cat-file --batch``."""
        objects: dict[str, bytes] = {}
        redo: list[str] = []
        for sha, raw in rebuilt:
            stored = _as_stored(raw, sha) if raw is not None else None
            if stored is None:
                redo.append(sha)
            else:
                objects.setdefault(sha, stored)
        if redo:
            objects.update(self.cat_batch(redo))
        if len(objects) != len({sha for sha, _ in rebuilt}):
            raise Undecided("git cat-file did not return every ledger commit")
        return objects

    def _read_commit_objects_plainly(self, rng: str
                                     ) -> tuple[list[tuple[str, tuple[str, ...]]],
                                                dict[str, bytes]]:
        """The same from ``rev-list`` and ``cat-file --batch`` (for output the above does not
        expect)."""
        order = []
        for line in self.run(["rev-list", "--reverse", "--topo-order", "--parents", rng]
                             ).stdout.decode().split("\n"):
            if line:
                parts = line.split()
                order.append((parts[0], tuple(parts[1:])))
        objects = self.cat_batch([sha for sha, _ in order])
        if len(objects) != len(order):
            raise Undecided("git cat-file did not return every ledger commit")
        return order, objects

    def _proven_commits(self, order: Sequence[tuple[str, tuple[str, ...]]],
                        commits: Mapping[str, bytes], predicted: Sequence[tuple[str, str]],
                        by_sha: dict[str, bytes]) -> list[RawCommit] | None:
        """Every commit with its changes, proven by tree ids from the root commit on (see
        ``treeproof``); None when the history is not a linear chain from a root commit or git's
        own diff does not reproduce a tree (the caller then diffs everything with git).

        The ids of the files a commit is predicted to add are computed from the bytes read (a
        blob's id is SHA-1 of ``blob <length>\\0`` and its content), so a proven commit's tree
        holds exactly those bytes, whatever the object store returned; a commit the
        prediction does not reproduce gets git's own diff, its blobs checked against their ids
        (``_changed_blobs``)."""
        state = TreeState()
        out: list[RawCommit | None] = []
        real_changes: dict[int, tuple[Change, ...]] = {}
        prev: str | None = None
        fromhex = bytes.fromhex
        sha1 = hashlib.sha1
        add_files = state.add_files
        for i, (sha, parents) in enumerate(order):
            raw = commits[sha]
            if parents != ((prev,) if prev else ()) or raw[:5] != b"tree " or raw[45:46] != b"\n":
                return None
            expected = fromhex(raw[5:45].decode())
            (event, event_blob), (note, note_blob) = predicted[2 * i], predicted[2 * i + 1]
            # in git's (path) order, as diff-tree lists them: checkpoints/ before events/
            files = [(path, data) for path, blob in ((note, note_blob), (event, event_blob))
                     if blob and (data := by_sha.get(blob)) is not None]
            ids = [sha1(b"blob %d\0" % len(data) + data).digest() for _, data in files]
            if prev and add_files([(path.encode(), bid) for (path, _), bid
                                   in zip(files, ids, strict=True)], expected):
                out.append(RawCommit(sha, parents, raw,
                                     tuple([Change("A", path, bid.hex()) for (path, _), bid
                                            in zip(files, ids, strict=True)]), dict(files)))
            else:
                real = self._diff_one(sha)
                if not state.apply([(c.status, c.path.encode(), mode.encode(), fromhex(c.blob))
                                    for c, mode in real], expected):
                    return None
                real_changes[i] = tuple(c for c, _ in real)
                out.append(None)
            prev = sha
        missing = [c.blob for chs in real_changes.values() for c in chs
                   if c.blob != ZERO and c.blob not in by_sha]
        if missing:
            by_sha.update(self.cat_batch(missing))
        for i, chs in real_changes.items():
            sha, parents = order[i]
            out[i] = RawCommit(sha, parents, commits[sha], chs, _changed_blobs(chs, by_sha))
        return [c for c in out if c is not None]

    def _diff_one(self, sha: str) -> list[tuple[Change, str]]:
        """git's own diff of one commit against its parent: (change, new mode) per path."""
        text = self.run(["diff-tree", "-r", "--root", "--no-renames", "--raw", sha]
                        ).stdout.decode(errors="replace")
        out = []
        for line in text.split("\n"):
            if line.startswith(":"):
                meta, _, path = line.partition("\t")
                fields = meta.split()
                if len(fields) >= 5:
                    out.append((Change(fields[4][0], path, fields[3]), fields[1]))
        return out

    def _diff_all(self, order: Sequence[tuple[str, tuple[str, ...]]]
                  ) -> dict[str, tuple[Change, ...]]:
        """git's diff of every commit, ``diff-tree --stdin`` split across CPUs."""
        diff_out: dict[int, bytes] = {}
        workers: list[threading.Thread] = []
        n_parts = max(1, min(os.cpu_count() or 1, 4, len(order) // 500))
        step = -(-len(order) // n_parts)
        for k in range(n_parts):
            chunk = "".join(sha + "\n" for sha, _ in order[k * step : (k + 1) * step])

            def diff(k: int = k, chunk: str = chunk) -> None:
                diff_out[k] = self.run(["diff-tree", "--stdin", "-r", "--root", "--no-renames",
                                        "--raw"], input=chunk.encode()).stdout

            workers.append(threading.Thread(target=diff))
            workers[-1].start()
        for w in workers:
            w.join()
        if len(diff_out) != len(workers):
            raise Undecided("git diff-tree failed while reading the ledger")
        return _parse_raw_diff(b"".join(diff_out[k] for k in sorted(diff_out)))

    def _diff_range(self, rng: str) -> dict[str, tuple[Change, ...]]:
        """git's diff of every commit in ``rng`` from one ``git log --raw`` (no list of
        commits needed first: it runs alongside the read of the commit objects). Same output as
        ``_diff_all``: a commit id line, then its changes (none for a merge)."""
        # user configuration must not change the output: no colour, no signature checks
        return _parse_raw_diff(self.run(["log", "--raw", "-r", "--no-renames", "--no-abbrev",
                                         "--no-color", "--no-show-signature", "--no-ext-diff",
                                         "--format=%H", "--topo-order", rng]).stdout)


    def cat_batch_list(self, specs: Sequence[str]) -> list[tuple[str | None, bytes | None]]:
        """(object sha, content) per spec, in order; (None, None) for a missing one. A few
        are asked of the persistent reader (no process started), many of one ``cat-file
        --batch --buffer``."""
        if len(specs) <= _FEW and sum(len(spec) + 1 for spec in specs) <= _FEW_BYTES \
                and all(spec and "\n" not in spec for spec in specs):
            return [found or (None, None) for found in self._objects.read_many(specs)]
        proc = self.run(["cat-file", "--batch", "--buffer"],
                        input="".join(s + "\n" for s in specs).encode())
        data = proc.stdout
        out: list[tuple[str | None, bytes | None]] = []
        at = 0
        while at < len(data):
            nl = data.index(b"\n", at)
            header = data[at:nl]
            if header.endswith(b" missing") or header.endswith(b" ambiguous"):
                out.append((None, None))
                at = nl + 1
                continue
            sha, _, size = header.split()
            n = int(size)
            out.append((sha.decode(), data[nl + 1 : nl + 1 + n]))
            at = nl + 1 + n + 1
        if len(out) != len(specs):
            raise Undecided(f"git cat-file returned {len(out)} objects for {len(specs)} requests")
        return out

    def cat_batch(self, shas: Sequence[str]) -> dict[str, bytes]:
        """Objects by sha through one ``git cat-file --batch`` process."""
        return {sha: data for sha, data in self.cat_batch_list(shas)
                if sha is not None and data is not None}

    def repack(self) -> None:
        self.run(["repack", "-a", "-d", "-q"])


class _ObjectReader:
    """A persistent ``git cat-file --batch`` process: one object per request, by id or as
    ``<commit>:<path>`` (what GitPython's persistent reader does, without importing GitPython
    and running ``git version`` twice at its import). The process ends when this object is
    collected or the interpreter exits (its stdin closed, then waited for)."""

    def __init__(self, exe: str, git_dir: Path) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen([exe, "cat-file", "--batch"], cwd=git_dir,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, env=child_environment(None))
        self._pending = bytearray()  # read from git's output, not yet asked for (none)
        weakref.finalize(self, _end_process, self._proc)

    def get(self, spec: str) -> bytes | None:
        """The object's content; None when git says it is missing (or ambiguous)."""
        found = self.read(spec)
        return None if found is None else found[1]

    def read(self, spec: str) -> tuple[str, bytes] | None:
        """(object id, content); None when git says it is missing (or ambiguous)."""
        if "\n" in spec or not spec or len(spec) >= _FEW_BYTES:
            return None
        return self.read_many([spec])[0]

    def read_many(self, specs: Sequence[str]) -> list[tuple[str, bytes] | None]:
        """``read`` of each spec, asked all at once (the requests, at most _FEW_BYTES, fit in
        the pipe, so writing them cannot wait on git's output) and answered in order."""
        if any("\n" in spec or not spec for spec in specs):
            raise ValueError("an object name holds a newline or is empty")
        request = "".join(spec + "\n" for spec in specs).encode()
        if len(request) > _FEW_BYTES:
            raise ValueError("too many object names for one request")
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        out: list[tuple[str, bytes] | None] = []
        with self._lock:
            try:
                proc.stdin.write(request)
                proc.stdin.flush()
                # the answers read from the pipe in large pieces (not a line, then an object,
                # each through the buffered reader): what a catch-up of a hundred commits
                # spends here is mostly per-object overhead
                fd = proc.stdout.fileno()
                buf = self._pending
                at = 0
                for spec in specs:
                    while (nl := buf.find(b"\n", at)) < 0:
                        buf = _more(fd, buf, at, spec)
                        at = 0
                    fields = bytes(buf[at:nl]).split()
                    if len(fields) == 2 and fields[1] in (b"missing", b"ambiguous"):
                        out.append(None)
                        at = nl + 1
                        continue
                    if len(fields) != 3 or not fields[2].isdigit():
                        raise Undecided(f"git cat-file answered {bytes(buf[at:nl])[:80]!r} for "
                                        f"{spec!r}")
                    end = nl + 1 + int(fields[2])
                    while len(buf) < end + 1:
                        buf = _more(fd, buf, at, spec)
                        end, nl, at = end - at, nl - at, 0
                    if buf[end : end + 1] != b"\n":
                        raise Undecided(f"git cat-file returned a malformed object for {spec!r}")
                    out.append((fields[0].decode(), bytes(buf[nl + 1 : end])))
                    at = end + 1
                self._pending = buf[at:]
            except (BrokenPipeError, OSError) as err:
                raise Undecided(f"git cat-file ended while reading objects: {err}") from None
        return out


def _more(fd: int, buf: bytearray, at: int, spec: str) -> bytearray:
    """``buf`` from ``at`` on, with what git wrote next appended (Undecided at its end)."""
    chunk = os.read(fd, 1 << 17)
    if not chunk:
        raise Undecided(f"git cat-file ended while reading {spec!r}")
    rest = buf[at:] if at else buf
    rest += chunk
    return rest


_LEDGER_SEQ = re.compile(rb"\nLedger-Seq: ([0-9]{1,12})\n")


def _is_commit(raw: bytes, sha: str) -> bool:
    """Whether ``raw`` is a commit object (as this reader expects it: the tree first) that
    hashes to ``sha``."""
    return raw[:5] == b"tree " and raw[45:46] == b"\n" and \
        hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest() == sha


def _parents(raw: bytes) -> tuple[str, ...]:
    """The parent ids of a commit object whose tree line was checked (``_is_commit``)."""
    out = []
    at = 46
    while raw.startswith(b"parent ", at) and raw[at + 47 : at + 48] == b"\n":
        out.append(raw[at + 7 : at + 47].decode())
        at += 48
    return tuple(out)


def _dirs_of(path: bytes) -> Iterator[bytes]:
    """The directories on ``path``, the root (b"") first."""
    yield b""
    at = path.find(b"/")
    while at >= 0:
        yield path[:at]
        at = path.find(b"/", at + 1)


def _read_chunked(objects: _ObjectReader, specs: Sequence[str]
                  ) -> list[tuple[str, bytes] | None]:
    """``read_many`` of any number of specs, asked in requests that fit the pipe."""
    out: list[tuple[str, bytes] | None] = []
    chunk: list[str] = []
    size = 0
    for spec in specs:
        if chunk and size + len(spec) + 1 > _FEW_BYTES:
            out += objects.read_many(chunk)
            chunk, size = [], 0
        chunk.append(spec)
        size += len(spec) + 1
    if chunk:
        out += objects.read_many(chunk)
    return out


def _load_dirs(objects: _ObjectReader, state: TreeState, commit_raw: bytes,
               wanted: set[bytes]) -> bool:
    """Load into ``state`` each of the ``wanted`` directories that the commit's tree has, by
    depth from its root tree, each tree object hashing to the id it is named by (the root:
    the commit's tree line). False when one does not."""
    level = [(b"", commit_raw[5:45].decode())]
    depth = 0
    while level:
        got = objects.read_many([hex_id for _, hex_id in level])
        for (path, hex_id), item in zip(level, got, strict=True):
            if item is None:
                return False
            try:
                if state.load(path, item[1]).hex() != hex_id:
                    return False
            except ValueError:
                return False
        depth += 1
        level = [(d, sub.hex()) for d in sorted(wanted)
                 if d and d.count(b"/") == depth - 1 and not state.loaded(d)
                 and (sub := state.subtree_id(d)) is not None]
    return True


def _end_process(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _changed_blobs(changes: Sequence[Change], by_sha: Mapping[str, bytes]) -> dict[str, bytes]:
    """path -> content of each added or modified file, every content checked against its blob
    id (git does not re-hash objects it reads): an object store that returns other bytes for
    an id is refused, not read as the ledger's."""
    out: dict[str, bytes] = {}
    for c in changes:
        if c.blob == ZERO:
            continue
        data = by_sha.get(c.blob)
        if data is None:  # not a blob git has (a gitlink, say): judged as empty by the verifier
            out[c.path] = b""
            continue
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() != c.blob:
            raise Undecided(f"git object {c.blob} ({c.path}) does not hash to its id: the "
                            "repository's object store is damaged or was edited",
                            hint="run `git fsck`; a fresh clone of the ledger gives the "
                                 "objects as the origin holds them")
        out[c.path] = data
    return out


def _parse_raw_diff(out: bytes) -> dict[str, tuple[Change, ...]]:
    """``diff-tree --raw`` style output (a commit id line before its changes) by commit."""
    changes: dict[str, list[Change]] = {}
    current: list[Change] | None = None
    text = out.decode(errors="replace")
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] != ":":
            current = changes.setdefault(line.strip(), [])
            continue
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if current is not None and len(fields) >= 5:
            current.append(Change(fields[4][0], path, fields[3]))
    return {sha: tuple(chs) for sha, chs in changes.items()}


def _as_stored(raw: bytes, sha: str) -> bytes | None:
    """``raw`` when it hashes to commit ``sha``; else, for the genesis whose empty
    ``Ledger-Prev: `` trailer lost its blank in git's text output, ``raw`` with the blank put
    back if that hashes to ``sha`` (saves a cat-file); else None."""
    if hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest() == sha:
        return raw
    fixed = raw.replace(b"\nLedger-Prev:\n", b"\nLedger-Prev: \n", 1)
    if fixed is raw or hashlib.sha1(b"commit %d\0" % len(fixed) + fixed).hexdigest() != sha:
        return None
    return fixed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PackWriter:
    """Stream objects into one git packfile (format: gitformat-pack(5)), then index it.

    The bulk path writes tens of thousands of objects; one pack plus ``git index-pack`` is far
    faster than as many loose files, and the result is what ``git gc`` would produce anyway.
    Objects are undeltified; nothing references them until the caller moves the ref.
    """

    _TYPES = {"commit": 1, "tree": 2, "blob": 3}

    def __init__(self, store: GitStore) -> None:
        self.store = store
        pack_dir = store.git_dir / "objects" / "pack"
        pack_dir.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, name = tempfile.mkstemp(prefix="tmp_governance_", suffix=".pack", dir=pack_dir)
        self.path = Path(name)
        self.file = os.fdopen(fd, "w+b")
        self.file.write(b"PACK" + (2).to_bytes(4, "big") + (0).to_bytes(4, "big"))
        self.count = 0

    def add(self, kind: str, data: bytes) -> str:
        sha = hashlib.sha1(f"{kind} {len(data)}".encode() + b"\0" + data).hexdigest()
        size = len(data)
        byte = (self._TYPES[kind] << 4) | (size & 0x0F)
        size >>= 4
        header = bytearray()
        while size:
            header.append(byte | 0x80)
            byte = size & 0x7F
            size >>= 7
        header.append(byte)
        self.file.write(bytes(header) + zlib.compress(data, 1))
        self.count += 1
        return sha

    def finish(self) -> None:
        self.file.seek(8)
        self.file.write(self.count.to_bytes(4, "big"))
        self.file.seek(0)
        digest = hashlib.sha1()
        while chunk := self.file.read(1 << 20):
            digest.update(chunk)
        self.file.write(digest.digest())
        self.file.close()
        final = self.path.with_name(f"pack-{digest.hexdigest()}.pack")
        os.replace(self.path, final)
        self.store.run(["index-pack", str(final)])

    def abort(self) -> None:
        self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
