"""The embedded engine's pipelined path: queued requests, the input builder, no deadlock.

``check --all`` keeps a request queued behind the one each regopy worker evaluates. These tests
prove the guard rails still hold there: a crash or timeout of one evaluation is that one's error
and the queued one still gets its real answer; requests and replies larger than a pipe buffer
do not deadlock; and the worker's input builder gives rego-cpp exactly what ``regopy.Input``
would, refusing what the C API would silently change.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
import regopy
import regopy.rego_shared as rs

from governance.policy.bundle import PolicyBundle, load_bundle
from governance.policy.engines.port import EngineError
from governance.policy.engines.regopy_engine import RegopyEngine
from governance.policy.engines.regopy_worker import input_builder

SLOW = 80_000_000  # numbers.range(1, SLOW) takes many seconds in rego-cpp


def _bundle(tmp_path: Path, body: str) -> PolicyBundle:
    d = tmp_path / "policies"
    d.mkdir()
    (d / "p.rego").write_text("package governance.decision\n\n" + body)
    return load_bundle(d)


def _counting(tmp_path: Path) -> PolicyBundle:
    return _bundle(tmp_path, "allow := count([x | some x in numbers.range(1, input.n)]) > 0\n"
                             "n := input.n\n")


def test_a_crash_fails_only_its_own_evaluation(tmp_path: Path) -> None:
    engine = RegopyEngine(timeout_s=60)
    try:
        engine.load(_counting(tmp_path))
        pid = engine.worker_pid
        assert pid is not None
        engine.submit("governance.decision", {"n": SLOW})
        engine.submit("governance.decision", {"n": 7})
        assert engine.queued == 2
        killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
        killer.start()
        with pytest.raises(EngineError) as crashed:
            engine.collect()
        killer.join()
        assert crashed.value.kind == "crash" and "SIGKILL" in crashed.value.message
        # the queued request went to a fresh worker and was answered for its own input
        assert engine.collect().value == {"allow": True, "n": 7}
        assert engine.worker_pid not in (None, pid)
        assert engine.queued == 0
    finally:
        engine.close()


def test_a_timeout_fails_only_its_own_evaluation(tmp_path: Path) -> None:
    engine = RegopyEngine(timeout_s=1.5)
    try:
        engine.load(_counting(tmp_path))
        engine.submit("governance.decision", {"n": SLOW})
        engine.submit("governance.decision", {"n": 3})
        with pytest.raises(EngineError) as slow:
            engine.collect()
        assert slow.value.kind == "timeout"
        assert engine.collect().value == {"allow": True, "n": 3}
    finally:
        engine.close()


def test_requests_and_replies_larger_than_a_pipe_do_not_deadlock(tmp_path: Path) -> None:
    # Each request and each reply is ~300 KB, several times a pipe buffer (64 KiB): with two
    # queued, a blocking write would wait on a worker blocked writing its reply.
    engine = RegopyEngine(timeout_s=60)
    try:
        engine.load(_bundle(tmp_path, "allow := count(input.blob) > 0\n\necho := input.blob\n"))
        blobs = [str(i) * 300_000 for i in range(4)]
        for blob in blobs[:2]:
            engine.submit("governance.decision", {"blob": blob})
        answers = []
        for blob in blobs[2:]:
            answers.append(engine.collect().value)
            engine.submit("governance.decision", {"blob": blob})
        answers += [engine.collect().value, engine.collect().value]
        assert [a["echo"] for a in answers] == blobs
    finally:
        engine.close()


def test_collect_without_submit_is_an_error(tmp_path: Path) -> None:
    engine = RegopyEngine()
    try:
        engine.load(_counting(tmp_path))
        with pytest.raises(EngineError, match="no evaluation was submitted"):
            engine.collect()
    finally:
        engine.close()


DOCS: list[Any] = [
    {"a": [1, 2.5, True, False, None, "x\u00e9\u2603"], "n": -5, "big": 2**62, "f": 1e300,
     "empty": {}, "none": [], "nested": {"k": {"j": [{"i": "deep"}]}}},
    {"release": {"release_id": "r-1", "metrics": {"auc": 0.91}, "tags": ["a", "b"]}},
]


@pytest.mark.parametrize("doc", DOCS)
def test_input_builder_matches_regopy_input(doc: Any) -> None:
    build = input_builder(rs)
    interp = regopy.Interpreter()
    handle = build(doc)
    try:
        rs.rego_set_input(interp._impl, handle)
    finally:
        rs.rego_free_input(handle)
    ours = str(interp.query("x := input"))
    interp.set_input(regopy.Input(doc))
    assert ours == str(interp.query("x := input"))


@pytest.mark.parametrize("doc", DOCS)
def test_the_plain_path_builds_the_same_input(doc: Any) -> None:
    """``plain=True`` (no backslash in the request text) skips only checks that cannot apply."""
    build = input_builder(rs)
    interp = regopy.Interpreter()
    seen = []
    for plain in (False, True):
        handle = build(doc, plain=plain)
        try:
            rs.rego_set_input(interp._impl, handle)
        finally:
            rs.rego_free_input(handle)
        seen.append(str(interp.query("x := input")))
    assert seen[0] == seen[1]


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"id": "release\x00-evil"}, "NUL byte"),
        ({"bad\x00key": 1}, "NUL byte"),
        ({"n": 2**64}, "does not fit in 64 bits"),
        ({"t": (1, 2)}, "is not JSON"),
    ],
)
def test_input_builder_refuses_what_the_c_api_would_change(doc: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        input_builder(rs)(doc)


def test_a_nul_byte_in_the_input_is_an_engine_error_not_a_truncated_value(
    tmp_path: Path,
) -> None:
    engine = RegopyEngine(timeout_s=30)
    try:
        engine.load(_bundle(tmp_path, 'allow := input.id == "release"\n'))
        with pytest.raises(EngineError, match="NUL byte"):
            engine.evaluate("governance.decision", {"id": "release\x00-evil"})
    finally:
        engine.close()


def test_print_output_belongs_to_the_evaluation_that_printed(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, 'allow if {\n\tinput.say != ""\n\tprint("said", input.say)\n}\n\n'
                               "default allow := false\n")
    engine = RegopyEngine(timeout_s=60)
    try:
        engine.load(bundle)
        first = engine.evaluate("governance.decision", {"say": "hello"})
        quiet = engine.evaluate("governance.decision", {"say": ""})
        again = engine.evaluate("governance.decision", {"say": "again"})
    finally:
        engine.close()
    assert first.value == {"allow": True} and "said hello" in "\n".join(first.prints)
    assert quiet.value == {"allow": False} and quiet.prints == ()
    assert "said again" in "\n".join(again.prints) and "hello" not in "\n".join(again.prints)
