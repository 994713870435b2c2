"""GitHub source for approvals: the ONLY module that imports PyGithub (``github``).

Owns talking to the GitHub REST API and turning its answers into the plain facts the approval
rules take (``governance.approvals.facts``): the pull request (head and base sha, author,
draft, fork, base branch), every page of its reviews and commits, each reviewer's collaborator
permission, team memberships and the CODEOWNERS errors GitHub reports. Any API failure (HTTP
error, rate limit, timeout, connection error) becomes a ``fetch_errors`` entry, which makes the
decision ``undecided`` (exit 3): never a pass.

Configuration comes from the environment, as in GitHub Actions: ``GITHUB_TOKEN`` (never logged,
never part of a message or ``repr``), ``GITHUB_API_URL`` for GitHub Enterprise Server
(default https://api.github.com), ``GITHUB_REPOSITORY`` (owner/name). Timeouts and retries are
bounded: a 5xx on a GET is retried ``retries`` times with a short backoff; a rate limit is not
waited out (PyGithub's default retry would sleep until the reset), it fails the decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from governance import ci_context
from governance.approvals.facts import Commit, PullRequest, Review
from governance.errors import ConfigurationError

if TYPE_CHECKING:
    from github import GithubException


def _github() -> ModuleType:
    """PyGithub, imported when a command first talks to GitHub: with requests it costs the
    CLI ~90 ms of start-up that every other command would pay for nothing."""
    import github

    return github


def _gh_error() -> type[GithubException]:
    error: type[GithubException] = _github().GithubException
    return error


# PyGithub's own throttling defaults (github.Consts; a unit test keeps them equal)
SECONDS_BETWEEN_REQUESTS = 0.25
SECONDS_BETWEEN_WRITES = 1.0
DEFAULT_API_URL = "https://api.github.com"
T = TypeVar("T")


@dataclass(frozen=True)
class GitHubSettings:
    repository: str  # owner/name
    api_url: str = DEFAULT_API_URL
    timeout: int = 15  # seconds per request
    retries: int = 2  # extra attempts for a 5xx or a connection failure on GET
    seconds_between_requests: float | None = SECONDS_BETWEEN_REQUESTS
    seconds_between_writes: float | None = SECONDS_BETWEEN_WRITES

    @classmethod
    def from_env(
        cls, repository: str | None = None, env: Mapping[str, str] | None = None, **kw: Any
    ) -> GitHubSettings:
        env = ci_context.current().environ if env is None else env
        repo = repository or env.get("GITHUB_REPOSITORY", "")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise ConfigurationError(
                f"GitHub repository {repo!r} is not owner/name",
                hint="set GITHUB_REPOSITORY or pass the repository explicitly",
            )
        tuning: dict[str, Any] = {}
        for name, key, kind in _TUNING:
            raw = env.get(name)
            if raw:
                try:
                    value = kind(raw)
                except ValueError:
                    raise ConfigurationError(f"{name}={raw!r} is not a {kind.__name__}") from None
                if value < 0:
                    raise ConfigurationError(f"{name}={raw!r} must not be negative")
                tuning[key] = value
        if tuning.get("seconds_between_requests") == 0:
            tuning["seconds_between_requests"] = tuning["seconds_between_writes"] = None
        tuning.update(kw)
        return cls(repository=repo, api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL, **tuning)


# Optional environment knobs (GitHub Enterprise, slow networks, tests against a local server).
_TUNING: tuple[tuple[str, str, type[int] | type[float]], ...] = (
    ("GOVERNANCE_GITHUB_TIMEOUT", "timeout", int),
    ("GOVERNANCE_GITHUB_RETRIES", "retries", int),
    # seconds between requests; 0 turns PyGithub's throttling off (reads and writes)
    ("GOVERNANCE_GITHUB_THROTTLE", "seconds_between_requests", float),
)


def token_from_env(env: Mapping[str, str] | None = None) -> str:
    env = ci_context.current().environ if env is None else env
    token = env.get("GITHUB_TOKEN", "")
    if not token:
        raise ConfigurationError(
            "GITHUB_TOKEN is not set; cannot read pull request reviews",
            hint="in GitHub Actions pass `env: GITHUB_TOKEN: ${{ github.token }}`",
        )
    return token


@dataclass(frozen=True)
class Membership:
    state: str  # "active", "pending", "none" (404), "unreadable" (403: token cannot read)


class ApiFailure(Exception):
    """An API call failed; the message names the call, never the token."""


class GitHubSource:
    """PyGithub, configured with bounded timeouts and retries, behind plain-data methods."""

    def __init__(self, settings: GitHubSettings, token: str) -> None:
        self.settings = settings
        github = _github()
        from urllib3.util import Retry

        retry = Retry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
            respect_retry_after_header=False,
        )
        self._gh = github.Github(
            base_url=settings.api_url.rstrip("/"),
            auth=github.Auth.Token(token),
            timeout=settings.timeout,
            retry=retry,
            per_page=100,
            seconds_between_requests=settings.seconds_between_requests,
            seconds_between_writes=settings.seconds_between_writes,
            lazy=True,
        )
        self._repo = self._gh.get_repo(settings.repository)
        self._owner = settings.repository.split("/")[0]

    def __repr__(self) -> str:  # the token must never appear
        return f"GitHubSource({self.settings.repository!r}, api_url={self.settings.api_url!r})"

    def close(self) -> None:
        self._gh.close()

    # ---- reads ------------------------------------------------------------------------------

    def pull_request(self, number: int) -> PullRequest:
        def fetch() -> PullRequest:
            pr = self._repo.get_pull(number)
            head_repo = pr.head.repo
            base_repo = pr.base.repo
            return PullRequest(
                number=pr.number,
                head_sha=pr.head.sha,
                base_sha=pr.base.sha,
                base_ref=pr.base.ref,
                author=pr.user.login,
                author_type=pr.user.type or "User",
                draft=bool(pr.draft),
                state=str(pr.state or "open"),
                merged=bool(pr.merged),
                # a deleted head repository (None) is treated as a fork: fail closed
                from_fork=head_repo is None or head_repo.full_name != base_repo.full_name,
            )

        return _call(f"GET pull request #{number}", fetch)

    def reviews(self, number: int) -> tuple[Review, ...]:
        def fetch() -> tuple[Review, ...]:
            out = []
            for r in self._repo.get_pull(number).get_reviews():  # every page
                # attributes, not raw_data: lazy objects would re-fetch for raw_data
                user = r.user
                out.append(
                    Review(
                        id=int(r.id),
                        reviewer=str(user.login) if user is not None else "ghost",
                        reviewer_type=str(user.type or "Unknown")
                        if user is not None
                        else "Unknown",
                        state=str(r.state or ""),
                        commit_id=r.commit_id,
                        submitted_at=_utc(r.submitted_at),
                    )
                )
            return tuple(out)

        return _call(f"GET reviews of #{number}", fetch)

    def commits(self, number: int) -> tuple[Commit, ...]:
        def fetch() -> tuple[Commit, ...]:
            out = []
            for c in self._repo.get_pull(number).get_commits():  # every page
                git = c.commit
                out.append(
                    Commit(
                        sha=str(c.sha),
                        author_login=c.author.login if c.author is not None else None,
                        committer_login=c.committer.login if c.committer is not None else None,
                        author_email=git.author.email if git.author is not None else None,
                        committer_email=git.committer.email if git.committer is not None else None,
                    )
                )
            # "Lists a maximum of 250 commits for a pull request" (REST docs): with more, some
            # committers would be invisible to separation of duties, so refuse to decide.
            total = self._repo.get_pull(number).commits
            if total is not None and len(out) < total:
                raise ApiFailure(
                    f"PR #{number} has {total} commits but the API listed {len(out)} "
                    "(GitHub lists at most 250); cannot establish every committer"
                )
            return tuple(out)

        return _call(f"GET commits of #{number}", fetch)

    def permission(self, login: str) -> str:
        """``role_name`` (admin, maintain, write, triage, read) or "none" for a non-collaborator."""

        def fetch() -> str:
            try:
                _, data = self._gh.requester.requestJsonAndCheck(
                    "GET", f"{self._repo.url}/collaborators/{login}/permission"
                )
            except _gh_error() as err:
                if err.status == 404:
                    return "none"
                raise
            return str(data.get("role_name") or data.get("permission") or "none")

        return _call(f"GET permission of {login}", fetch)

    def membership(self, team: str, login: str) -> Membership:
        """``GET /orgs/{org}/teams/{slug}/memberships/{user}``: active = member, 404 = not.

        A 403 that is not a rate limit means the token cannot read the team (the default Actions
        token cannot): "unreadable", and the caller falls back to the governance.yaml roster.
        """
        org, slug = team.split("/", 1)

        def fetch() -> Membership:
            try:
                _, data = self._gh.requester.requestJsonAndCheck(
                    "GET", f"/orgs/{org}/teams/{slug}/memberships/{login}"
                )
            except _gh_error() as err:
                if err.status == 404:
                    return Membership("none")
                if err.status == 403 and not _is_rate_limit(err):
                    return Membership("unreadable")
                raise
            return Membership(str(data.get("state") or "none"))

        return _call(f"GET membership of {login} in {team}", fetch)

    def codeowners_errors(self, ref: str) -> tuple[str, ...]:
        """Errors GitHub reports for the CODEOWNERS file at ``ref`` (404: no file there)."""

        def fetch() -> tuple[str, ...]:
            try:
                _, data = self._gh.requester.requestJsonAndCheck(
                    "GET", f"{self._repo.url}/codeowners/errors", parameters={"ref": ref}
                )
            except _gh_error() as err:
                if err.status == 404:
                    return ()
                raise
            return tuple(
                f"{e.get('path', 'CODEOWNERS')}:{e.get('line')}: {e.get('kind')}: "
                f"{str(e.get('message', '')).strip()}"
                for e in data.get("errors", [])
            )

        return _call("GET CODEOWNERS errors", fetch)

    # ---- writes (release propose) -----------------------------------------------------------

    def find_open_pull(self, head_branch: str, base: str) -> int | None:
        def fetch() -> int | None:
            pulls = self._repo.get_pulls(
                state="open", head=f"{self._owner}:{head_branch}", base=base
            )
            for pr in pulls:
                return int(pr.number)
            return None

        return _call(f"GET open pull requests for {head_branch}", fetch)

    def open_or_update_pull(self, head_branch: str, base: str, title: str, body: str) -> int:
        existing = self.find_open_pull(head_branch, base)
        if existing is not None:
            _call(
                f"PATCH pull request #{existing}",
                lambda: self._repo.get_pull(existing).edit(title=title, body=body),
            )
            return existing
        pr = _call(
            "POST pull request",
            lambda: self._repo.create_pull(base=base, head=head_branch, title=title, body=body),
        )
        return int(pr.number)

    def upsert_comment(self, number: int, marker: str, body: str) -> int:
        """Create, or update in place, the one comment whose body contains ``marker``."""

        def run() -> int:
            issue = self._repo.get_pull(number)
            for comment in issue.get_issue_comments():
                if marker in (comment.body or ""):
                    comment.edit(body)
                    return int(comment.id)
            return int(issue.create_issue_comment(body).id)

        return _call(f"comment on #{number}", run)


def _is_rate_limit(err: GithubException) -> bool:
    headers = err.headers or {}
    message = str((err.data or {}).get("message", "")) if isinstance(err.data, dict) else ""
    return headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message.lower()


def _call(what: str, fn: Callable[[], T]) -> T:
    """Run one API interaction; every failure becomes an ApiFailure naming the call."""
    try:
        return fn()
    except ApiFailure:
        raise
    except _gh_error() as err:
        if _is_rate_limit(err):
            reset = (err.headers or {}).get("x-ratelimit-reset", "unknown")
            raise ApiFailure(
                f"{what}: rate limited by GitHub (HTTP {err.status}, reset {reset})"
            ) from None
        message = err.data.get("message") if isinstance(err.data, dict) else None
        raise ApiFailure(f"{what}: HTTP {err.status} {message or ''}".rstrip()) from None
    except _requests_errors().Timeout:
        raise ApiFailure(f"{what}: timed out") from None
    except _requests_errors().RequestException as err:
        raise ApiFailure(f"{what}: {type(err).__name__}") from None


def _requests_errors() -> ModuleType:
    import requests.exceptions

    return requests.exceptions


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def memberships(
    source: GitHubSource, teams: Iterable[str], people: Iterable[str]
) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Active members among ``people`` for each team, and the teams the token cannot read."""
    members: dict[str, frozenset[str]] = {}
    unreadable: set[str] = set()
    people = sorted(set(people))
    for team in teams:
        found = set()
        for login in people:
            state = source.membership(team, login).state
            if state == "unreadable":
                unreadable.add(team)
                break
            if state == "active":  # pending invitations are not membership
                found.add(login)
        members[team] = frozenset(found)
    return members, frozenset(unreadable)
