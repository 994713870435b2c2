"""The gate request a check evaluates: time, approval source, and a pull request's facts.

Shared by the check use case (``governance.policy.check``) and the promotion core's gates port
(``governance.policy.port``): ``approvals_for`` checks the approval source option,
``github_request`` adds a pull request's reviews as gate facts (``governance.approvals.
pull_request``; the gates decide), bound to the release digests at its head commit
(``digests_at_head``, read from git objects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from governance import ci_context
from governance.errors import UsageError
from governance.policy.input import APPROVAL_SOURCES, ApprovalFact, GateRequest, parse_time
from governance.repo import GovernedRepo
from governance.timeparse import utc_now


def default_now() -> datetime:
    """Now, or ``GOVERNANCE_NOW`` (RFC 3339) for reproducible runs and tests."""
    fixed = ci_context.current().now
    return parse_time(fixed) if fixed else utc_now()


def approvals_for(approvals: str, pr: int | None
                  ) -> tuple[tuple[ApprovalFact, ...], tuple[str, ...]]:
    """Check the approval source option (``git`` is read from the ledger by the input builder,
    ``github`` per pull request in ``run_check``)."""
    if approvals not in APPROVAL_SOURCES:
        raise UsageError(
            f"--approvals {approvals!r} is not a source",
            hint=f"choose one of {', '.join(APPROVAL_SOURCES)}",
        )
    if approvals == "github" and pr is None:
        raise UsageError("--approvals github needs --pr N (the pull request to read)")
    return (), ()


def github_request(
    repo: GovernedRepo, pr: int, environment: str | None, dirs: Sequence[Path],
    request: GateRequest,
) -> GateRequest:
    """The reviews of pull request ``--pr`` as gate facts, for the release(s) checked (its
    model's risk tier); the required-approvals gate decides."""
    from governance.approvals import pull_request

    first = repo.load_release(dirs[0]) if dirs else None
    environment = environment or next(iter(repo.config.environments), "")
    risk_tier = first.model.risk_tier if first is not None and first.model else "high"
    trainers = sorted(
        {r.trained_by for r in (repo.load_release(d).release for d in dirs) if r.trained_by}
    )
    got = pull_request.fetch(
        repo.root, pr, environment=environment, risk_tier=risk_tier, trainers=trainers
    )
    return replace(
        request,
        approvals=got.approvals,
        excluded_actors=got.excluded_actors,
        codeowners=got.codeowners,
        head_sha=got.head_sha,
        head_digests=digests_at_head(repo, dirs, got.head_sha),
    )


def digests_at_head(
    repo: GovernedRepo, dirs: Sequence[Path], head_sha: str | None
) -> tuple[tuple[str, str | None], ...]:
    """release_id -> digest of its directory at the pull request's head commit (from git
    objects). Outside a git checkout there is nothing to compare: the content is the head's."""
    if head_sha is None or not (repo.root / ".git").exists():
        return ()
    return tuple((repo.load_release(d).release.release_id, digest_at_commit(repo, d, head_sha))
                 for d in dirs)


def digest_at_commit(repo: GovernedRepo, directory: Path, commit: str) -> str | None:
    """The release digest of ``directory`` as committed at ``commit`` (from git objects);
    None when the directory does not exist there."""
    from governance.approvals.gitfiles import release_digest_at

    rel = directory.resolve().relative_to(repo.root.resolve()).as_posix()
    return release_digest_at(repo.root, commit, rel)
