"""Commands over the release gates: ``check`` and the ``policy test|lint`` group."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from governance.cli.app_support import new_app
from governance.cli.options import REPO, env_option, format_option
from governance.cli.output import OutputFormat, emit_block, emit_document, emit_json, emit_text, log
from governance.cli.render import Renderers
from governance.errors import EXIT_NO, EXIT_PASS, EXIT_UNDECIDED, GovernanceError, UsageError
from governance.policy.bundle import POLICY_DIR, PolicyBundle, load_bundle
from governance.policy.engines.port import ENGINE_NAMES
from governance.policy.engines.select import select_engine
from governance.policy.lint import LintFinding, lint_bundle
from governance.policy.testing import TestSummary, summarise
from governance.service import Service


class ApprovalSource(StrEnum):
    github = "github"
    git = "git"
    none = "none"


GATE_FORMAT = format_option(OutputFormat.text, OutputFormat.json, OutputFormat.github,
                            OutputFormat.junit, OutputFormat.markdown, OutputFormat.sarif)
_ENGINE_HELP = f"Policy engine: {', '.join(ENGINE_NAMES)} (default: OPA server, opa, regopy)."


def check(
    releases: list[str] = typer.Argument(None, help="Release directories or release ids."),
    env: str = env_option("Evaluate every promotion gate for ENV."),
    pr: int = typer.Option(None, "--pr", help="Pull request whose reviews are approvals."),
    approvals: ApprovalSource = typer.Option(
        ApprovalSource.git, "--approvals", help="Approval source (none: approval gates deny)."
    ),
    engine: str = typer.Option(None, "--engine", help=_ENGINE_HELP),
    output: OutputFormat = GATE_FORMAT,
    fail_on_warn: bool = typer.Option(False, "--fail-on-warn", help="Exit 1 on warnings."),
    decision_out: Path = typer.Option(
        None, "--decision-out", help="Write the decision record(s) (JSON) to FILE."
    ),
    all_releases: bool = typer.Option(False, "--all", help="Check every release."),
    policy_dir: Path = typer.Option(None, "--policies", help="Policy directory (policies/)."),
    repo_dir: Path = REPO,
    record: bool = typer.Option(
        False, "--record",
        help="With --pr: record each counted review on the ledger as approval evidence "
             "(signed by the CI identity)."),
) -> None:
    """Evaluate the release gates (exit 0 pass, 1 denied, 3 could not decide)."""
    if record and (pr is None or approvals is not ApprovalSource.github):
        raise UsageError("--record goes with --pr N --approvals github")
    from governance.policy.check import CheckOptions, run_check  # the engine loads on demand

    try:
        service = Service(repo_dir)
        repo = service.repo
        outcome = run_check(
            repo,
            CheckOptions(
                refs=tuple(releases or ()),
                all_releases=all_releases,
                environment=env,
                approvals=approvals.value,
                pr=pr,
                engine=engine,
                policy_dir=policy_dir,
                fail_on_warn=fail_on_warn,
            ),
            progress=log,
        )
    except GovernanceError as err:
        _render_stopped(err, output, env, tuple(releases or ()))
        raise
    if decision_out is not None:
        _write_decisions(decision_out, outcome.decisions)
    _render_outcome(outcome, output, totals=all_releases or len(outcome.decisions) > 1)
    code = outcome.exit_code(fail_on_warn)
    if record and pr is not None:
        _record(service, outcome.decisions, pr)
    for d in outcome.decisions:
        if d.undecided:
            log(f"could not decide {d.release_id}: {d.undecided}")
    raise typer.Exit(code)


def _render_stopped(err: GovernanceError, output: OutputFormat, env: str | None,
                    releases: tuple[str, ...]) -> None:
    """Machine formats still get a document CI can read, with the located error in it; the
    funnel then prints the diagnostics on stderr and exits with the error's code."""
    from governance.policy.report import STOPPED_RENDERERS

    if output is OutputFormat.sarif:
        # code scanning uploads whatever the step wrote: a SARIF log that says what stopped
        # the check (an invalid release's problems, located), never an empty file
        from governance.policy.sarif import render_sarif_failure

        emit_document(render_sarif_failure(err, env))
    stopped = STOPPED_RENDERERS.get(output.value)
    if stopped is not None:
        emit_document(stopped(err, releases))


def _write_decisions(path: Path, decisions: Any) -> None:
    records = [d.record for d in decisions]
    path.write_text(json.dumps(records[0] if len(records) == 1 else records, indent=2,
                               sort_keys=True) + "\n", encoding="utf-8")


