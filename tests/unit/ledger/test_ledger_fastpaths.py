"""The verifier's shortcuts give exactly what the general code gives.

* ``TreeState`` reproduces git's own tree ids under random adds, edits and deletions (real
  ``git mktree`` via the index), and ``add_files`` claims nothing but pure additions;
* ``parse_commit``'s sliced path and ``signed_parts`` agree with the general parse on
  mutated commit objects;
* ``quick_git_signature`` accepts only armored signatures ``parse_armored``/``verify`` accept,
  with the same key and signature bytes;
* ``parse_canonical`` gives the same value or the same reason as the checking parse.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.ledger import commit as commit_mod
from governance.ledger.canonical import NonCanonical, _parse_checked, parse_canonical
from governance.ledger.commit import build_commit, ledger_message, parse_commit, signed_parts
from governance.ledger.sshsig import (
    GIT_SHA512_PREFIX,
    SignatureError,
    git_signature_key,
    load_private_key,
    parse_armored,
    public_key_from_blob,
    quick_git_signature,
    sign,
    signed_data,
)
from governance.ledger.treeproof import TreeState


def _git(root: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, input=input, capture_output=True,
                          check=True).stdout.decode().strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    _git(tmp_path, "init", "-q")
    return tmp_path


def _blob(root: Path, data: bytes) -> str:
    return _git(root, "hash-object", "-w", "--stdin", input=data)


def _tree(root: Path, files: dict[str, tuple[str, str]]) -> bytes:
    """git's tree id for ``files`` (path -> (mode, blob)), through the index."""
    _git(root, "read-tree", "--empty")
    if files:
        info = "".join(f"{mode} {blob}\t{path}\n" for path, (mode, blob) in files.items())
        _git(root, "update-index", "--add", "--index-info", input=info.encode())
    return bytes.fromhex(_git(root, "write-tree"))


def test_tree_state_tracks_git(repo: Path) -> None:
    rnd = random.Random(7)
    files: dict[str, tuple[str, str]] = {}
    state = TreeState()
    assert state.tree_id() == _tree(repo, files)
    names = [f"events/{a}/{b:02d}/{n}.json" for a in (0, 1) for b in (0, 1, 7) for n in range(4)]
    names += ["trust/state.json", "trust/allowed_signers", "top", "a-b", "a/b", "a.b"]
    for step in range(60):
        op = rnd.random()
        path = rnd.choice(names)
        if op < 0.5 and path not in files and not any(
                p.startswith(path + "/") or path.startswith(p + "/") for p in files):
            blob = _blob(repo, f"{step}".encode())
            files[path] = ("100644", blob)
            assert state.add_files([(path.encode(), bytes.fromhex(blob))], _tree(repo, files))
            continue
        if op < 0.7 and files:  # a wrong expectation leaves the state untouched
            before = state.tree_id()
            fresh = f"fresh/{step}.json"
            assert not state.add_files([(fresh.encode(), b"\x01" * 20)], b"\x00" * 20)
            assert state.tree_id() == before
            existing = rnd.choice(sorted(files))
            other = _blob(repo, f"other {step}".encode())
            assert not state.add_files([(existing.encode(), bytes.fromhex(other))],
                                       _tree(repo, {**files, existing: ("100644", other)}))
            assert state.tree_id() == before
            continue
        if files:  # git's own changes: modify (maybe the mode) or delete
            victim = rnd.choice(sorted(files))
            if rnd.random() < 0.5:
                del files[victim]
                change = ("D", victim.encode(), b"000000", b"\x00" * 20)
            else:
                mode = rnd.choice(["100644", "100755"])
                blob = _blob(repo, f"m{step}".encode())
                files[victim] = (mode, blob)
                change = ("M", victim.encode(), mode.encode(), bytes.fromhex(blob))
            assert state.apply([change], _tree(repo, files))


