"""A local, stateful GitHub REST server for tests (loopback only, random port).

The real PyGithub client talks to it through ``Github(base_url=fake.url)``; nothing of PyGithub
is mocked. Responses are built from the examples published in GitHub's OpenAPI description
(tests/data/github-openapi-subset.json, cut from the npm package ``@octokit/openapi``) with the
scenario's values put in, and every response is validated against that description as it is
served: ``fake.schema_violations`` must stay empty (the ``fake_github`` fixture asserts it).

Serves: pull request, its reviews and commits (paginated with ``Link`` headers), collaborator
permission, team membership, CODEOWNERS errors; and for ``release propose`` the pull request
list/create/update and issue comments list/create/update. Faults on demand: HTTP 500, a 403
primary rate limit, and a response slower than the client's timeout.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.openapi import example, validate_response

API = "/api/v3"  # served under a GitHub Enterprise style prefix, as GITHUB_API_URL would be


@dataclass
class Fault:
    """Make matching requests fail: kind is "500", "rate_limit", "forbidden" or "timeout"."""

    kind: str
    path: str = ".*"  # regex searched in the request path
    method: str = "GET"
    times: int = 1_000_000


@dataclass
class _Pull:
    number: int
    head_sha: str
    base_sha: str
    author: str
    head_ref: str = "release/x"
    base_ref: str = "main"
    draft: bool = False
    fork: bool = False
    title: str = "Release"
    body: str = ""
    author_type: str = "User"
    state: str = "open"
    merged: bool = False


@dataclass
class FakeGitHub:
    owner: str = "acme"
    repo: str = "models"
    pulls: dict[int, _Pull] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    commits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin/write/read/...
    teams: dict[str, dict[str, str]] = field(default_factory=dict)  # "org/slug" -> login -> state
    forbidden_teams: set[str] = field(default_factory=set)
    codeowners_errors: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    timeout_seconds: float = 3.0
    requests: list[tuple[str, str]] = field(default_factory=list)
    schema_violations: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _next_id: int = 1000

    # ---- scenario builders ------------------------------------------------------------------

    def add_pull(self, number: int, head_sha: str, base_sha: str, author: str, **kw: Any) -> None:
        self.pulls[number] = _Pull(number, head_sha, base_sha, author, **kw)
        self.reviews.setdefault(number, [])
        self.commits.setdefault(number, [])

    def add_review(
        self,
        number: int,
        login: str,
        state: str,
        commit_id: str,
        submitted_at: str | None = "2026-04-10T12:00:00Z",
        *,
        review_id: int | None = None,
        user_type: str = "User",
    ) -> int:
        rid = review_id if review_id is not None else self._id()
        item = example("pull-request-review-items")[0]
        item.update(
            id=rid,
            node_id=f"PRR_{rid}",
            user=self.user(login, user_type),
            state=state,
            commit_id=commit_id,
            html_url=f"https://github.test/{self.owner}/{self.repo}/pull/{number}#pullrequestreview-{rid}",
            pull_request_url=f"{self.base}/repos/{self.owner}/{self.repo}/pulls/{number}",
            author_association="MEMBER",
        )
        if submitted_at is None:
            item.pop("submitted_at", None)  # PENDING reviews have no submitted_at
        else:
            item["submitted_at"] = submitted_at
        self.reviews[number].append(item)
        return rid

    def dismiss(self, number: int, review_id: int) -> None:
        for item in self.reviews[number]:
            if item["id"] == review_id:
                item["state"] = "DISMISSED"

    def add_commit(
        self,
        number: int,
        sha: str,
        author: str | None,
        committer: str | None = None,
        email: str = "someone@example.test",
    ) -> None:
        item = example("commit-items")[0]
        item.update(
            sha=sha,
            node_id=f"C_{sha[:8]}",
            url=f"{self.base}/repos/{self.owner}/{self.repo}/commits/{sha}",
            html_url=f"https://github.test/{self.owner}/{self.repo}/commit/{sha}",
            author=self.user(author) if author else None,
            committer=self.user(committer) if committer else None,
        )
        item["commit"]["author"]["email"] = email
        item["commit"]["committer"]["email"] = email
        self.commits[number].append(item)
        self.pulls[number].head_sha = sha

    def push(self, number: int, sha: str) -> None:
        """A new head commit on the PR."""
        self.add_commit(number, sha, self.pulls[number].author)

    def user(self, login: str, user_type: str = "User") -> dict[str, Any]:
        user = example("pull-request")["user"]
        uid = int(hashlib.sha256(login.encode()).hexdigest()[:8], 16)
        for key, value in list(user.items()):
            if isinstance(value, str) and "octocat" in value:
                user[key] = value.replace("octocat", login)
        user.update(login=login, id=uid, node_id=f"U_{uid}", type=user_type)
        return user

    # ---- server lifecycle -------------------------------------------------------------------

    @property
    def base(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{API}"

    @property
    def url(self) -> str:
        return self.base

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(_Handler):
            state = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ---- fixtures served --------------------------------------------------------------------

    def _repo_json(self, full_name: str, fork: bool) -> dict[str, Any]:
        repo = example("pull-request")["base"]["repo"]
        owner, name = full_name.split("/")
        repo.update(
            full_name=full_name,
            name=name,
            fork=fork,
            owner=self.user(owner, "Organization"),
            url=f"{self.base}/repos/{full_name}",
        )
        return repo

    def pull_json(self, pr: _Pull) -> dict[str, Any]:
        data = example("pull-request")
        full = f"{self.owner}/{self.repo}"
        head_full = f"contributor/{self.repo}" if pr.fork else full
        data.update(
            id=pr.number + 500_000,
            number=pr.number,
            state=pr.state,
            title=pr.title,
            body=pr.body,
            draft=pr.draft,
            user=self.user(pr.author, pr.author_type),
            url=f"{self.base}/repos/{full}/pulls/{pr.number}",
            html_url=f"https://github.test/{full}/pull/{pr.number}",
            issue_url=f"{self.base}/repos/{full}/issues/{pr.number}",
            requested_teams=[],
            requested_reviewers=[],
            assignees=[],
            labels=[],
            merged=pr.merged,
            merge_commit_sha=None,
            commits=len(self.commits.get(pr.number, [])),
        )
        data["head"].update(
            sha=pr.head_sha,
            ref=pr.head_ref,
            label=f"{head_full.split('/')[0]}:{pr.head_ref}",
            repo=self._repo_json(head_full, pr.fork),
            user=self.user(head_full.split("/")[0]),
        )
        data["base"].update(
            sha=pr.base_sha,
            ref=pr.base_ref,
            label=f"{self.owner}:{pr.base_ref}",
            repo=self._repo_json(full, False),
            user=self.user(self.owner, "Organization"),
        )
        return data

    def pull_simple_json(self, pr: _Pull) -> dict[str, Any]:
        data = example("pull-request-simple-items")[0]
        full_pull = self.pull_json(pr)
        for key in list(data):
            if key in full_pull:
                data[key] = full_pull[key]
        return data

    def comment_json(self, number: int, cid: int, body: str, login: str) -> dict[str, Any]:
        data = example("issue-comment")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        data.update(
            id=cid,
            node_id=f"IC_{cid}",
            body=body,
            user=self.user(login),
            url=f"{self.base}/repos/{self.owner}/{self.repo}/issues/comments/{cid}",
            html_url=f"https://github.test/{self.owner}/{self.repo}/pull/{number}#issuecomment-{cid}",
            issue_url=f"{self.base}/repos/{self.owner}/{self.repo}/issues/{number}",
            created_at=now,
            updated_at=now,
        )
        return data


class _Handler(BaseHTTPRequestHandler):
    state: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean; requests are recorded in state.requests

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # -- plumbing --

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        if not split.path.startswith(API + "/"):
            # a client that drops GITHUB_API_URL's path prefix would break on GitHub Enterprise
            self.state.requests.append((method, split.path))
            self._send(method, split.path, 404, {"message": "Not Found"}, check=False)
            return
        path = split.path[len(API) :]
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None
        s = self.state
        s.requests.append((method, path))
        for fault in s.faults:
            if fault.method == method and fault.times > 0 and re.search(fault.path, path):
                fault.times -= 1
                self._fault(fault.kind, method, path)
                return
        for pattern, verb, handler in _ROUTES:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                handler(self, method, path, query, body, *match.groups())
                return
        self._send(method, path, 404, {"message": "Not Found", "documentation_url": "x"})

    def _fault(self, kind: str, method: str, path: str) -> None:
        if kind == "timeout":
            self.state._stop.wait(self.state.timeout_seconds)
            return  # the client has given up; close without a response
        if kind == "500":
            self._send(method, path, 500, {"message": "Server Error"}, check=False)
        elif kind == "rate_limit":
            reset = int(time.time()) + 3600
            self._send(
                method,
                path,
                403,
                {
                    "message": "API rate limit exceeded for installation ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                },
                headers={
                    "x-ratelimit-limit": "5000",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-used": "5000",
                    "x-ratelimit-reset": str(reset),
                },
                check=False,
            )
        elif kind == "forbidden":
            self._send(
                method,
                path,
                403,
                {"message": "Resource not accessible by integration", "documentation_url": "x"},
                check=False,
            )

    def _send(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        check: bool = True,
    ) -> None:
        if check:
            self._check(method, path, status, body)
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _check(self, method: str, path: str, status: int, body: Any) -> None:
        try:
            validate_response(method, path, status, body)
        except Exception as err:  # collected, asserted empty by the fixture
            if status == 404 and "documents no body" in str(err):
                # GitHub sends a basic-error body on every 404 even where the description
                # documents none (team membership); validate it as that shape instead.
                try:
                    validate_response("GET", "/repos/o/r/pulls/1", 404, body)
                    return
                except Exception as inner:
                    err = inner
            self.state.schema_violations.append(f"{method} {path} {status}: {err}")

    def _page(
        self, method: str, path: str, query: dict[str, str], items: list[dict[str, Any]]
    ) -> None:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        base = f"{self.state.base}{path}"

        def link(p: int, rel: str) -> str:
            return f'<{base}?{urlencode({**query, "page": p, "per_page": per_page})}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        self._send(method, path, 200, chunk, headers={"Link": ", ".join(links)} if links else None)

    # -- routes --

    def _pull(self, method: str, path: str, q: Any, body: Any, number: str) -> None:
        pr = self.state.pulls.get(int(number))
        if pr is None:
            self._send(method, path, 404, {"message": "Not Found", "documentation_url": "x"})
            return
        if method == "PATCH":
            for key in ("title", "body"):
                if key in body:
                    setattr(pr, key, body[key])
        self._send(method, path, 200, self.state.pull_json(pr))

    def _pulls(self, method: str, path: str, q: dict[str, str], body: Any) -> None:
        s = self.state
        if method == "POST":
            number = max(s.pulls, default=0) + 1
            head = body["head"].split(":")[-1]
            s.add_pull(
                number,
                "0" * 40,
                "0" * 40,
                "governance-ci",
                head_ref=head,
                base_ref=body["base"],
                title=body["title"],
                body=body.get("body") or "",
                draft=bool(body.get("draft", False)),
            )
            self._send(method, path, 201, s.pull_json(s.pulls[number]))
            return
        items = [
            s.pull_simple_json(p)
            for p in s.pulls.values()
            if ("head" not in q or q["head"].split(":")[-1] == p.head_ref)
            and ("base" not in q or q["base"] == p.base_ref)
        ]
        self._page(method, path, q, items)

    def _reviews(self, method: str, path: str, q: dict[str, str], body: Any, n: str) -> None:
        self._page(method, path, q, self.state.reviews.get(int(n), []))

    def _commits(self, method: str, path: str, q: dict[str, str], body: Any, n: str) -> None:
        # GitHub lists at most 250 commits of a pull request
        self._page(method, path, q, self.state.commits.get(int(n), [])[:250])

    def _permission(self, method: str, path: str, q: Any, body: Any, login: str) -> None:
        permission = self.state.permissions.get(login)
        if permission is None:
            self._send(method, path, 404, {"message": "Not Found", "documentation_url": "x"})
            return
        data = example("repository-collaborator-permission-response-if-user-has-admin-permissions")
        legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
        data.update(permission=legacy, role_name=permission, user=self.state.user(login))
        data["user"]["role_name"] = permission
        self._send(method, path, 200, data)

    def _membership(
        self, method: str, path: str, q: Any, body: Any, org: str, slug: str, login: str
    ) -> None:
        team = f"{org}/{slug}"
        if team in self.state.forbidden_teams:
            self._fault("forbidden", method, path)
            return
        member_state = self.state.teams.get(team, {}).get(login)
        if member_state is None:
            self._send(method, path, 404, {"message": "Not Found", "documentation_url": "x"})
            return
        data = example("team-membership-response-if-user-is-a-team-maintainer")
        data.update(role="member", state=member_state)
        self._send(method, path, 200, data)

    def _codeowners_errors(self, method: str, path: str, q: Any, body: Any) -> None:
        self._send(method, path, 200, {"errors": self.state.codeowners_errors})

    def _comments(self, method: str, path: str, q: dict[str, str], body: Any, n: str) -> None:
        s = self.state
        items = s.comments.setdefault(int(n), [])
        if method == "POST":
            item = s.comment_json(int(n), s._id(), body["body"], "governance-ci")
            items.append(item)
            self._send(method, path, 201, item)
            return
        self._page(method, path, q, items)

    def _comment(self, method: str, path: str, q: Any, body: Any, cid: str) -> None:
        for number, items in self.state.comments.items():
            for i, item in enumerate(items):
                if item["id"] == int(cid):
                    items[i] = self.state.comment_json(
                        number, int(cid), body["body"], "governance-ci"
                    )
                    self._send(method, path, 200, items[i])
                    return
        self._send(method, path, 404, {"message": "Not Found", "documentation_url": "x"})


_R = r"/repos/[^/]+/[^/]+"
_ROUTES: list[tuple[str, str, Any]] = [
    (_R + r"/pulls/(\d+)", "GET", _Handler._pull),
    (_R + r"/pulls/(\d+)", "PATCH", _Handler._pull),
    (_R + r"/pulls", "GET", _Handler._pulls),
    (_R + r"/pulls", "POST", _Handler._pulls),
    (_R + r"/pulls/(\d+)/reviews", "GET", _Handler._reviews),
    (_R + r"/pulls/(\d+)/commits", "GET", _Handler._commits),
    (_R + r"/collaborators/([^/]+)/permission", "GET", _Handler._permission),
    (r"/orgs/([^/]+)/teams/([^/]+)/memberships/([^/]+)", "GET", _Handler._membership),
    (_R + r"/codeowners/errors", "GET", _Handler._codeowners_errors),
    (_R + r"/issues/(\d+)/comments", "GET", _Handler._comments),
    (_R + r"/issues/(\d+)/comments", "POST", _Handler._comments),
    (_R + r"/issues/comments/(\d+)", "PATCH", _Handler._comment),
]
