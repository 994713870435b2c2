"""Commands over governed records: init, validate, digest, model new, release new, schema.

Thin: each parses its options into a typed request (``governance.writing``), calls its use case
with the composition root and renders the result through a renderer registry; the commands that
only write files report what they wrote in text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import authoring, ci_context, writing
from governance.cli.app_support import new_app
from governance.cli.options import REPO
from governance.cli.output import OutputFormat, emit_json, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.digest import ReleaseDigest
from governance.errors import UsageError
from governance.records import display_path
from governance.repo import ValidationReport
from governance.service import Service

if TYPE_CHECKING:  # the ledger writer loads when release register runs
    from governance.registration import Registration
    from governance.scaffolding import Scaffolded

VALIDATED: Renderers[ValidationReport] = Renderers("validation")
VALIDATED.register(OutputFormat.json)(emit_to_json)


@VALIDATED.register(OutputFormat.text)
def _validated_text(report: ValidationReport) -> None:
    for problem in report.problems:
        emit_text(problem.render())
    verdict = "valid" if report.ok else f"invalid: {len(report.problems)} problem(s)"
    emit_text(f"{verdict} ({report.files} files, {report.releases} releases, "
              f"{report.models} models)")


DIGESTED: Renderers[ReleaseDigest] = Renderers("release digest")
DIGESTED.register(OutputFormat.json)(lambda result: emit_json(
    {"digest": result.value, "files": [{"path": p, "sha256": h} for p, h in result.manifest]}))
DIGESTED.register(OutputFormat.text)(lambda result: emit_text(result.value))

REGISTERED: Renderers[Registration] = Renderers("release registration")
REGISTERED.register(OutputFormat.json)(emit_to_json)


@REGISTERED.register(OutputFormat.text)
def _registered_text(done: Registration) -> None:
    words = {"registered": "registered", "amended": "registered (amended)",
             "already_registered": "already registered"}[done.state]
    emit_text(f"{done.release_id} {words} at seq {done.seq} with {done.digest} "
              f"(commit {done.commit[:12]})")


# The commands that only write files report in text (no --format): what they created.
INITIALISED: Renderers[tuple[writing.InitRequest, Scaffolded]] = Renderers("scaffold")


@INITIALISED.register(OutputFormat.text)
def _initialised_text(done: tuple[writing.InitRequest, Scaffolded]) -> None:
    request, scaffolded = done
    for path in scaffolded.written:
        log(f"created {display_path(path)}")
    for note in scaffolded.notes:
        log(f"note: {note}")
    emit_text(f"initialised governed repository in {display_path(request.directory)} "
              f"({len(scaffolded.written)} files)")
    emit_text(f"ledger origin: {scaffolded.origin}")


MODEL_CREATED: Renderers[writing.NewModel] = Renderers("model")


def _created_line(path: Path) -> None:
    emit_text(f"created {display_path(path)}")  # as soon as it exists (writing.new_model)


@MODEL_CREATED.register(OutputFormat.text)
def _model_created_text(created: writing.NewModel) -> None:
    if created.codeowners is not None and created.codeowners != "unchanged":
        log(f".github/CODEOWNERS: {created.codeowners} (commit it with the model)")


RELEASE_CREATED: Renderers[Path] = Renderers("release")
SCHEMAS_WRITTEN: Renderers[list[Path]] = Renderers("schemas")


def _wrote_line(path: Path) -> None:
    emit_text(f"wrote {display_path(path)}")  # as each file is written (writing.export_schemas)


@SCHEMAS_WRITTEN.register(OutputFormat.text)
def _schemas_written_text(written: list[Path]) -> None:
    """Each file was named as it was written (``_wrote_line``); nothing is left to say."""

VALIDATED_FORMAT, DIGESTED_FORMAT = VALIDATED.option(), DIGESTED.option()
REGISTERED_FORMAT = REGISTERED.option()

model_app = new_app("Register models (releases/<model>/model.yaml).")
release_app = new_app("Create governed releases.")
schema_app = new_app("JSON Schemas of the governed documents.")


def init(
    directory: Path = typer.Argument(Path("."), help="Directory to scaffold (created if needed)."),
    origin: str = typer.Option(
        None, "--origin",
        help="Checkpoint origin line of the ledger (default: from the git remote 'origin', "
             "else github.com/ORGANIZATION/DIRECTORY).",
    ),
    organization: str = typer.Option(
        None, "--organization", help="GitHub organisation (default: the git remote's owner)."
    ),
    login: str = typer.Option(
        None, "--login",
        help="Your GitHub login: the id of the first person and rotator (default: from "
             "git's user.email).",
    ),
    new_repository: bool = typer.Option(
        False, "--new-repository",
        help="DIR is inside another git repository: start a new repository in DIR.",
    ),
    subdirectory: bool = typer.Option(
        False, "--subdirectory",
        help="DIR is inside another git repository: govern it as a subdirectory (monorepo).",
    ),
    workflows_from: str = typer.Option(
        None, "--workflows-from",
        help="OWNER/REPO@COMMIT of model-governance: write callers of its workflows pinned "
             "by that commit instead of copies.",
    ),
    artifact: list[Path] = typer.Option(
        [], "--artifact",
        help="Wheel or sdist of this model-governance release whose sha256 the workflows' "
             "requirements pin (repeatable).",
    ),
) -> None:
    """Scaffold a governed repository where `governance validate` and `governance ledger
    init` work at once."""
    from governance.scaffolding import InitOptions

    request = writing.InitRequest(directory, InitOptions(
        origin=origin, organization=organization, login=login,
        new_repository=new_repository, subdirectory=subdirectory, artifacts=tuple(artifact),
        workflows_from=workflows_from))
    INITIALISED.render(OutputFormat.text, (request, writing.init(request)))


def validate(
    paths: list[Path] = typer.Argument(
        None, help="Repositories, directories or files (default: the current repository)."
    ),
    fmt: OutputFormat = VALIDATED_FORMAT,
    max_file_size: int = typer.Option(
        None, "--max-file-size", min=1,
        help="Largest accepted document in bytes (default: limits.max_file_bytes or 1 MiB).",
    ),
    jobs: int = typer.Option(
        None, "--jobs", "-j", min=1, help="Worker processes for large trees (default: CPUs)."
    ),
    repo: Path = REPO,
) -> None:
    """Check schemas, cross-references and evidence digests; report every problem."""
    request = writing.ValidateRequest(tuple(paths or ()), max_file_size, jobs)
    report = writing.validate(Service(repo), request)
    VALIDATED.render(fmt, report)
    if not report.ok:
        raise typer.Exit(1)


def digest(
    release: str = typer.Argument(..., help="Release id or release directory."),
    fmt: OutputFormat = DIGESTED_FORMAT,
    repo: Path = REPO,
) -> None:
    """Print the canonical release digest (see governance/digest.py for the definition)."""
    DIGESTED.render(fmt, writing.digest(Service(repo), writing.DigestRequest(release)))


@model_app.command("new")
def model_new(
    name: str = typer.Argument(..., help="Model name (a slug)."),
    owner: str = typer.Option(..., "--owner", help="Owning person or team id."),
    risk_tier: str = typer.Option("medium", "--risk-tier", help="low, medium or high."),
    title: str = typer.Option(None, "--title", help="Display title (any text)."),
    system_type: str = typer.Option(
        None, "--system-type", help="classifier, regressor, ranker, llm or other."
    ),
    repo: Path = REPO,
) -> None:
    """Register a model: writes releases/NAME/model.yaml."""
    request = writing.ModelRequest(name, owner, risk_tier, title, system_type)
    MODEL_CREATED.render(OutputFormat.text,
                         writing.new_model(Service(repo), request, _created_line))


@release_app.command("new")
def release_new(
    model: str = typer.Option(..., "--model", help="Registered model name."),
    version: str = typer.Option(..., "--version", help="Model version, e.g. 2026-04-10."),
    release_id: str = typer.Option(
        None, "--release-id", help="Release id (default MODEL-VERSION-01)."
    ),
    from_eval: Path = typer.Option(
        None, "--from-eval", help="Evaluation JSON {metrics, subgroups, test_conditions}."
    ),
    eval_uri: str = typer.Option(
        None, "--eval-uri", help="Where the evaluation report is published (default: local copy)."
    ),
    artifact: str = typer.Option(None, "--artifact", help="Model artifact URI."),
    sha256: str = typer.Option(None, "--sha256", help="sha256 of the artifact."),
    dataset: str = typer.Option(None, "--dataset", help="Training dataset snapshot URI."),
    dataset_sha256: str = typer.Option(
        None, "--dataset-sha256", help="sha256 of the dataset snapshot manifest."
    ),
    feature_schema: str = typer.Option(
        None, "--feature-schema", help="Feature schema version."
    ),
    config_version: str = typer.Option(
        None, "--config-version", help="Threshold/routing config version."
    ),
    prompt_version: str = typer.Option(None, "--prompt-version", help="Prompt version (LLM)."),
    policy_version: str = typer.Option(
        None, "--policy-version", help="Safety/policy version (LLM)."
    ),
    trained_by: str = typer.Option(None, "--trained-by", help="Who trained the model."),
    baseline: str = typer.Option(
        None, "--baseline", help="Release to compare against (default: the latest)."
    ),
    rollback_to: str = typer.Option(
        None, "--rollback-to", help="Rollback target release (default: the latest)."
    ),
    first_release_reason: str = typer.Option(
        None, "--first-release-reason",
        help="For a first release: why rolling back may switch the model off.",
    ),
    title: str = typer.Option(None, "--title", help="Display title."),
    git_commit: str = typer.Option(
        None, "--git-commit", help="Training code commit (default: HEAD of this repository)."
    ),
    repo: Path = REPO,
) -> None:
    """Create a release directory (record + model card) with digests computed."""
    request = authoring.ReleaseRequest(
        model=model, version=version, release_id=release_id, from_eval=from_eval,
        eval_uri=eval_uri, artifact=artifact, artifact_sha256=sha256, dataset=dataset,
        dataset_sha256=dataset_sha256, feature_schema_version=feature_schema,
        config_version=config_version, prompt_version=prompt_version,
        policy_version=policy_version, trained_by=trained_by, baseline=baseline,
        rollback_to=rollback_to, first_release_reason=first_release_reason, title=title,
        git_commit=git_commit,
    )
    RELEASE_CREATED.render(OutputFormat.text, writing.new_release(Service(repo), request))


@RELEASE_CREATED.register(OutputFormat.text)
def _release_created_text(directory: Path) -> None:
    emit_text(f"created {display_path(directory)}")
    log("next: replace the model card's 'TODO: ...' placeholders, commit, and open the release "
        "pull request; when it merges, CI registers the release on the ledger "
        "(`governance release register`)")


@release_app.command("register")
def release_register(
    release: str = typer.Argument(..., metavar="RELEASE", help="Release id or directory."),
    amend: bool = typer.Option(
        False, "--amend",
        help="Record changed content of a release registered before (only while nothing "
             "acted on it: no approval, gate decision, promotion); needs --reason."),
    reason: str = typer.Option(None, "--reason", help="Why the content changed (--amend)."),
    pr: int = typer.Option(None, "--pr", min=1,
                           help="The merged pull request (recorded in the event's source)."),
    fmt: OutputFormat = REGISTERED_FORMAT,
    repo: Path = REPO,
) -> None:
    """Register a release on the ledger (release_registered with the digest the tool
    computes), as committed on the protected branch. Run by CI when the release's pull request
    merges; idempotent (exit 0 when already registered with the same digest)."""
    if amend and reason is None:
        raise UsageError("--amend needs --reason TEXT", hint="say why the content changed")
    if reason is not None and not amend:
        raise UsageError("--reason goes with --amend")
    source = ci_context.current().source()
    if pr is not None:
        source["pr"] = pr
    request = writing.RegisterRequest(release, reason if amend else None, source or None)
    REGISTERED.render(fmt, writing.register(Service(repo), request))


@schema_app.command("export")
def schema_export(
    directory: Path = typer.Argument(..., help="Where to write the *.schema.json files."),
) -> None:
    """Write the JSON Schemas (governed documents and the --from-eval evaluation file) so
    editors and pipelines can validate and autocomplete."""
    written = writing.export_schemas(writing.SchemaExportRequest(directory), _wrote_line)
    SCHEMAS_WRITTEN.render(OutputFormat.text, written)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the application."""
    app.command("init")(init)
    app.command("validate")(validate)
    app.command("digest")(digest)
    app.add_typer(model_app, name="model")
    app.add_typer(release_app, name="release")
    app.add_typer(schema_app, name="schema")
