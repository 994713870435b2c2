"""JSON Lines sink: one file per day, append-only, idempotent, verifiable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.errors import Tampered
from governance.sinks.export import cursor_path, export, verify
from governance.sinks.jsonl import JsonlSink
from tests.support.histories import SyntheticLedger, generate_entries


@pytest.fixture(scope="module")
def entries() -> list:
    return list(generate_entries(models=4, releases_per_model=4, seed=2))


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.jsonl"))}


def test_one_file_per_day_with_full_rows(tmp_path: Path, entries: list) -> None:
    sink = JsonlSink(tmp_path / "audit")
    result = export(tmp_path, SyntheticLedger(entries), sink)
    assert result.exported == len(entries)
    days = {e.timestamp[:10] for e in entries}
    assert {p.stem for p in (tmp_path / "audit").glob("*.jsonl")} == days
    e = entries[17]
    lines = (tmp_path / "audit" / f"{e.timestamp[:10]}.jsonl").read_text().splitlines()
    row = next(json.loads(x) for x in lines if json.loads(x)["seq"] == 17)
    assert row["stored"].encode() == e.stored
    assert row["leaf_hash"] == e.leaf_hash and row["commit"] == e.commit
    assert row["event"]["event_type"] == e.event_type
    assert verify(tmp_path, SyntheticLedger(entries), sink).ok


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.integers(1, 200), min_size=1, max_size=5), lose_cursor=st.booleans())
def test_files_only_grow_and_rows_are_never_duplicated(
    tmp_path_factory: pytest.TempPathFactory, entries: list, cuts: list[int], lose_cursor: bool
) -> None:
    root = tmp_path_factory.mktemp("jsonl")
    sink_dir = root / "audit"
    before: dict[str, bytes] = {}
    for cut in sorted(cuts) + [len(entries)]:
        if lose_cursor and cursor_path(root, "jsonl").exists():
            cursor_path(root, "jsonl").unlink()
        export(root, SyntheticLedger(entries[:cut]), JsonlSink(sink_dir))
        after = _snapshot(sink_dir)
        for name, data in before.items():
            assert after[name].startswith(data), "a file was rewritten"
        before = after
    ids = [json.loads(line)["event_id"] for data in before.values() for line in data.splitlines()]
    assert sorted(ids) == sorted(e.event_id for e in entries)


def test_verify_reports_missing_extra_modified_and_torn(tmp_path: Path, entries: list) -> None:
    ledger = SyntheticLedger(entries)
    sink = JsonlSink(tmp_path / "audit")
    export(tmp_path, ledger, sink)
    e5, e9 = entries[5], entries[9]
    f5 = tmp_path / "audit" / f"{e5.timestamp[:10]}.jsonl"
    lines = f5.read_text().splitlines(keepends=True)
    out = []
    for line in lines:
        row = json.loads(line)
        if row["seq"] == 5:  # edit the stored bytes and the hash to match
            row["stored"] = row["stored"].replace('"actor_id":"', '"actor_id":"x', 1)
            out.append(json.dumps(row) + "\n")
        elif row["seq"] == 9 and e9.timestamp[:10] == e5.timestamp[:10]:
            continue
        else:
            out.append(line)
    out.append('{"seq": 999999, "event_id": "bogus", "leaf_hash": "00", "stored": "{}"}\n')
    out.append('{"seq": 1, "event')  # torn
    f5.write_text("".join(out))
    report = verify(tmp_path, ledger, sink)
    assert [f.seq for f in report.modified] == [5]
    assert [f.event_id for f in report.extra] == ["bogus"]
    if e9.timestamp[:10] == e5.timestamp[:10]:
        assert [f.seq for f in report.missing] == [9]
    assert any("unreadable line" in p for p in report.other)
    assert not report.ok
    with pytest.raises(Tampered, match="different content"):
        cursor_path(tmp_path, "jsonl").unlink()
        export(tmp_path, ledger, JsonlSink(tmp_path / "audit"))


def test_torn_last_line_is_closed_not_rewritten(tmp_path: Path, entries: list) -> None:
    sink_dir = tmp_path / "audit"
    export(tmp_path, SyntheticLedger(entries[:3]), JsonlSink(sink_dir))
    day = sink_dir / f"{entries[3].timestamp[:10]}.jsonl"
    torn = b'{"seq":3,"ev'
    with open(day, "ab") as fh:
        fh.write(torn)
    before = day.read_bytes()
    export(tmp_path, SyntheticLedger(entries[:6]), JsonlSink(sink_dir))
    after = day.read_bytes()
    assert after.startswith(before) and after[len(before) : len(before) + 1] == b"\n"
    report = verify(tmp_path, SyntheticLedger(entries[:6]), JsonlSink(sink_dir))
    assert not report.missing and not report.modified
    assert any("unreadable line" in p for p in report.other)
