"""Issue 16, the output side and the CLI edges, through the real CLI in subprocesses.

The world: r1 of fraud-risk live in staging and production, r2 approved, promoted to staging and
rolled back there by the on-call person with a reason that tries to forge a history line and
drive the terminal (a newline, a fake ``approval_granted`` row, ANSI escapes). Every text
output must show it escaped, one record per line; JSON must carry it exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World, git

REASON = ("latency regression\n      99  2026-01-01T00:00:00Z  approval_granted     "
          "forged by mallory\x1b[2J\x1b[31m")
INCIDENT = "inc-4821"
_ESC = "\x1b"


@pytest.fixture(scope="module")
def rolled(approved_template: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    world = approved_template.copy(tmp_path_factory.mktemp("hostile") / "world")
    world.run(BOT, "promote", R2, "--env", "staging")
    world.run("platform-oncall", "rollback", MODEL, "--env", "staging", "--reason", REASON,
              "--incident", INCIDENT)
    return world


def _lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.split("\n") if needle in line]


def _assert_escaped(stdout: str) -> None:
    assert _ESC not in stdout
    assert not any(line.lstrip().startswith("99  2026-01-01") for line in stdout.split("\n"))
    shown = _lines_with(stdout, "latency regression")
    assert shown, stdout
    for line in shown:  # the whole reason on the record's own line, escapes visible
        assert "latency regression\\n      99  2026-01-01T00:00:00Z" in line
        assert "forged by mallory\\x1b[2J\\x1b[31m" in line


@pytest.mark.parametrize("args", [
    ("history", MODEL),
    ("audit", "query", "--type", "rollback_executed"),
    ("audit", "query", "--incident", INCIDENT),
    ("live", MODEL, "--env", "staging"),
    ("explain", MODEL, "--env", "staging"),
    ("explain", R1),
])
def test_terminal_text_shows_recorded_controls_escaped(rolled: World, args: tuple[str, ...]
                                                       ) -> None:
    _assert_escaped(rolled.run(None, *args).stdout)


def test_status_never_carries_a_raw_control(rolled: World) -> None:
    out = rolled.run(None, "status").stdout
    assert _ESC not in out and "staging: " + R1 in out


@pytest.mark.parametrize("args", [
    ("history", MODEL),
    ("audit", "query", "--type", "rollback_executed"),
])
def test_json_carries_the_reason_exactly(rolled: World, args: tuple[str, ...]) -> None:
    out = rolled.run(None, *args, "--format", "json").stdout
    assert _ESC not in out  # escaped as \u001b inside the JSON string
    rows = [r for r in json.loads(out) if r.get("event_type") == "rollback_executed"]
    assert rows and any(REASON in text for text in _strings(rows)), rows


def _strings(value: object) -> list[str]:
    """Every string in a JSON value (an event's stored bytes decoded too)."""
    if isinstance(value, str):
        try:
            inner = json.loads(value)
        except ValueError:
            return [value]
        return [value, *_strings(inner)] if isinstance(inner, (dict, list)) else [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_identifier_with_a_control_character_is_refused(rolled: World) -> None:
    done = rolled.run("platform-oncall", "rollback", MODEL, "--env", "production", "--reason",
                      "x", "--incident", "inc\x1b[31m-1", expect=2)
    assert "--incident" in done.stderr and "\\x1b" in done.stderr and _ESC not in done.stderr
    field = rolled.run("dana", "ledger", "append", "--type", "model_registered", "--field",
                       f"model_name={MODEL}", "--field", "actor_role=ml\nlead", expect=2)
    assert "--field actor_role" in field.stderr


# --- the markdown and HTML reports -------------------------------------------------------------

HOSTILE_CARD = {
    "purpose": "<script>alert('card')</script> scores transactions",
    "known_limitations": ["[click me](javascript:alert(1))", "![x](data:text/html,<b>x</b>)",
                          "a fence ```\n</pre><script>alert(2)</script>\n``` closed"],
}


def _hostile_report_world(rolled: World, tmp_path: Path) -> World:
    world = rolled.copy(tmp_path / "world")
    card = world.ci / "releases" / MODEL / R1 / "model-card.yaml"
    doc = yaml.safe_load(card.read_text())
    doc.update(HOSTILE_CARD)
    card.write_text(yaml.safe_dump(doc, sort_keys=False))
    return world


def _markdown_html(markdown: str) -> str:
    from markdown_it import MarkdownIt  # a real CommonMark renderer (rich brings it)

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_markdown_report_escapes_card_text_and_reasons(rolled: World, tmp_path: Path) -> None:
    world = _hostile_report_world(rolled, tmp_path)
    md = world.run(None, "report", R1, "--format", "markdown").stdout
    assert "<script" not in md and _ESC not in md
    assert "\\[click me\\](javascript:" in md  # the brackets escaped: text, not a link
    html = _markdown_html(md)
    assert "<script" not in html and "href=" not in html and "<img" not in html
    assert "&lt;script&gt;alert('card')&lt;/script&gt;" in html.replace("&#39;", "'")
    # the rollback reason sits inside the six-answers block, which its fence keeps closed
    pre = html.split("<pre>")
    assert "latency regression\\n" in pre[1].split("</pre>")[0]
    assert not any(line.startswith("      99  2026") for line in md.split("\n"))


def test_html_report_escapes_card_text_and_reasons(rolled: World, tmp_path: Path) -> None:
    world = _hostile_report_world(rolled, tmp_path)
    out = world.run(None, "report", R1, "--format", "html").stdout
    assert "<script" not in out and "javascript:alert(1)" in out  # as text, never as a link
    assert 'href="javascript' not in out and "src=" not in out
    assert "&lt;script&gt;" in out


def test_report_out_into_a_missing_directory_or_onto_a_directory(rolled: World) -> None:
    missing = rolled.ci / "no" / "such" / "dir" / "report.md"
    done = rolled.run(None, "report", R1, "--out", str(missing), expect=2)
    assert str(missing.parent) in done.stderr and "does not exist" in done.stderr
    done = rolled.run(None, "report", R1, "--out", str(rolled.ci / "releases"), expect=2)
    assert "releases" in done.stderr and "is a directory" in done.stderr


# --- machine formats for an invalid release ---------------------------------------------------


@pytest.fixture(scope="module")
def invalid(rolled: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[World, str]:
    world = rolled.copy(tmp_path_factory.mktemp("invalid") / "world")
    bad = world.ci / "releases" / MODEL / "fraud-risk-2099-01-01-01"
    shutil.copytree(world.ci / "releases" / MODEL / R2, bad)
    text = (bad / "release.yaml").read_text()
    (bad / "release.yaml").write_text(text.replace("release_id: " + R2,
                                                   "release_id: fraud-risk-2099-01-01-01")
                                      + 'artifact_uri: "<x>\\e[31m"\n')  # YAML's \e: ESC
    return world, f"releases/{MODEL}/fraud-risk-2099-01-01-01"


def test_invalid_release_junit_has_a_located_failing_testcase(invalid: tuple[World, str]
                                                               ) -> None:
    world, path = invalid
    done = world.run(None, "check", path, "--format", "junit", expect=1)
    root = ET.fromstring(done.stdout.encode())
    assert int(root.get("failures") or 0) >= 1
    failure = root.find(".//testcase/failure")
    case = root.find(".//testcase")
    assert failure is not None and case is not None
    assert case.get("file") == f"{path}/release.yaml" and (case.get("line") or "").isdigit()
    assert "artifact_uri" in (failure.text or "")
    assert "release.yaml" in done.stderr  # the located diagnostics for a person, too


def test_invalid_release_github_annotation(invalid: tuple[World, str]) -> None:
    world, path = invalid
    done = world.run(None, "check", path, "--format", "github", expect=1)
    lines = done.stdout.strip().split("\n")
    assert lines and all(line.startswith(f"::error file={path}/release.yaml,line=")
                         for line in lines), lines
    assert any("artifact_uri" in line for line in lines)
    assert _ESC not in done.stdout


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_invalid_release_json_and_markdown_are_not_empty(invalid: tuple[World, str], fmt: str
                                                          ) -> None:
    world, path = invalid
    done = world.run(None, "check", path, "--format", fmt, expect=1)
    if fmt == "json":
        doc = json.loads(done.stdout)
        assert doc["error"]["problems"] and doc["error"]["problems"][0]["file"].startswith(path)
    else:
        assert "Invalid" in done.stdout and "release.yaml" in done.stdout
        assert "<x>" not in done.stdout


# --- lookups, limits and options ---------------------------------------------------------------


def test_live_names_an_unknown_environment(rolled: World) -> None:
    done = rolled.run(None, "live", MODEL, "--env", "nosuch", expect=1)
    assert "unknown environment 'nosuch'" in done.stderr
    assert "staging, production" in done.stderr
    explain = rolled.run(None, "explain", MODEL, "--env", "nosuch", expect=1)
    assert "unknown environment 'nosuch'" in explain.stderr
    query = rolled.run(None, "audit", "query", "--env", "nosuch", expect=1)
    assert "unknown environment 'nosuch'" in query.stderr
    assert rolled.run(None, "audit", "query", "--env", "staging").stdout


def test_live_refuses_year_one(rolled: World) -> None:
    done = rolled.run(None, "live", MODEL, "--env", "staging", "--at", "0001-01-01", expect=2)
    assert "outside the accepted window" in done.stderr and "1-01-01T" not in done.stderr


@pytest.mark.parametrize("args", [
    ("audit", "query", "--limit", "99999999999999999999"),
    ("audit", "query", "--limit", "-1"),
    ("ledger", "log", "--limit", "-5"),
    ("ledger", "log", "--limit", "0"),
    ("status", "--limit", "0"),
])
def test_every_limit_is_validated_the_same_way(rolled: World, args: tuple[str, ...]) -> None:
    done = rolled.run(None, *args, expect=2)
    assert "--limit" in done.stderr and "internal error" not in done.stderr


def test_limit_keeps_the_last_events(rolled: World) -> None:
    rows = json.loads(rolled.run(None, "ledger", "log", "--limit", "2", "--format",
                                 "json").stdout)
    assert [r["event_type"] for r in rows] == ["deployment_promoted", "rollback_executed"]


def test_a_repeated_field_is_refused(rolled: World) -> None:
    done = rolled.run("dana", "ledger", "append", "--type", "model_registered", "--field",
                      f"model_name={MODEL}", "--field", "model_name=", expect=2)
    assert "--field model_name: given more than once" in done.stderr


def test_index_path_that_is_a_directory(rolled: World, tmp_path: Path) -> None:
    world = rolled.copy(tmp_path / "world")
    index = world.ci / ".governance" / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    index.mkdir(parents=True)
    done = world.run(None, "history", MODEL, expect=3)
    assert "index.sqlite" in done.stderr and "is a directory" in done.stderr
    assert "internal error" not in done.stderr


# --- a closed pipe ------------------------------------------------------------------------------


def test_output_into_a_closed_pipe_exits_quietly(rolled: World) -> None:
    script = f'"{sys.executable}" -m governance history {MODEL} | true'
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=rolled.ci,
                          env=rolled.env(None), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 141, done.stderr  # 128 + SIGPIPE, as a shell reports
    assert "internal error" not in done.stderr and "BrokenPipe" not in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_reader_closing_the_pipe_first(rolled: World) -> None:
    with subprocess.Popen([sys.executable, "-m", "governance", "audit", "query", "--format",
                           "json"], cwd=rolled.ci, env=rolled.env(None),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # before the command has written anything
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141 and err == ""


# --- concurrency, subdirectories, relative key paths --------------------------------------------


def test_four_queries_at_once_on_a_fresh_clone(rolled: World, tmp_path: Path) -> None:
    for round_ in range(3):  # the race needs a fresh clone each time
        clone = tmp_path / f"clone{round_}"
        git(tmp_path, "clone", "-q", str(rolled.ci), clone.name)
        git(clone, "branch", "-q", "governance/ledger", "origin/governance/ledger")
        assert not (clone / ".governance").exists()
        procs = [subprocess.Popen([sys.executable, "-m", "governance", "audit", "query",
                                   "--model", MODEL, "--format", "json"], cwd=clone,
                                  env=rolled.env(None), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            results.append((p.returncode, out, err))
        for code, _, err in results:
            assert code == 0, err
            assert "internal error" not in err
        outputs = {out for _, out, _ in results}
        assert len(outputs) == 1
        assert any(r["event_type"] == "rollback_executed" for r in json.loads(outputs.pop()))


@pytest.mark.parametrize("args", [
    ("status",),
    ("history", MODEL),
    ("ledger", "log", "--limit", "1"),
    ("ledger", "verify"),
    ("ledger", "checkpoint"),
    ("check", R2),
    ("validate",),
    ("live", MODEL, "--env", "production"),
])
def test_commands_work_from_a_subdirectory(rolled: World, args: tuple[str, ...]) -> None:
    sub = rolled.ci / "releases" / MODEL
    done = rolled.run(None, *args, cwd=sub)
    assert "not a git repository" not in done.stderr


def test_relative_path_arguments_resolve_against_the_current_directory(rolled: World) -> None:
    sub = rolled.ci / "releases" / MODEL
    assert rolled.run(None, "digest", R2, cwd=sub).stdout.strip() == \
        rolled.run(None, "digest", f"releases/{MODEL}/{R2}").stdout.strip()
    rolled.run(None, "check", f"{R2}/", cwd=sub)


def test_relative_signing_key_path(rolled: World, tmp_path: Path) -> None:
    world = rolled.copy(tmp_path / "world")
    env = {"GOVERNANCE_LEDGER_SIGNING_KEY": "../keys/dana",
           "GOVERNANCE_LEDGER_LOG_KEY": "../keys/log"}
    base = {k: v for k, v in world.env(None).items() if not k.startswith("GOVERNANCE_")}
    done = subprocess.run([sys.executable, "-m", "governance", "ledger", "append", "--type",
                           "model_registered", "--field", f"model_name={MODEL}"],
                          cwd=world.ci, env={**base, **env}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    sub = world.ci / "releases"  # and from a subdirectory, two levels up
    env = {"GOVERNANCE_LEDGER_SIGNING_KEY": os.path.join("..", "..", "keys", "dana")}
    done = subprocess.run([sys.executable, "-m", "governance", "ledger", "append", "--type",
                           "model_registered", "--field", f"model_name={MODEL}"],
                          cwd=sub, env={**base, **env}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
