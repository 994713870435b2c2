"""Every `pattern` in every shipped JSON Schema matches a whole value and nothing with a newline
(issue 14): Python's `$` also matches before a final newline, so `ok\\n` used to pass as a slug.

Each pattern has valid examples below (a new pattern without one fails
``test_every_pattern_has_examples``). For each example: it matches, and no variant with a line
break appended, prepended or inserted matches, in Python's `re` as jsonschema and
fastjsonschema run it (`re.search`) and in ECMA 262 (what editors run) through node, when node
is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "governance" / "schemas").glob("*.schema.json"))
END = r"(?![\s\S])"
HEX64 = "0123456789abcdef" * 4
KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOyWr4lP0gJ9pQm2k0mN1cV7bE2qk3w6x5VbY8n0dL1a"

EXAMPLES: dict[str, list[str]] = {
    r"^([0-9a-f]{40,64})?" + END: ["", "a" * 40, HEX64],
    r"^([0-9a-f]{64})?" + END: ["", HEX64],
    r"^(ssh-ed25519|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,2}"
    r"( [^\x00-\x1f\x7f\u2028\u2029]*)?" + END: [
        f"ssh-ed25519 {KEY}", f"ssh-ed25519 {KEY} alice@laptop",
        f"sk-ssh-ed25519@openssh.com {KEY}= jos\u00e9 key"],
    r"^ssh-ed25519 [A-Za-z0-9+/]+={0,2}( [^\x00-\x1f\x7f\u2028\u2029]*)?" + END: [
        f"ssh-ed25519 {KEY}", f"ssh-ed25519 {KEY} log key 2026"],
    r"^(19[7-9][0-9]|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}" + END: [
        "2026-04-10", "1970-01-01", "2200-12-31"],
    r"^(19[7-9][0-9]|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})" + END: [
        "2026-04-10T09:14:11Z", "2026-04-10T11:14:11.5+02:00", "1970-01-01T00:00:00Z"],
    r"^(latency[A-Za-z0-9_.:-]*|(n|num|count|rows|age)_[A-Za-z0-9_.:-]*"
    r"|[A-Za-z0-9_.:-]*_(ms|seconds|count|rows|samples|bytes|days|hours|age))" + END: [
        "latency_p95_ms", "latency", "n_rows", "eval_samples", "data_age_days", "slice_count"],
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?\+00:00" + END: [
        "2026-04-10T09:14:11+00:00", "2026-04-10T09:14:11.123456+00:00"],
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z" + END: [
        "2026-04-10T09:14:11Z", "2026-04-10T09:14:11.123456789Z"],
    r"^[0-9a-f]{40,64}" + END: ["a" * 40, HEX64],
    r"^[0-9a-f]{64}" + END: [HEX64],
    r"^[0-9a-f]{7,64}" + END: ["abc1234", HEX64],
    r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}" + END: [
        "01890a5d-ac96-774b-bcce-b302099a8057"],
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9._-]{1,100})?" + END: [
        "alice", "Alice", "risk-platform", "acme/model-risk"],
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}" + END: ["alice", "ci-bot"],
    r"^[A-Za-z0-9][A-Za-z0-9._:+=-]{0,127}" + END: ["region=eu", "age:18-25", "age_65+"],
    r"^[A-Za-z0-9_.:-]{1,128}" + END: ["auc", "latency_p95_ms", "f1:macro"],
    r"^[^@\s<>]+@[^@\s<>]+" + END: ["alice@example.com"],
    r"^[^@\s]+@[^@\s]+" + END: ["alice@example.com"],
    r"^[^\s]+" + END: ["git@github.com:acme/models.git", "https://example.com/x"],
    r"^[a-z0-9][a-z0-9._-]{0,127}" + END: ["ok", "fraud-risk", "fraud-risk-1.2.0-01"],
    r"^sha256:[0-9a-f]{64}" + END: [f"sha256:{HEX64}"],
    r"^sha256:[a-f0-9]{64}" + END: [f"sha256:{HEX64}"],
    # the model card skeleton's placeholder (governance.card_skeleton): one line of text
    r"^TODO:[^\x00-\x1f\x7f\u2028\u2029]*" + END: ["TODO: YYYY-MM-DD", "TODO:"],
    r"^[1-9][0-9]{0,5}(m|h|d)" + END: ["30m", "12h", "7d", "365d"],
    r"^[^\x00-\x1f\x7f\u2028\u2029]{1,255}" + END: [
        "example.com/team-a/models", "\u00e9quipe/mod\u00e8les"],
}
BREAKS = ("\n", "\r\n", "\r", "\u2028", "\u2029")


def _patterns(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """(location, pattern) for every `pattern` keyword, and every `patternProperties` key."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield where, value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from ((f"{where}/patternProperties", p) for p in value)
                yield from _patterns(value, f"{where}/{key}")
            else:
                yield from _patterns(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _patterns(value, f"{where}/{i}")


SHIPPED = [(f"{path.name}#{where}", pattern)
           for path in SCHEMAS
           for where, pattern in _patterns(json.loads(path.read_text("utf-8")), "")]


def _variants(good: str) -> list[str]:
    """The example with a line break appended, prepended and inserted (where it is non-empty)."""
    out = []
    for br in BREAKS:
        out += [good + br, br + good]
        out += [good[:i] + br + good[i:] for i in range(1, len(good))]
    return out


def test_the_walk_finds_the_patterns_of_every_schema() -> None:
    # evaluation.schema.json (the --from-eval file, issue 15), org-trust.schema.json (issue 19)
    assert len(SCHEMAS) == 9
    assert {p.name for p in SCHEMAS} == {loc.split("#")[0] for loc, _ in SHIPPED}
    assert len(SHIPPED) > 80  # nested ones included ($defs, oneOf, items, propertyNames)


def test_every_pattern_has_examples() -> None:
    missing = sorted({p for _, p in SHIPPED} - set(EXAMPLES))
    assert not missing, f"add valid examples for: {missing}"
    unused = sorted(set(EXAMPLES) - {p for _, p in SHIPPED})
    assert not unused, f"examples for patterns no schema has: {unused}"


@pytest.mark.parametrize(("where", "pattern"), SHIPPED, ids=[w for w, _ in SHIPPED])
def test_pattern_matches_whole_values_only(where: str, pattern: str) -> None:
    assert pattern.startswith("^") and pattern.endswith(END), (where, pattern)
    for good in EXAMPLES[pattern]:
        assert re.search(pattern, good), (where, good)
        for bad in _variants(good):
            assert not re.search(pattern, bad), (where, bad)


_NODE = """
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const wrong = [];
for (const [pattern, good, bad] of cases) {
  for (const flags of ['', 'u']) {
    const rx = new RegExp(pattern, flags);
    for (const g of good) if (!rx.test(g)) wrong.push(['should match', flags, pattern, g]);
    for (const b of bad) if (rx.test(b)) wrong.push(['should not match', flags, pattern, b]);
  }
}
process.stdout.write(JSON.stringify(wrong));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (ECMA check)")
def test_patterns_behave_the_same_in_ecma() -> None:
    cases = [[p, good, [b for g in good for b in _variants(g)]] for p, good in EXAMPLES.items()]
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run([node, "-e", _NODE], input=json.dumps(cases), capture_output=True,
                          text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == []


def test_a_value_with_a_trailing_newline_fails_validation() -> None:
    """Both validators the records use (the fast path and the explaining one) agree."""
    from governance.records import validate_document
    from governance.yaml_source import load_yaml_bytes

    body = ("apiVersion: governance/v1\nkind: Model\nname: \"ok\\n\"\nowner: \"x\\n\"\n"
            "risk_tier: medium\n")
    doc = load_yaml_bytes(body.encode(), "releases/ok/model.yaml")
    problems = validate_document(doc, "Model")
    assert {p.path for p in problems} == {"$.name", "$.owner"}
    assert all(p.line in (3, 4) for p in problems)
