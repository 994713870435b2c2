"""The gate input's evidence facts: present, and hashed byte-exact from the digest's reading."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

from governance.digest import release_digest
from governance.policy.input import _artifacts
from governance.repo import GovernedRepo, LoadedRelease

ROOT = Path(__file__).resolve().parents[3]
RELEASE = "fraud-risk-2026-04-10-01"


def _loaded() -> LoadedRelease:
    return GovernedRepo(ROOT).load_release(RELEASE)


def test_evidence_hash_is_the_file_bytes_and_matches_the_digest_manifest() -> None:
    loaded = _loaded()
    report = next(a for a in _artifacts(loaded) if a["name"] == "evaluation_report")
    raw = (loaded.directory / "evidence" / "eval.json").read_bytes()
    assert report["present"] is True
    assert report["actual_sha256"] == hashlib.sha256(raw).hexdigest() == report["sha256"]
    assert dict(loaded.digest.manifest)["evidence/eval.json"] == report["actual_sha256"]


def test_yaml_evidence_is_hashed_byte_exact_not_as_the_digest_normalises_it(
        tmp_path: Path) -> None:
    loaded = _loaded()
    directory = tmp_path / RELEASE
    shutil.copytree(loaded.directory, directory)
    raw = b"metric: 0.91\r\nslice: a\r\n"  # CRLF: the digest hashes it with LF endings
    (directory / "evidence" / "extra.yaml").write_bytes(raw)
    exact = hashlib.sha256(raw).hexdigest()
    report = replace(loaded.release.evaluation_report, path="./evidence/extra.yaml", sha256=exact)
    moved = replace(loaded, directory=directory,
                    release=replace(loaded.release, evaluation_report=report),
                    digest=release_digest(directory))
    assert dict(moved.digest.manifest)["evidence/extra.yaml"] != exact
    got = next(a for a in _artifacts(moved) if a["name"] == "evaluation_report")
    assert got["present"] is True and got["actual_sha256"] == exact


def test_missing_evidence_is_reported_absent(tmp_path: Path) -> None:
    loaded = _loaded()
    directory = tmp_path / RELEASE
    shutil.copytree(loaded.directory, directory)
    moved = replace(loaded, directory=directory, digest=release_digest(directory))
    (directory / "evidence" / "eval.json").unlink()
    moved = replace(moved, digest=release_digest(directory))
    got = next(a for a in _artifacts(moved) if a["name"] == "evaluation_report")
    assert got["present"] is False and "actual_sha256" not in got
