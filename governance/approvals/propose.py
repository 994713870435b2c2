"""``release propose``: push a release branch and open (or update) its pull request.

Owns the proposal text built from the release's evidence (model card summary, metrics and
subgroup metrics against the baseline release, gate results when given, the required roles per
environment and who can fill them) and the idempotent publication: re-running updates the same
pull request and its one summary comment (found by a hidden marker) instead of adding new ones.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.approvals.github import ApiFailure, GitHubSource
from governance.domain.card import ModelCard
from governance.errors import Denied, GovernanceError, Undecided
from governance.repo import GovernedRepo, LoadedRelease

MARKER = "<!-- governance:release-summary -->"
_REMOTE = re.compile(r"^[A-Za-z0-9._-]+\Z")


@dataclass(frozen=True)
class Proposal:
    branch: str
    base: str
    title: str
    body: str
    comment: str


@dataclass(frozen=True)
class Proposed:
    number: int
    branch: str
    comment_id: int

    def to_json(self) -> dict[str, Any]:
        return {"pull_request": self.number, "branch": self.branch, "comment_id": self.comment_id}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _metric_rows(card: ModelCard, baseline: ModelCard | None) -> list[str]:
    rows = ["| metric | this release | baseline | change |", "|---|---:|---:|---:|"]
    for name in sorted(card.metrics):
        now = card.metrics[name]
        before = baseline.metrics.get(name) if baseline else None
        delta = "" if before is None else f"{now - before:+.4g}"
        rows.append(f"| {name} | {_fmt(now)} | {_fmt(before)} | {delta} |")
    return rows


def _subgroup_rows(card: ModelCard, baseline: ModelCard | None) -> list[str]:
    if not card.subgroups:
        return ["No subgroup metrics in the model card."]
    rows = ["| subgroup | metric | this release | baseline | change |", "|---|---|---:|---:|---:|"]
    for group in sorted(card.subgroups):
        for name in sorted(card.subgroups[group]):
            now = card.subgroups[group][name]
            before = (baseline.subgroups.get(group) or {}).get(name) if baseline else None
            delta = "" if before is None else f"{now - before:+.4g}"
            rows.append(f"| {group} | {name} | {_fmt(now)} | {_fmt(before)} | {delta} |")
    return rows


def _baseline(repo: GovernedRepo, loaded: LoadedRelease) -> LoadedRelease | None:
    release = loaded.release
    ref = release.baseline or (
        release.rollback_target.release_id if release.rollback_target else None
    )
    if not ref:
        return None
    try:
        return repo.load_release(ref)
    except GovernanceError:
        return None


def _roles_section(repo: GovernedRepo, loaded: LoadedRelease) -> list[str]:
    config = repo.config
    tier = loaded.model.risk_tier if loaded.model else "high"  # unknown tier: the strictest count
    count = config.approvals_needed(tier)
    lines = [
        f"Risk tier **{tier}**: {count} approval(s) per required role, each by a different "
        "person who is not the PR author, the trainer or a committer."
    ]
    for env in config.environments.values():
        lines.append(f"- **{env.name}**:")
        for role_name in env.required_approvals:
            role = config.roles.get(role_name)
            who = [f"@{m}" for m in role.members] + [f"@{t}" for t in role.teams] if role else []
            lines.append(f"  - `{role_name}` x{count}: {', '.join(who) or 'nobody (undefined)'}")
    return lines


def _gates_section(gates: Mapping[str, Any] | None) -> list[str]:
    if not gates:
        return ["Not evaluated here: run `governance check RELEASE --env ENV` (CI posts it)."]
    results = gates.get("gates") or gates.get("results") or []
    lines = [f"Decision: **{gates.get('decision', gates.get('outcome', 'unknown'))}**"]
    for item in results if isinstance(results, list) else []:
        if isinstance(item, Mapping):
            status = "pass" if item.get("allowed", item.get("passed")) else "DENY"
            lines.append(
                f"- {item.get('id', item.get('gate_id', '?'))}: {status}"
                + (f": {item['message']}" if item.get("message") else "")
            )
    return lines


def build_proposal(
    repo: GovernedRepo, release_ref: str, gates: Mapping[str, Any] | None = None
) -> Proposal:
    loaded = repo.load_release(release_ref)
    release, card = loaded.release, loaded.card
    base = _baseline(repo, loaded)
    title = f"Release {release.model_name} {release.model_version} ({release.release_id})"
    body = "\n".join(
        [
            f"## {title}",
            "",
            f"- digest: `{loaded.digest}`",
            f"- trained by: {release.trained_by or 'not recorded'}",
            f"- artifact: {release.artifact.uri if release.artifact else 'missing'}",
            f"- baseline: {base.release.release_id if base else 'none'}",
            "",
            "### Model card",
            card.purpose or "(no purpose stated)",
            "",
            "Intended use: " + (", ".join(card.intended_use) or "not stated"),
            "Not for use: " + (", ".join(card.not_for_use) or "not stated"),
            "Known limitations: " + ("; ".join(card.known_limitations) or "none stated"),
            "",
            "### Metrics against the baseline",
            *_metric_rows(card, base.card if base else None),
            "",
            "### Subgroup metrics",
            *_subgroup_rows(card, base.card if base else None),
            "",
            "_Generated by `governance release propose`; re-running updates this text._",
        ]
    )
    comment = "\n".join(
        [
            MARKER,
            f"### Governance summary for {release.release_id}",
            "",
            "#### Gate results",
            *_gates_section(gates),
            "",
            "#### Required approvals (GitHub reviews on the head commit)",
            *_roles_section(repo, loaded),
        ]
    )
    branch = f"release/{release.model_name}/{release.release_id}"
    return Proposal(branch, repo.config.protected_branch, title, body, comment)


def require_committed(root: Path, directory: Path) -> None:
    """The pushed commit must hold the release exactly as it is on disk."""
    out = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if out.returncode != 0:
        raise Undecided(f"git status failed: {out.stderr.strip()}")
    if out.stdout.strip():
        changed = ", ".join(line[3:] for line in out.stdout.splitlines()[:5])
        raise Denied(
            f"{directory.name} has uncommitted changes ({changed}); the pull request would not "
            "contain them",
            hint="commit the release directory, then run `governance release propose` again",
        )


def push_branch(root: Path, remote: str, branch: str) -> None:
    if not _REMOTE.fullmatch(remote):
        raise Undecided(f"remote {remote!r} is not a plain remote name")
    out = subprocess.run(
        ["git", "-C", str(root), "push", "--porcelain", remote, f"HEAD:refs/heads/{branch}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if out.returncode != 0:
        raise Undecided(
            f"git push to {remote} {branch} failed: {out.stderr.strip() or out.stdout.strip()}",
            hint="pull the branch and retry; nothing was opened on GitHub",
        )


def propose(
    root: Path,
    release_ref: str,
    source: GitHubSource,
    *,
    remote: str = "origin",
    gates: Mapping[str, Any] | None = None,
) -> Proposed:
    """Push, then open or update the PR and its single summary comment."""
    repo = GovernedRepo(root)
    proposal = build_proposal(repo, release_ref, gates)
    require_committed(root, repo.resolve_release(release_ref))
    push_branch(root, remote, proposal.branch)
    try:
        number = source.open_or_update_pull(
            proposal.branch, proposal.base, proposal.title, proposal.body
        )
        comment_id = source.upsert_comment(number, MARKER, proposal.comment)
    except ApiFailure as err:  # the branch is pushed; say so
        raise Undecided(f"{err}", hint=f"branch {proposal.branch} was pushed; re-run") from None
    return Proposed(number, proposal.branch, comment_id)
