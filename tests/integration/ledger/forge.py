"""Tools an attacker (or a careless operator) would use on a ledger, for the tamper suite.

They write git objects directly, so they can produce exactly the commit an attack would leave:
re-signed with a valid key, signed with the wrong namespace, unsigned, merged, reordered.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.ledger import layout
from governance.ledger.append import read_tip
from governance.ledger.canonical import canonical_bytes
from governance.ledger.commit import ledger_message, parse_commit
from governance.ledger.events import utc_timestamp, uuid7
from governance.ledger.merkle import leaf_hash
from governance.ledger.sshsig import sign
from governance.ledger.store import GitStore

REF = "refs/heads/governance/ledger"


def git(root: Path, *args: str, input: bytes | None = None,
        env: Mapping[str, str] | None = None) -> str:
    import os

    full = dict(os.environ)
    full.update(env or {})
    out = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True,
                         check=True, env=full)
    return out.stdout.decode().strip()


def chain(root: Path) -> list[str]:
    return git(root, "rev-list", "--reverse", "--first-parent", REF).split()


def set_tip(root: Path, sha: str) -> None:
    git(root, "update-ref", REF, sha)


@dataclass
class Signer:
    name: str
    email: str
    key: Ed25519PrivateKey


@dataclass
class CommitSpec:
    """A commit to write: everything overridable."""

    tree: str
    parents: list[str]
    name: str
    email: str
    when: int
    message: str
    committer: tuple[str, str] | None = None  # (name, email) if different from author
    extra: dict[str, Any] = field(default_factory=dict)


def spec_of(root: Path, sha: str) -> CommitSpec:
    store = GitStore(root, "governance/ledger")
    obj = parse_commit(store.read_object(sha))
    return CommitSpec(obj.tree, list(obj.parents), obj.author.name, obj.author.email,
                      obj.committer.when, obj.message,
                      (obj.committer.name, obj.committer.email))


def signature_of(root: Path, sha: str) -> str | None:
    store = GitStore(root, "governance/ledger")
    sig = parse_commit(store.read_object(sha)).signature
    return sig.decode() if sig is not None else None


def write_commit(root: Path, spec: CommitSpec, key: Ed25519PrivateKey | None,
                 namespace: str = "git", signature: str | None = None,
                 sign_payload: Callable[[bytes], str] | None = None) -> str:
    cname, cemail = spec.committer or (spec.name, spec.email)
    head = f"tree {spec.tree}\n" + "".join(f"parent {p}\n" for p in spec.parents)
    head += f"author {spec.name} <{spec.email}> {spec.when} +0000\n"
    head += f"committer {cname} <{cemail}> {spec.when} +0000\n"
    payload = (head + "\n" + spec.message).encode()
    if sign_payload is not None:  # another signer (e.g. a security key's format)
        signature = sign_payload(payload)
    elif key is not None:
        signature = sign(key, payload, namespace)
    if signature is not None:
        sig = signature.rstrip("\n").replace("\n", "\n ")
        raw = (head + f"gpgsig {sig}\n" + "\n" + spec.message).encode()
    else:
        raw = payload
    return GitStore(root, "governance/ledger").write_object("commit", raw)


def edit_tree(root: Path, tree: str, set_files: Mapping[str, bytes] = (),  # type: ignore[assignment]
              remove: tuple[str, ...] = ()) -> str:
    import os
    import tempfile

    store = GitStore(root, "governance/ledger")
    fd, index = tempfile.mkstemp()
    os.close(fd)
    os.unlink(index)
    env = {"GIT_INDEX_FILE": index}
    git(root, "read-tree", tree, env=env)
    for path, data in dict(set_files).items():
        blob = store.write_object("blob", data)
        git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
    for path in remove:
        git(root, "update-index", "--force-remove", path, env=env)
    out = git(root, "write-tree", env=env)
    os.unlink(index)
    return out


def replay(root: Path, old: list[str], new_parent: str, keys: Mapping[str, Ed25519PrivateKey],
           tree_fn: Callable[[str, str], str] | None = None) -> str:
    """Re-create commits ``old`` on ``new_parent``, re-signed with each author's valid key."""
    parent = new_parent
    for sha in old:
        spec = spec_of(root, sha)
        spec.parents = [parent]
        if tree_fn is not None:
            spec.tree = tree_fn(sha, spec.tree)
        parent = write_commit(root, spec, keys[spec.email])
    return parent


def append_raw(root: Path, signer: Signer, fields: Mapping[str, Any] | None = None, *,
               stored: bytes | None = None, when: int | None = None, namespace: str = "git",
               extra_files: Mapping[str, bytes] | None = None,
               committer: tuple[str, str] | None = None, signed: bool = True,
               parents: list[str] | None = None,
               sign_payload: Callable[[bytes], str] | None = None) -> str:
    """Append a well-formed event commit without any of the appender's checks."""
    store = GitStore(root, "governance/ledger")
    tip = store.tip()
    assert tip is not None
    state = read_tip(store, tip)
    seq = state.seq + 1
    event: dict[str, Any] = {"event_type": "model_registered", "model_name": "fraud-risk",
                             "actor_id": "jane.smith", "event_id": uuid7(),
                             "timestamp": utc_timestamp()}
    event.update(fields or {})
    event.setdefault("seq", seq)
    event.setdefault("prev", state.prev)
    data = stored if stored is not None else canonical_bytes(event)
    leaf = leaf_hash(data)
    state.frontier.append(leaf)
    files = {layout.event_path(seq): data, **(extra_files or {})}
    blobs = {p: store.write_object("blob", d) for p, d in files.items()}
    tree = store.tree_with(state.tree, blobs)
    message = ledger_message(str(event["event_type"]), seq, str(event["event_id"]), leaf.hex(),
                             state.prev, state.frontier.root().hex())
    spec = CommitSpec(tree, parents or [tip], signer.name, signer.email,
                      when if when is not None else int(time.time()), message, committer)
    sha = write_commit(root, spec, signer.key if signed else None, namespace,
                       sign_payload=sign_payload)
    set_tip(root, sha)
    return sha


def event_bytes(root: Path, seq: int) -> bytes:
    return subprocess.run(["git", "cat-file", "blob", f"{REF}:{layout.event_path(seq)}"],
                          cwd=root, capture_output=True, check=True).stdout


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
