"""Every response the fake GitHub serves is checked against GitHub's published OpenAPI subset."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import jsonschema
import pytest

from tests.support.fake_github import API, FakeGitHub
from tests.support.openapi import example, spec, validate_response


def _call(fake: FakeGitHub, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(fake.url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, json.loads(err.read() or b"null")


def test_subset_records_its_source() -> None:
    source = spec()["info"]["x-source"]
    assert source["npm_package"] == "@octokit/openapi"
    assert source["npm_version"]
    assert spec()["openapi"].startswith("3.0")


def test_every_route_serves_documented_shapes(fake_github: FakeGitHub) -> None:
    fake = fake_github
    fake.add_pull(1, "a" * 40, "b" * 40, "dave")
    fake.add_commit(1, "a" * 40, "dave")
    fake.add_commit(1, "c" * 40, None)  # a commit whose author has no GitHub account
    for i in range(3):
        fake.add_review(1, "alice", "COMMENTED", "a" * 40, review_id=i + 1)
    fake.add_review(1, "bob", "PENDING", "a" * 40, submitted_at=None)
    fake.add_review(1, "ci[bot]", "APPROVED", "a" * 40, user_type="Bot")
    fake.permissions.update(alice="maintain", bob="read")
    fake.teams["acme/ml-leads"] = {"alice": "active", "carol": "pending"}
    fake.codeowners_errors.append(
        {
            "line": 1,
            "column": 1,
            "kind": "Invalid pattern",
            "source": "!x @a",
            "message": "Invalid pattern on line 1",
            "path": ".github/CODEOWNERS",
        }
    )
    calls: list[tuple[str, str, Any, int]] = [
        ("GET", "/repos/acme/models/pulls/1", None, 200),
        ("GET", "/repos/acme/models/pulls/2", None, 404),
        ("GET", "/repos/acme/models/pulls/1/reviews?per_page=2", None, 200),
        ("GET", "/repos/acme/models/pulls/1/reviews?per_page=2&page=3", None, 200),
        ("GET", "/repos/acme/models/pulls/1/commits", None, 200),
        ("GET", "/repos/acme/models/collaborators/alice/permission", None, 200),
        ("GET", "/repos/acme/models/collaborators/bob/permission", None, 200),
        ("GET", "/repos/acme/models/collaborators/nobody/permission", None, 404),
        ("GET", "/orgs/acme/teams/ml-leads/memberships/alice", None, 200),
        ("GET", "/orgs/acme/teams/ml-leads/memberships/carol", None, 200),
        ("GET", "/orgs/acme/teams/ml-leads/memberships/zed", None, 404),
        ("GET", "/repos/acme/models/codeowners/errors?ref=main", None, 200),
        ("POST", "/repos/acme/models/pulls", {"title": "t", "head": "rel", "base": "main"}, 201),
        ("PATCH", "/repos/acme/models/pulls/2", {"body": "updated"}, 200),
        ("GET", "/repos/acme/models/pulls?state=open&head=acme:rel", None, 200),
        ("POST", "/repos/acme/models/issues/2/comments", {"body": "summary"}, 201),
        ("GET", "/repos/acme/models/issues/2/comments", None, 200),
    ]
    for method, path, body, status in calls:
        got, headers, data = _call(fake, method, path, body)
        assert got == status, (method, path, data)
        if path.endswith("reviews?per_page=2"):
            assert 'rel="next"' in headers["Link"] and 'rel="last"' in headers["Link"]
    cid = fake.comments[2][0]["id"]
    got, _, data = _call(fake, "PATCH", f"/repos/acme/models/issues/comments/{cid}", {"body": "v2"})
    assert got == 200 and data["body"] == "v2"
    assert len(fake.requests) == len(calls) + 1
    # the fixture asserts fake.schema_violations == [] at teardown


def test_routes_cover_exactly_the_subset() -> None:
    from tests.support.fake_github import _ROUTES

    documented = sum(len(ops) for ops in spec()["paths"].values())
    assert len(_ROUTES) == documented


def test_a_fixture_that_drifts_from_the_description_is_caught() -> None:
    review = example("pull-request-review-items")[0]
    del review["id"]
    with pytest.raises(jsonschema.ValidationError, match="'id' is a required property"):
        validate_response("GET", "/repos/a/b/pulls/1/reviews", 200, [review])
    membership = example("team-membership-response-if-user-is-a-team-maintainer")
    membership["state"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        validate_response("GET", "/orgs/a/teams/t/memberships/u", 200, membership)
    # the published pull-request example itself does not match its schema (requested_teams):
    # the fake repairs it; this pins that the check is real
    with pytest.raises(jsonschema.ValidationError):
        validate_response("GET", "/repos/a/b/pulls/1", 200, example("pull-request"))


def test_fake_serves_under_an_enterprise_prefix(fake_github: FakeGitHub) -> None:
    assert fake_github.url.endswith(API)
    assert fake_github.url.startswith("http://127.0.0.1:")