def test_add_files_refuses_a_file_where_a_directory_is(repo: Path) -> None:
    blob = bytes.fromhex(_blob(repo, b"x"))
    state = TreeState()
    assert state.add_files([(b"events/1.json", blob)], _tree(repo, {"events/1.json": (
        "100644", blob.hex())}))
    before = state.tree_id()
    assert not state.add_files([(b"events", blob)], b"\x00" * 20)
    assert not state.add_files([(b"events/1.json/x", blob)], b"\x00" * 20)
    assert state.tree_id() == before


def test_partial_tree_state_proves_additions_as_the_whole_does(repo: Path) -> None:
    # catching up loads only the directories on the paths to be added (each from git's own
    # tree object); adding files then gives git's tree ids, exactly as the whole state does
    files = {f"events/{a}/{b:02d}/{n}.json": ("100644", _blob(repo, f"{a}{b}{n}".encode()))
             for a in (0, 1) for b in (0, 3) for n in range(3)}
    files["trust/state.json"] = ("100644", _blob(repo, b"{}"))
    root = _tree(repo, files).hex()

    def tree_object(path: str) -> bytes:
        sha = root if not path else _git(repo, "rev-parse", f"{root}:{path}")
        return subprocess.run(["git", "cat-file", "tree", sha], cwd=repo, capture_output=True,
                              check=True).stdout

    state = TreeState()
    for path in ("", "events", "events/1", "events/1/03"):
        assert state.load(path.encode(), tree_object(path)).hex() == (
            root if not path else _git(repo, "rev-parse", f"{root}:{path}"))
    assert state.loaded(b"events/1/03") and not state.loaded(b"events/0")
    assert state.subtree_id(b"events/0") is not None  # named by its loaded parent
    assert state.subtree_id(b"events/9") is None and state.subtree_id(b"x/y") is None
    assert state.file_id(b"events/1/03/2.json") == bytes.fromhex(files["events/1/03/2.json"][1])
    assert state.file_id(b"events/1/03/9.json") is None
    assert state.file_id(b"trust/state.json") is None  # its directory is not loaded
    for name in ("events/1/03/7.json", "events/1/04/0.json"):  # same shard, a new shard
        blob = _blob(repo, name.encode())
        files[name] = ("100644", blob)
        assert state.add_files([(name.encode(), bytes.fromhex(blob))], _tree(repo, files))
    # an addition the tree does not hold is refused and leaves the state as it was
    before = state.tree_id()
    assert not state.add_files([(b"events/1/03/8.json", b"\x01" * 20)], b"\x00" * 20)
    assert state.tree_id() == before
    # a body that is no tree object in git's order is refused
    body = tree_object("events/1/03")
    with pytest.raises(ValueError):
        TreeState().load(b"", body[:-3])
    first_end = body.index(b"\0") + 21
    with pytest.raises(ValueError):
        TreeState().load(b"", body[first_end:] + body[:first_end])


def _signed_commit(key_path: Path, parent: str | None, seq: int) -> bytes:
    key = load_private_key(key_path.read_bytes())
    msg = ledger_message("model_registered", seq, "01a21870-0000-7000-8000-000000000001",
                         "aa" * 32, "bb" * 32 if seq else "", "cc" * 32)
    tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    payload = build_commit(tree, parent, "Jane Smith", "jane@example.com", 1700000000, msg)
    return build_commit(tree, parent, "Jane Smith", "jane@example.com", 1700000000, msg,
                        sign(key, payload, "git"))


@pytest.fixture(scope="module")
def key_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    d = tmp_path_factory.mktemp("k")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "id")],
                   check=True)
    return d / "id"


def _outcome(fn, raw: bytes):  # type: ignore[no-untyped-def]
    try:
        o = fn(raw)
    except ValueError as err:
        return ("error", str(err))
    return (o.tree, o.parents, o.author, o.committer, o.signature, o.payload, o.message,
            o.trailers)


