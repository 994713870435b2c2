"""Cut the subset of GitHub's OpenAPI description that the fake GitHub server serves.

Source: the npm package ``@octokit/openapi`` (file ``generated/api.github.com.json``). Fetch and
extract it, then run this script:

    npm pack @octokit/openapi            # -> octokit-openapi-<version>.tgz
    tar xzf octokit-openapi-<version>.tgz
    python tools/github_openapi_subset.py package/generated/api.github.com.json <version> \
        > tests/data/github-openapi-subset.json

Only the operations in ``OPERATIONS`` are kept, with their responses and every component schema,
response and example they reference (transitively). ``tests/unit/approvals/test_fake_github.py``
validates every fixture the fake server returns against this subset with jsonschema.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# (path, method) pairs the GitHub adapter and `release propose` call.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "get"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "patch"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "get"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}/commits", "get"),
    ("/repos/{owner}/{repo}/pulls", "get"),
    ("/repos/{owner}/{repo}/pulls", "post"),
    ("/repos/{owner}/{repo}/collaborators/{username}/permission", "get"),
    ("/orgs/{org}/teams/{team_slug}/memberships/{username}", "get"),
    ("/repos/{owner}/{repo}/codeowners/errors", "get"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "get"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post"),
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}", "patch"),
)


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.add(ref)
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def subset(spec: dict[str, Any], version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, method in OPERATIONS:
        op = spec["paths"][path][method]
        kept = {"operationId": op["operationId"], "responses": op["responses"]}
        paths.setdefault(path, {})[method] = kept
    components: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    _refs(paths, pending)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        value = spec["components"][kind][name]
        components.setdefault(kind, {})[name] = value
        _refs(value, pending)
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": "GitHub REST API subset used by model-governance tests",
            "version": spec["info"]["version"],
            "x-source": {
                "npm_package": "@octokit/openapi",
                "npm_version": version,
                "file": "generated/api.github.com.json",
                "cut_by": "tools/github_openapi_subset.py",
            },
        },
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    json.dump(subset(spec, argv[2]), sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
