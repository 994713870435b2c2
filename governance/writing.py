"""The record use cases behind ``init``, ``validate``, ``digest``, ``model new``, ``release new``,
``release register`` and ``schema export``: a typed request in, the result out.

Each command parses its options into one frozen request (below, or ``authoring.ReleaseRequest``
and ``scaffolding.InitOptions`` which already are) and calls its use case with the composition
root (``governance.service.Service``); ``governance.authoring``, ``governance.repo``,
``governance.digest``, ``governance.registration`` and ``governance.scaffolding`` do the work.
The result is data; the CLI renders it through a renderer registry
(``governance.cli.commands_records``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.errors import InvalidInput, UsageError

if TYPE_CHECKING:
    from governance.authoring import ReleaseRequest
    from governance.digest import ReleaseDigest
    from governance.registration import Registration
    from governance.repo import ValidationReport
    from governance.scaffolding import InitOptions, Scaffolded
    from governance.service import Service


# --- init ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitRequest:
    directory: Path
    options: InitOptions


def init(request: InitRequest) -> Scaffolded:
    """Scaffold a governed repository (existing files are left alone)."""
    from governance.scaffolding import init_repo

    return init_repo(request.directory, request.options)


# --- validate and digest -------------------------------------------------------------------


@dataclass(frozen=True)
class ValidateRequest:
    paths: tuple[Path, ...]  # empty: the governed repository found from --repo
    max_file_size: int | None = None
    jobs: int | None = None


def validate(service: Service, request: ValidateRequest) -> ValidationReport:
    """Every schema, cross-reference and digest problem of the paths."""
    from governance.repo import validate_paths

    return validate_paths(request.paths or [service.root], max_bytes=request.max_file_size,
                          jobs=request.jobs)


@dataclass(frozen=True)
class DigestRequest:
    release: str  # a release directory, or a release id of the governed repository


def digest(service: Service, request: DigestRequest) -> ReleaseDigest:
    """The canonical release digest (``governance.digest``)."""
    from governance.digest import release_digest
    from governance.records import display_path

    release_dir = Path(request.release)
    if not release_dir.is_dir():
        text = request.release
        if "/" in text or "\\" in text or text in (".", ".."):
            raise InvalidInput([], message=f"{display_path(release_dir)} is not a directory")
        # A release id, as every other command takes: found in the governed repository here.
        release_dir = service.repo.find_release_dir(text)
    return release_digest(release_dir)


# --- model new and release new -------------------------------------------------------------


@dataclass(frozen=True)
class ModelRequest:
    name: str
    owner: str
    risk_tier: str = "medium"
    title: str | None = None
    system_type: str | None = None


@dataclass(frozen=True)
class NewModel:
    path: Path  # releases/NAME/model.yaml
    codeowners: str | None  # what happened to .github/CODEOWNERS (None: not managed)


def new_model(service: Service, request: ModelRequest,
              created: Callable[[Path], None] = lambda path: None) -> NewModel:
    """Write releases/NAME/model.yaml and bring CODEOWNERS up to date (a model's releases are
    its approvers'). ``created`` hears of the model file as soon as it is written, so a
    CODEOWNERS failure after it still leaves the user told what was created."""
    from governance import authoring
    from governance.people import sync_codeowners

    governed = service.repo
    path = authoring.new_model(governed, request.name, request.owner, request.risk_tier,
                               request.title, request.system_type)
    created(path)
    return NewModel(path, sync_codeowners(governed.root))


def new_release(service: Service, request: ReleaseRequest) -> Path:
    """Create the release directory (record and model card, digests computed)."""
    from governance import authoring

    return authoring.new_release(service.repo, request)


# --- release register ----------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRequest:
    release: str  # id or directory
    amend_reason: str | None  # --amend: why the content changed
    source: Mapping[str, Any] | None  # the CI run and pull request that registers it


def register(service: Service, request: RegisterRequest) -> Registration:
    """Register the release on the ledger as committed (idempotent)."""
    from governance.registration import register_release

    return register_release(service.repo, request.release, amend_reason=request.amend_reason,
                            source=dict(request.source) if request.source else None)


# --- schema export -------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaExportRequest:
    directory: Path


def export_schemas(request: SchemaExportRequest,
                   wrote: Callable[[Path], None] = lambda path: None) -> list[Path]:
    """Write the JSON Schemas of the governed documents and the evaluation file; the files
    written, in order (each also told to ``wrote`` as soon as it is written, so a failure part
    way still leaves the user told what was written)."""
    from governance.records import INPUT_SCHEMA_FILES, SCHEMA_FILES, shipped_schema

    try:
        request.directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"schema export {request.directory}: cannot create the directory: "
                         f"{err.strerror}") from None
    written = []
    for filename in (*SCHEMA_FILES.values(), *INPUT_SCHEMA_FILES):
        path = request.directory / filename
        try:
            path.write_text(json.dumps(shipped_schema(filename), indent=2) + "\n",
                            encoding="utf-8")
        except OSError as err:
            raise UsageError(f"schema export {request.directory}: cannot write {path.name}: "
                             f"{err.strerror} (expected a directory where it may write files)"
                             ) from None
        written.append(path)
        wrote(path)
    return written
