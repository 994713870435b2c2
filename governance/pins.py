"""The workflows' pinned, hash-checked install of model-governance (issue 15, item 9).

A governed repository's workflows run next to the ledger signing keys, so what they install
must be exactly the release that scaffolded the repository, not whatever the package index
answers for a name: they run ``pip install --require-hashes --only-binary :all: -r
.github/governance-requirements.txt``, and pip refuses any file whose sha256 is not listed
and any requirement (transitive ones included) not pinned with ``==``.

Where the hashes come from, and the limits of each source:

* **model-governance itself.** A distribution cannot carry its own hash (the hash covers the
  file that would contain it), and the installed package's RECORD lists the hashes of the
  unpacked files, not of the wheel or sdist pip downloaded. So init takes the artifacts
  themselves: ``--artifact FILE`` (repeatable) with the wheel and/or sdist of this version,
  e.g. from ``pip download --no-deps --only-binary :all: model-governance==VERSION -d dist``
  after ``gh attestation verify dist/* --repo OWNER/model-governance`` (the release workflow
  attests them with build provenance). Without an artifact the line is written without a
  hash: pip then refuses to install (fail closed) and ``governance doctor`` names the fix.
* **its dependencies.** The release workflow locks them with hashes for every published file
  of each pinned version (``pip-compile --generate-hashes``) into ``governance/release-lock.txt``
  before it builds, so the published wheel ships the lock of its own release. A source
  checkout has no lock (it is not committed: it is produced where the package index is
  reachable); init then writes the dependencies as a note to generate, and pip refuses.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from governance.errors import UsageError
from governance.records import display_path

REQUIREMENTS = ".github/governance-requirements.txt"
DISTRIBUTION = "model-governance"
LOCK_RESOURCE = "release-lock.txt"  # inside the governance package, written at release time
_REQ_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*"
                     r"(?P<version>[A-Za-z0-9.+!_-]+)\s*(?P<rest>(?:;[^\\-]*)?)$")
_HASH_RE = re.compile(r"--hash=sha256:([0-9a-f]{64})\b")


def installed_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a source tree without install
        from governance import __version__

        return str(__version__)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str | None  # None: not pinned with ==
    hashes: tuple[str, ...]
    line: int
    text: str


def parse_requirements(text: str) -> list[Pin]:
    """Requirements joined over backslash continuations, comments dropped."""
    pins: list[Pin] = []
    logical, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not logical:
            start = number
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        entry = logical.strip()
        logical = ""
        if not entry:
            continue
        hashes = tuple(_HASH_RE.findall(entry))
        head = entry.split(" --", 1)[0].strip()
        m = _REQ_RE.match(head)
        if m:
            pins.append(Pin(_normal(m["name"]), m["version"], hashes, start, entry))
        else:
            name = re.match(r"[A-Za-z0-9._-]+", head)
            pins.append(Pin(_normal(name.group(0)) if name else head, None, hashes, start,
                            entry))
    return pins


def shipped_lock() -> str | None:
    """The dependency lock the release workflow put into this package, if any."""
    try:
        text = resources.files("governance").joinpath(LOCK_RESOURCE).read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    return text if text.strip() else None


def artifact_hash(path: Path, version: str) -> str:
    """sha256 of a wheel or sdist of model-governance ``version``; refuses any other file."""
    stem = f"model_governance-{version}"
    name = path.name
    if not (name.startswith(stem + "-") and name.endswith(".whl")
            or name in (f"{stem}.tar.gz", f"model-governance-{version}.tar.gz")):
        raise UsageError(f"--artifact {display_path(path)}: not a wheel or sdist of "
                         f"model-governance {version}",
                         hint=f"expected {stem}-py3-none-any.whl or {stem}.tar.gz")
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        raise UsageError(f"--artifact {display_path(path)}: {err.strerror}") from None


def requirements_text(version: str, hashes: list[str], lock: str | None) -> str:
    lines = [
        f"# Written by `governance init` (model-governance {version}); renew with",
        "# `governance pins write --artifact FILE`. The workflows install exactly this:",
        "# pip install --require-hashes --only-binary :all: -r .github/governance-requirements.txt",
    ]
    if hashes:
        lines.append(f"{DISTRIBUTION}=={version} \\")
        lines.extend(f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "")
                     for i, h in enumerate(hashes))
    else:
        lines.append("# NO HASH for model-governance itself: pip refuses to install until")
        lines.append("# `governance pins write --artifact <wheel or sdist>` adds it")
        lines.append(f"{DISTRIBUTION}=={version}")
    if lock is not None:
        lines.append(f"# dependencies, locked with hashes when model-governance {version} "
                     "was released:")
        lines.extend(p for p in lock.splitlines()
                     if not p.lstrip().startswith("#") or not p.strip())
    else:
        lines.append("# NO DEPENDENCY LOCK: this model-governance was not installed from a "
                     "release (it ships")
        lines.append("# governance/release-lock.txt); pip refuses until the dependencies are "
                     "listed with hashes")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def write_requirements(root: Path, notes: list[str], artifacts: tuple[Path, ...] = (),
                       *, overwrite: bool = False) -> list[Path]:
    """Write .github/governance-requirements.txt for the installed version."""
    target = root / REQUIREMENTS
    if target.exists() and not overwrite:
        return []
    version = installed_version()
    hashes = sorted({artifact_hash(a, version) for a in artifacts})
    lock = shipped_lock()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(requirements_text(version, hashes, lock), encoding="utf-8",
                      newline="\n")
    if not hashes:
        notes.append(f"{REQUIREMENTS} pins model-governance=={version} without its sha256, "
                     "so the workflows' install fails closed: run `governance pins write "
                     "--artifact FILE` with the verified wheel or sdist of this release")
    if lock is None:
        notes.append(f"{REQUIREMENTS} has no dependency lock (this installation is not a "
                     "published release): install model-governance from a release, then "
                     "`governance pins write --artifact FILE`")
    return [target]


@dataclass(frozen=True)
class PinProblem:
    line: int | None
    message: str


def check_requirements(root: Path, version: str | None = None) -> list[PinProblem]:
    """Every reason the workflows' install would not be exactly ``version``, hash-checked."""
    version = version or installed_version()
    target = root / REQUIREMENTS
    if not target.is_file():
        return [PinProblem(None, f"{REQUIREMENTS} does not exist")]
    pins = parse_requirements(target.read_text(encoding="utf-8", errors="replace"))
    problems: list[PinProblem] = []
    own = [p for p in pins if p.name == DISTRIBUTION]
    if not own:
        problems.append(PinProblem(None, f"no {DISTRIBUTION}==VERSION line"))
    for p in own:
        if p.version != version:
            problems.append(PinProblem(p.line, f"pins {DISTRIBUTION} "
                                       f"{p.version or '(unpinned)'}, but {version} is "
                                       "installed here (expected the same version)"))
        if not p.hashes:
            problems.append(PinProblem(p.line, f"{DISTRIBUTION} has no --hash=sha256: "
                                       "(pip --require-hashes refuses it)"))
    deps = [p for p in pins if p.name != DISTRIBUTION]
    if not deps:
        problems.append(PinProblem(None, "no dependencies listed (pip --require-hashes "
                                   "refuses model-governance's unlisted dependencies)"))
    for p in deps:
        if p.version is None:
            problems.append(PinProblem(p.line, f"{p.name} is not pinned with =="))
        if not p.hashes:
            problems.append(PinProblem(p.line, f"{p.name} has no --hash=sha256:"))
    return problems