def _render_outcome(outcome: Any, output: OutputFormat, *, totals: bool) -> None:
    """Through the gate report's registry (governance.policy.report.RENDERERS: format ->
    renderer); text adds the totals when more than one release was checked."""
    from governance.policy.report import RENDERERS, render_totals

    rendered = RENDERERS[output.value](outcome.decisions, outcome.gates)
    if output is OutputFormat.text:
        emit_block(rendered)
        if totals:
            emit_text(render_totals(outcome.decisions))
    else:
        emit_document(rendered)


def _record(service: Service, decisions: Any, pr: int) -> None:
    from governance.policy.record import approval_events, record_approvals

    written = record_approvals(approval_events(decisions, pr), service.entries(),
                               service.append)
    log(f"recorded {len(written)} approval(s) from pull request #{pr} on the ledger")


policy_app = new_app("Test and lint the Rego policies that decide the gates.")


# policy test: (engine name, summary of the test results)
TESTED: Renderers[tuple[str, TestSummary]] = Renderers("policy tests")


@TESTED.register(OutputFormat.json)
def _tested_json(tested: tuple[str, TestSummary]) -> None:
    engine, summary = tested
    emit_json(
        {
            "engine": engine,
            "passed": summary.passed,
            "failed": summary.failed,
            "errors": summary.errors,
            "results": [
                {
                    "package": r.package,
                    "name": r.name,
                    "file": r.location.file,
                    "line": r.location.line,
                    "outcome": r.outcome,
                    "message": r.message,
                    "output": list(r.prints),
                    "duration_ms": round(r.duration_ms, 3),
                }
                for r in summary.results
            ],
        }
    )


@TESTED.register(OutputFormat.text)
def _tested_text(tested: tuple[str, TestSummary]) -> None:
    engine, summary = tested
    for r in summary.results:
        if r.outcome != "pass":
            emit_text(f"{r.location.render()}: {r.outcome.upper()} {r.package}.{r.name}")
            if r.message:
                emit_text(f"    {r.message}")
            for line in r.prints:
                emit_text(f"    print: {line}")
    emit_text(
        f"{summary.passed} passed, {summary.failed} failed, {summary.errors} errors "
        f"({len(summary.results)} tests, engine {engine})"
    )


# policy lint: (the bundle, its findings)
LINTED: Renderers[tuple[PolicyBundle, list[LintFinding]]] = Renderers("policy lint")


@LINTED.register(OutputFormat.json)
def _linted_json(linted: tuple[PolicyBundle, list[LintFinding]]) -> None:
    _bundle, findings = linted
    emit_json(
        {
            "ok": not findings,
            "findings": [
                {"file": f.file, "line": f.line, "col": f.col, "rule": f.rule,
                 "message": f.message}
                for f in findings
            ],
        }
    )


@LINTED.register(OutputFormat.text)
def _linted_text(linted: tuple[PolicyBundle, list[LintFinding]]) -> None:
    bundle, findings = linted
    for f in findings:
        emit_text(f.render())
    emit_text(f"{len(findings)} finding(s) in {len(bundle.files)} file(s)")


TESTED_FORMAT, LINTED_FORMAT = TESTED.option(), LINTED.option()


@policy_app.command("test")
def policy_test(
    policy_dir: Path = typer.Argument(Path(POLICY_DIR), help="Policy directory."),
    engine: str = typer.Option(None, "--engine", help=_ENGINE_HELP),
    output: OutputFormat = TESTED_FORMAT,
) -> None:
    """Run every test_* rule in *_test.rego through the engine."""
    bundle = load_bundle(policy_dir, display_prefix=policy_dir.as_posix().rstrip("/"))
    eng = select_engine(engine)
    try:
        summary = summarise(eng.run_tests(bundle))
    finally:
        eng.close()
    TESTED.render(output, (eng.name, summary))
    if not summary.results:
        log("no test_* rules found")
        raise typer.Exit(EXIT_NO)
    if summary.errors:
        raise typer.Exit(EXIT_UNDECIDED if summary.failed == 0 else EXIT_NO)
    raise typer.Exit(EXIT_PASS if summary.ok else EXIT_NO)


@policy_app.command("lint")
def policy_lint(
    policy_dir: Path = typer.Argument(Path(POLICY_DIR), help="Policy directory."),
    output: OutputFormat = LINTED_FORMAT,
) -> None:
    """Reject Rego v0, %q, semver.*, `with input as`, and gates without METADATA."""
    bundle = load_bundle(policy_dir, display_prefix=policy_dir.as_posix().rstrip("/"))
    findings = lint_bundle(bundle)
    LINTED.render(output, (bundle, findings))
    raise typer.Exit(EXIT_NO if findings else EXIT_PASS)


def register(app: typer.Typer) -> None:
    """Attach ``check`` and ``policy`` to the application."""
    app.command("check")(check)
    app.add_typer(policy_app, name="policy")



