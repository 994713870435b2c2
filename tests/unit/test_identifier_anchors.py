"""Every Python check of an identifier, digest, login, time or remote takes the whole value
(issue 14): with `re.match` and a pattern ending in `$`, "ok\\n" passed as a slug. Each check
accepts a real value and refuses the same value with a newline appended."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from governance import ci_context, timeparse
from governance.approvals import facts, gitfiles, propose
from governance.authoring import check_identity, check_sha256, check_slug
from governance.cli import commands_config
from governance.environments import SLUG
from governance.errors import GovernanceError
from governance.policy.metadata import GATE_RULE
from governance.runtime import config_changed_event, live_release
from governance.sinks import postgres

SHA = "ab" * 32
COMMIT = "c0ffee" * 6 + "abcd"  # 40 hex


def _refused(call: Callable[[], object]) -> bool:
    try:
        call()
    except GovernanceError:
        return True
    return False


CHECKS: dict[str, tuple[str, Callable[[str], object]]] = {
    "slug": ("fraud-risk", lambda v: check_slug(v, "model name")),
    "sha256": (SHA, lambda v: check_sha256(v, "--sha256")),
    "identity": ("alice", lambda v: check_identity(v, "--owner")),
    "team": ("acme/model-risk", lambda v: check_identity(v, "--owner")),
    "commit (gitfiles)": (COMMIT, lambda v: gitfiles._require_sha(v, "base")),
    "postgres identifier": ("governance_audit_events", lambda v: postgres._ident(v, "table")),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_check_takes_the_whole_value(name: str) -> None:
    good, check = CHECKS[name]
    assert not _refused(lambda: check(good)), name
    for end in ("\n", "\r\n", "\r"):
        assert _refused(lambda e=end: check(good + e)), (name, good + end)


def test_patterns_used_without_a_check_function() -> None:
    assert SLUG.fullmatch("production") and not SLUG.fullmatch("production\n")
    assert SLUG.match("production\n") is None  # `\Z`, so `match` is safe too
    assert GATE_RULE.fullmatch("deny_latency") and not GATE_RULE.fullmatch("deny_latency\n")
    assert commands_config._SHA.fullmatch(COMMIT)
    assert commands_config._SHA.match(COMMIT + "\n") is None
    assert facts._noreply_login("1+alice@users.noreply.github.com") == "alice"
    assert facts._noreply_login("1+alice@users.noreply.github.com\n") is None
    assert ci_context._LOGIN.fullmatch("dependabot[bot]")
    assert ci_context._LOGIN.match("dora\n") is None
    assert ci_context._SHA.fullmatch(COMMIT) and ci_context._SHA.match(COMMIT + "\n") is None
    assert propose._REMOTE.match("origin\n") is None
    for pattern in (timeparse._RELATIVE, timeparse._DATE, timeparse._DATETIME, timeparse._NAIVE):
        assert pattern.match("2026-04-10\n") is None and pattern.match("24h\n") is None
    assert timeparse._DATE.fullmatch("2026-04-10")


def test_push_refuses_a_remote_with_a_newline(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError, match="is not a plain remote name"):
        propose.push_branch(tmp_path, "origin\n", "governance/x")


def test_runtime_refuses_a_model_or_environment_with_a_newline(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError, match="is not a slug"):
        live_release("fraud-risk\n", "production", root=tmp_path)
    with pytest.raises(GovernanceError, match="is not a slug"):
        config_changed_event(model="fraud-risk", environment="production\n", actor_id="ci",
                             changes={"x": (1, 2)}, reason="r")
