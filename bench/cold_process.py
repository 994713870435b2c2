"""A question answered by a fresh Python process on a synthetic index (evidence_bench.py and
explain_bench.py's cold figures).

The synthetic benches build their query index from a generated ledger
(tests/support/histories.py) with no git ledger behind it, so the ``governance`` command itself
cannot run on them: its reads go through the verified ledger (commit signatures, the verified
chain), which needs the signed commits. What a fresh process costs here is the interpreter, the
imports of the query's modules, opening the index with the head check (the head comes from
``HeadOnly``) and the answer through the same core functions the commands call. Whole-command
figures on a real signed ledger, verification included, are bench/startup_bench.py's and
bench/verified_bench.py's.

Run as a script by ``cold_runs``:
    cold_process.py WORK SEQ COMMIT live MODEL ENV AT
    cold_process.py WORK SEQ COMMIT approvals MODEL SINCE
    cold_process.py WORK SEQ COMMIT explain MODEL ENV AT
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from governance.domain.source import LedgerHead  # noqa: E402

WHAT = ("measured in a new Python process (interpreter start, the query's imports, the index "
        "opened with its head check, the answer): there is no git ledger behind the synthetic "
        "index, so this is not the `governance` command, whose verified read is measured by "
        "bench/startup_bench.py and bench/verified_bench.py")


class HeadOnly:
    """A ledger source that knows its head only: the index must already be current."""

    def __init__(self, head: LedgerHead) -> None:
        self._head = head

    def head(self) -> LedgerHead:
        return self._head

    def entries(self, start_seq: int = 0):  # type: ignore[no-untyped-def]
        raise RuntimeError("the index should be current: no entry may be read")


def cold_runs(work: Path, head: LedgerHead, question: list[str], runs: int
              ) -> tuple[list[float], str]:
    """Wall seconds of ``runs`` fresh processes answering ``question``, and the last answer."""
    argv = [sys.executable, str(Path(__file__).resolve()), str(work), str(head.seq),
            head.commit, *question]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times: list[float] = []
    out = ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"cold process failed ({' '.join(question)}): {proc.stderr}")
        out = proc.stdout
    return times, out


def _answer(work: Path, head: LedgerHead, question: list[str]) -> str:
    from governance.audit import queries
    from governance.audit.index import open_index
    from governance.timeparse import parse_time

    kind, model, *rest = question
    with open_index(work, HeadOnly(head)) as index:
        if kind == "live":
            environment, at = rest
            try:
                return str(queries.live_release_at(index.conn, model, environment,
                                                   parse_time(at)).release_id)
            except queries.NotFound as exc:  # nothing live yet is an answer too
                return f"nothing live: {exc}"
        if kind == "approvals":
            (since,) = rest
            found = queries.audit_query(index.conn, queries.AuditFilter(
                model=model, event_types=("approval_granted",), since=parse_time(since)))
            return str(len(found))
        if kind == "explain":
            from governance.audit import answers
            from governance.audit.explain import render_text
            from governance.repo import GovernedRepo

            environment, at = rest
            result = answers.explain_live(GovernedRepo(work), index.conn, model, environment,
                                          parse_time(at))
            return render_text(result.explanation)
    raise SystemExit(f"unknown question {kind!r}: expected live, approvals or explain")


if __name__ == "__main__":
    sys.stdout.write(_answer(Path(sys.argv[1]), LedgerHead(int(sys.argv[2]), sys.argv[3]),
                             sys.argv[4:]) + "\n")