def test_commit_fast_parse_agrees_with_general(key_path: Path) -> None:
    rnd = random.Random(3)
    samples = [_signed_commit(key_path, None, 0), _signed_commit(key_path, "ab" * 20, 4)]
    pieces = [b"\n", b" ", b"gpgsig ", b"\ngpgsig x", b"\n \n", b"\n\n", b"gpgsig",
              b"author a <b> 1 +0000\n", b"\n committer", b"\nparent " + b"1" * 40]
    for _ in range(4000):
        raw = bytearray(rnd.choice(samples))
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(raw))
            kind = rnd.random()
            if kind < 0.4:
                raw[at:at] = rnd.choice(pieces)
            elif kind < 0.7:
                del raw[at : at + rnd.randint(1, 5)]
            else:
                raw[at] = rnd.randrange(256)
        data = bytes(raw)
        general = _outcome(commit_mod._parse_general, data)
        assert _outcome(parse_commit, data) == general
        parts = signed_parts(data)
        if parts is not None and general[0] != "error":  # (a malformed one fails before)
            assert parts == (general[5], general[4])


def _mutants(rnd: random.Random, texts: list[bytes], n: int) -> Iterator[bytearray]:
    """``n`` copies of the armored signatures, each with one character replaced (by an armor
    character or any byte), deleted, or one run inserted."""
    for _ in range(n):
        text = bytearray(rnd.choice(texts))
        at = rnd.randrange(len(text))
        kind = rnd.random()
        if kind < 0.4:
            text[at] = rnd.choice(b"ABCZaz09+/=\n \r-")
        elif kind < 0.6:
            del text[at]
        elif kind < 0.8:
            text[at:at] = rnd.choice([b"\n", b"=", b" ", b"A", b"AAAA"])
        else:
            text[at] = rnd.randrange(256)
        yield text


def test_quick_signature_agrees_with_general(key_path: Path) -> None:
    rnd = random.Random(5)
    key = load_private_key(key_path.read_bytes())
    texts = [sign(key, b"message", "git").rstrip("\n").encode(),
             sign(key, b"message", "file").rstrip("\n").encode()]
    assert quick_git_signature(texts[0]) is not None
    assert quick_git_signature(texts[1]) is None  # another namespace: the general path
    accepted = 0
    for text in _mutants(rnd, texts, 20000):
        quick = quick_git_signature(bytes(text))
        if quick is None:
            continue
        accepted += 1
        sig = parse_armored(bytes(text))  # the general path accepts the same parts
        assert (sig.public_key_blob, sig.signature_blob[-64:]) == quick
        assert sig.namespace == "git" and sig.hash_algorithm == "sha512" and not sig.reserved
        public_key_from_blob(sig.public_key_blob)
    assert accepted > 0
    message = b"payload"
    assert signed_data("git", "sha512", message) == \
        GIT_SHA512_PREFIX + hashlib.sha512(message).digest()
    with pytest.raises(SignatureError, match="not valid base64"):
        parse_armored("-----BEGIN SSH SIGNATURE-----\n\u00e9\n-----END SSH SIGNATURE-----")


def test_signature_key_from_the_first_line_agrees_with_general(key_path: Path) -> None:
    """``git_signature_key`` (the ordered pass's read of a deferred signature's key) gives the
    key ``parse_armored`` (and ``quick_git_signature``) gives whenever that parse accepts the
    text and it names a key at all; of a text the parse refuses it may name the key its first
    line spells, which the signature work then refuses (the commit is checked inline)."""
    rnd = random.Random(7)
    key = load_private_key(key_path.read_bytes())
    texts = [sign(key, b"message", "git").rstrip("\n").encode(),
             sign(key, b"message", "file").rstrip("\n").encode()]
    blob = parse_armored(texts[0]).public_key_blob
    assert git_signature_key(texts[0]) == blob == git_signature_key(texts[1])
    agreed = 0
    for text in _mutants(rnd, texts, 20000):
        got = git_signature_key(bytes(text))
        try:
            general = parse_armored(bytes(text)).public_key_blob
        except SignatureError:
            general = None
        quick = quick_git_signature(bytes(text))
        if got is not None and general is not None:
            assert got == general
            agreed += 1
        if quick is not None:
            assert got == quick[0]
    assert agreed > 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=4), json_values, max_size=4),
       edit=st.sampled_from(["none", "dup", "space", "nan", "bom", "utf16"]))
