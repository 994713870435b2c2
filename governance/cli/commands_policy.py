"""Commands over the release gates: ``check`` and the ``policy test|lint`` group.

``check`` parses its options into a ``governance.checking.CheckRequest``, calls the check use
case with the composition root and renders the decisions through the ``CHECKED`` registry (one
renderer per format CI reads); a check stopped before any decision still writes a machine
document with the located error (``_render_stopped``) before the error funnel reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import typer

from governance import checking, upkeep
from governance.cli.app_support import new_app
from governance.cli.options import REPO, env_option
from governance.cli.output import OutputFormat, emit_block, emit_document, emit_json, emit_text, log
from governance.cli.render import Renderers
from governance.errors import EXIT_NO, EXIT_PASS, EXIT_UNDECIDED, GovernanceError, UsageError
from governance.policy.bundle import POLICY_DIR
from governance.policy.engines.port import ENGINE_NAMES
from governance.service import Service


class ApprovalSource(StrEnum):
    github = "github"
    git = "git"
    none = "none"


# check: the gate report in each format CI reads (governance.policy.report renders it; imported
# when a check has run, so the engine and the report load on demand)
CHECKED: Renderers[checking.CheckResult] = Renderers("gate report")


@CHECKED.register(OutputFormat.text)
def _checked_text(result: checking.CheckResult) -> None:
    from governance.policy.report import render_text, render_totals

    emit_block(render_text(result.outcome.decisions, result.outcome.gates))
    if result.totals:
        emit_text(render_totals(result.outcome.decisions))


def _document(name: str) -> Callable[[checking.CheckResult], None]:
    def render(result: checking.CheckResult) -> None:
        from governance.policy import report

        emit_document(getattr(report, name)(result.outcome.decisions, result.outcome.gates))
    return render


for _fmt in (OutputFormat.json, OutputFormat.github, OutputFormat.junit, OutputFormat.markdown,
             OutputFormat.sarif):
    CHECKED.register(_fmt)(_document(f"render_{_fmt.value}"))

GATE_FORMAT = CHECKED.option()
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
    request = checking.CheckRequest(tuple(releases or ()), all_releases, env, approvals.value, pr,
                                    engine, policy_dir, fail_on_warn, decision_out, record)
    service = Service(repo_dir)
    try:
        result = checking.check(service, request, progress=log)
    except GovernanceError as err:
        _render_stopped(err, output, env, request.releases)
        raise
    CHECKED.render(output, result)
    if request.record:
        written = checking.record(service, result)
        log(f"recorded {written} approval(s) from pull request #{pr} on the ledger")
    for d in result.outcome.decisions:
        if d.undecided:
            log(f"could not decide {d.release_id}: {d.undecided}")
    raise typer.Exit(result.exit_code)


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


policy_app = new_app("Test and lint the Rego policies that decide the gates.")


# policy test: the engine's name and the summary of the test results
TESTED: Renderers[upkeep.PolicyTested] = Renderers("policy tests")


@TESTED.register(OutputFormat.json)
def _tested_json(tested: upkeep.PolicyTested) -> None:
    engine, summary = tested.engine, tested.summary
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
def _tested_text(tested: upkeep.PolicyTested) -> None:
    engine, summary = tested.engine, tested.summary
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


# policy lint: the bundle and its findings
LINTED: Renderers[upkeep.PolicyLinted] = Renderers("policy lint")


@LINTED.register(OutputFormat.json)
def _linted_json(linted: upkeep.PolicyLinted) -> None:
    findings = linted.findings
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
def _linted_text(linted: upkeep.PolicyLinted) -> None:
    bundle, findings = linted.bundle, linted.findings
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
    tested = upkeep.run_policy_tests(upkeep.PolicyTestRequest(policy_dir, engine))
    TESTED.render(output, tested)
    summary = tested.summary
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
    linted = upkeep.lint_policies(upkeep.PolicyLintRequest(policy_dir))
    LINTED.render(output, linted)
    raise typer.Exit(EXIT_NO if linted.findings else EXIT_PASS)


def register(app: typer.Typer) -> None:
    """Attach ``check`` and ``policy`` to the application."""
    app.command("check")(check)
    app.add_typer(policy_app, name="policy")



