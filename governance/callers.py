"""Caller workflows: a governed repository that references model-governance's workflows by
pinned commit instead of copying them (issue 17, item 4).

Each of the five workflows also declares ``workflow_call``. A caller keeps the events (the same
``on:`` block), grants the union of the token permissions the called jobs declare (a called job
can only narrow what its caller grants) and passes the dispatch inputs through; everything else
(the jobs, the base-commit trust model, the environments and their secrets) is the called
file's at that commit. Dependabot's github-actions ecosystem proposes newer commits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from governance.errors import UsageError

SOURCE_RE = re.compile(r"^(?P<repo>[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+)@"
                       r"(?P<sha>[0-9a-f]{40})\Z")
CALL_MARK = "  # A governed repository may call this file by pinned commit"
_RANK = {"none": 0, "read": 1, "write": 2}


def parse_source(spec: str) -> tuple[str, str]:
    """``OWNER/REPO@SHA`` (a full 40-hex commit: a tag or branch could be moved)."""
    m = SOURCE_RE.fullmatch(spec)
    if not m:
        raise UsageError(f"--workflows-from {spec!r} is not OWNER/REPO@COMMIT",
                         hint="the model-governance repository and the full 40-hex commit of "
                              "the release, e.g. acme/model-governance@<sha of tag v0.1.0>")
    return m["repo"], m["sha"]


def _parsed(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise UsageError("a scaffolded workflow is not a YAML mapping",
                         hint="reinstall model-governance")
    if True in doc:  # YAML 1.1 reads the key `on` as true
        doc["on"] = doc.pop(True)
    return doc


def permissions_union(doc: dict[str, Any]) -> dict[str, str]:
    """The widest grant of each scope any job of the workflow declares."""
    union: dict[str, str] = {}
    for job in doc["jobs"].values():
        for scope, level in (job.get("permissions") or {}).items():
            if _RANK[level] > _RANK.get(union.get(scope, "none"), 0):
                union[scope] = level
    return dict(sorted(union.items()))


def caller_text(name: str, full_text: str, repo: str, sha: str, version: str) -> str:
    """The caller of ``name`` (e.g. governance-gate.yml) at ``repo@sha``."""
    doc = _parsed(full_text)
    start = full_text.index("\non:\n") + 1
    end = full_text.index(CALL_MARK)
    on_block = full_text[start:end].rstrip("\n")
    inputs = (doc["on"].get("workflow_call") or {}).get("inputs") or {}
    why = {(m[0], m[1]): m[2] for m in reversed(re.findall(
        r"^ {6}([a-z-]+): (read|write) +# *(.+)$", full_text, re.MULTILINE))}
    lines = [
        f"# {doc['name']}: runs model-governance's {name} at a pinned commit",
        f"# ({repo}@{sha}, v{version}).",
        "# Its jobs, their token permissions and its trust model (policies, configuration and",
        "# governance code from the base commit; a pull request's head only as data) are that",
        "# file's; this caller names the events and grants exactly the permissions those jobs",
        "# declare. Dependabot (.github/dependabot.yml) proposes newer commits as pull requests:",
        "# review them like any change to .github/ (CODEOWNERS).",
        f"name: {doc['name']}",
        "",
        on_block,
        "",
        "permissions: {}",
        "",
        "jobs:",
        "  governance:",
        f"    uses: {repo}/.github/workflows/{name}@{sha} # v{version}",
        "    permissions:",
        *(f"      {scope}: {level} # {why.get((scope, level), 'declared by the called jobs')}"
          for scope, level in permissions_union(doc).items()),
    ]
    if inputs:
        lines.append("    with:")
        lines.extend(f"      {key}: ${{{{ inputs.{key} }}}}" for key in inputs)
    return "\n".join(lines) + "\n"


def write_callers(workflows: list[Path], spec: str, version: str) -> None:
    """Replace freshly scaffolded workflow copies with callers of ``spec``."""
    repo, sha = parse_source(spec)
    for path in workflows:
        path.write_text(caller_text(path.name, path.read_text(encoding="utf-8"), repo, sha,
                                    version), encoding="utf-8", newline="\n")


def pinned_caller(text: str, name: str) -> str | None:
    """For a caller of ``name``: ``None`` when it is pinned by a full commit, else why not;
    raises LookupError when ``text`` is not a caller at all."""
    m = re.search(rf"^\s+uses:\s+(\S+)/\.github/workflows/{re.escape(name)}@(\S+)", text,
                  re.MULTILINE)
    if m is None:
        raise LookupError(name)
    return None if re.fullmatch(r"[0-9a-f]{40}", m.group(2)) else (
        f"calls {m.group(1)}@{m.group(2)}, not a full commit SHA")