def test_canonical_fast_parse_agrees_with_checked(value: dict[str, object], edit: str) -> None:
    try:
        data = json.dumps(value, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()
    except ValueError:
        return
    if edit == "dup" and data != b"{}":
        data = b'{"a":1,' + data[1:] if not data.startswith(b'{"a"') else data[:-1] + b',"a":2}'
    elif edit == "space":
        data = data.replace(b":", b": ", 1)
    elif edit == "nan":
        data = b'{"x":NaN}'
    elif edit == "bom":
        data = b"\xef\xbb\xbf" + data
    elif edit == "utf16":
        data = data.decode().encode("utf-16")

    def outcome(fn):  # type: ignore[no-untyped-def]
        try:
            return ("ok", fn(data))
        except NonCanonical as err:
            return ("refused", err.reason)

    fast, checked = outcome(parse_canonical), outcome(_parse_checked)
    if fast[0] == "ok" and checked[0] == "ok":  # NaN != NaN: compare the bytes they encode
        assert json.dumps(fast[1], sort_keys=True) == json.dumps(checked[1], sort_keys=True)
    else:
        assert fast == checked


def _general_trailers(message: str) -> dict[str, str]:
    """parse_trailers without its one-match shortcut (the general reading, as written)."""
    para = message.rstrip("\n").split("\n\n")[-1]
    out: dict[str, str] = {}
    for line in para.split("\n"):
        key, sep, value = line.partition(":")
        if sep and key in commit_mod.TRAILERS:
            out[key] = "\x00duplicate" if key in out else value.strip()
    return out


def _mutations(rnd: random.Random, text: str, pieces: list[str], n: int) -> list[str]:
    out = [text]
    for _ in range(n):
        s = list(text)
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(s))
            kind = rnd.random()
            if kind < 0.4:
                s[at:at] = list(rnd.choice(pieces))
            elif kind < 0.7:
                del s[at : at + rnd.randint(1, 4)]
            else:
                s[at] = rnd.choice("0aZ:- \n.+\t9é")
        out.append("".join(s))
    return out


def test_trailer_shortcut_agrees_with_general() -> None:
    rnd = random.Random(11)
    samples = [ledger_message("model_registered", 7, "01a21870-0000-7000-8000-000000000001",
                              "aa" * 32, "bb" * 32, "cc" * 32),
               ledger_message("ledger_genesis", 0, "01a2", "aa" * 32, "", "cc" * 32)]
    pieces = ["\n", "\n\n", " ", "Ledger-Seq: 9\n", "Ledger-Root:", ":", "x"]
    for sample in samples:
        for message in _mutations(rnd, sample, pieces, 3000):
            got = commit_mod.parse_trailers(message)
            assert got == _general_trailers(message), message
            assert list(got) == list(_general_trailers(message))


def test_identity_cache_agrees_with_parse() -> None:
    rnd = random.Random(5)
    base = "Jane Smith <jane@example.com> 1700000000 +0000"
    commit_mod.Person.parse(base.encode())  # the identity is now known
    pieces = [" ", "<", ">", "-", "12", "+0100", "\n"]
    for value in _mutations(rnd, base, pieces, 3000):
        data = value.encode()
        try:
            want: object = commit_mod.Person._parse(data)
        except ValueError as err:
            want = str(err)
        try:
            got: object = commit_mod.Person.parse(data)
        except ValueError as err:
            got = str(err)
        assert got == want, value


def test_event_time_shortcut_agrees_with_parse_timestamp() -> None:
    from governance.ledger.events import parse_timestamp
    from governance.timeparse import TimeFormatError
    from governance.timeparse import epoch_seconds as _event_seconds

    rnd = random.Random(9)
    samples = ["2026-04-10T09:14:11.123456Z", "2024-02-29T23:59:59.999999Z",
               "9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z"]
    pieces = ["0", "60", "29", "13", "Z", "+02:00", ".5", "T", " "]
    for sample in samples:
        for text in _mutations(rnd, sample, pieces, 1500):
            try:
                want: object = parse_timestamp(text).timestamp()
            except TimeFormatError as err:
                want = str(err)
            try:
                got: object = _event_seconds(text)
            except TimeFormatError as err:
                got = str(err)
            assert got == want, text
