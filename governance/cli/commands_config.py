"""``governance config record``: record a merged governance configuration change.

Thin: list the governance paths the push changed, re-verify the merged pull request's approvals
(``governance.approvals.evaluate.review_config_change``), compare the pushed content with the
PR head, let ``governance.config_change`` pick the event, append it, render. Exit 0 when
``config_changed`` was recorded (or nothing changed), 1 when a ``policy_violation`` was, 3 when
the approvals could not be decided (nothing recorded; re-run).
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

from governance.cli.app_support import new_app
from governance.cli.commands_env import ci_source
from governance.cli.output import TextOrJson, emit_json, emit_text, log
from governance.config_change import decide_config_change, governance_paths
from governance.errors import UsageError
from governance.repo import GovernedRepo

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?\Z")

config_app = new_app("Governance configuration changes merged to the protected branch.")


@config_app.command("record")
def record_cmd(
    before: str = typer.Option(..., "--before", help="The commit before the push."),
    after: str = typer.Option(None, "--after", help="The pushed commit (default: HEAD)."),
    pr: int = typer.Option(None, "--pr", min=1,
                           help="The pull request merged as this push (none: a direct push)."),
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", help="text or json."),
) -> None:
    """Record config_changed with the pull request's approvals, or policy_violation."""
    from governance.approvals.evaluate import review_config_change
    from governance.approvals.gitfiles import changed_between, object_at
    from governance.ledger import append_event
    from governance.vcs import head_commit

    for option, value in (("--before", before), ("--after", after)):
        if value is not None and not _SHA.fullmatch(value):
            raise UsageError(f"{option} {value!r} is not a full commit sha",
                             hint="40 (or 64) lowercase hex characters, e.g. github.event.before")
    repo = GovernedRepo.open(Path("."))
    after = after or head_commit(repo.root) or ""
    paths = governance_paths(changed_between(repo.root, before, after))
    review = review_config_change(repo.root, pr, paths) if (paths and pr is not None) else None
    differs = [p for p in paths
               if review is not None
               and object_at(repo.root, after, p) != object_at(repo.root, review.head_sha, p)]
    decision = decide_config_change(paths, review, differs,
                                    {**ci_source(), "merge_sha": after, "before_sha": before})
    entry = append_event(repo.root, decision.event) if decision.event else None
    if fmt is TextOrJson.json:
        emit_json({"paths": list(paths), "event_type": decision.event_type,
                   "seq": entry.seq if entry else None,
                   "reason": decision.event.get("reason") if decision.event else None})
    elif entry is None:
        emit_text("no governance configuration changed")
    else:
        emit_text(f"recorded {entry.event_type} (seq {entry.seq}): {entry.event.get('reason')}")
    if entry is not None and not decision.approved:
        log(f"error: {entry.event.get('reason')}")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
