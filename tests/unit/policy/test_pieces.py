"""Unit tests of the policy package's pure pieces: escaping, errors, lint, digest, input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.policy.bundle import PolicyFile, git_tree_id, load_bundle
from governance.policy.engines.rego_errors import gate_rules, line_col, locate_term, translate
from governance.policy.input import compare_versions, parse_time, rfc3339, to_ns, waivers_data
from governance.policy.lint import lint_bundle, lint_file
from governance.policy.metadata import gate_annotations
from governance.policy.report import escape_data, escape_property, workflow_command

ROOT = Path(__file__).resolve().parents[3]


# --- GitHub workflow-command escaping (actions/toolkit command.ts) -------------------------------


def test_escape_data_and_properties() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = workflow_command("error", "bad\n::warning::x", file="a,b:c.yaml", line=3, title="t")
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3,title=t::bad%0A::warning::x"


@given(st.text())
def test_escaped_values_cannot_break_out(text: str) -> None:
    line = workflow_command("warning", text, title=text)
    assert "\n" not in line and "\r" not in line
    props = line.split("::")[1]
    assert props.count(",") == 0  # a single property: commas inside it are escaped


# --- regopy error translation --------------------------------------------------------------------


def test_sexpr_error_gets_file_line_col() -> None:
    source = "package p\ndeny contains msg if { msg := \n}\n"
    text = (
        "(rego-errorseq\n  (error 6:t.rego|37|2\n    (errormsg 27:Invalid assignment operator)\n"
        "    (errorast |37|2\n      (rego-assign |37|2))\n    (rego-errorcode)))\n"
    )
    (diag,) = translate(text, lambda name: source if name == "t.rego" else None)
    assert diag.message == "Invalid assignment operator"
    assert diag.location is not None
    assert diag.location.render() == "t.rego:2:28"  # what rego-cpp itself prints


def test_line_col_counts_utf8_bytes() -> None:
    assert line_col("é\nab", 4) == (2, 2)


# --- lint ----------------------------------------------------------------------------------------


def test_gate_rules_and_their_spans() -> None:
    src = ("package governance.gates.latency\n\nimport rego.v1\n\n"
           "deny_latency contains m if {\n\tm := \"é\"\n\tx := to_number(\"a\")\n}\n\n"
           "helper := 1\n\n"
           "deny_latency contains m if {\n\tm := to_number(\"a\")\n}\n"
           "warn_slow contains m if { m := \"b\" }\n")
    rules = gate_rules([("policies/latency.rego", src)])
    assert [(r.ref, r.line) for r in rules] == [
        ("governance.gates.latency.deny_latency", 5),
        ("governance.gates.latency.deny_latency", 12),
        ("governance.gates.latency.warn_slow", 15)]
    first = rules[0]
    assert src[first.start:first.end].rstrip().endswith("}")  # up to the next statement
    spans = [(r.file, src, r.start, r.end) for r in rules[:1]]
    at = locate_term('to_number("a")', spans)
    assert at is not None and (at.line, at.col) == (7, 7)  # characters, not bytes
    both = [(r.file, src, r.start, r.end) for r in rules[:2]]
    assert locate_term('to_number("a")', both) is None  # twice: no guess
    assert locate_term("absent", both) is None


def test_default_policies_lint_clean() -> None:
    assert lint_bundle(load_bundle(ROOT / "policies")) == []


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("deny[msg] { msg := 1 }", "rego-v0"),
        ("allow { true }", "rego-v0"),
        ('m := sprintf("%q", [1])', "sprintf-q"),
        ('v := semver.compare("1.0.0", "2.0.0")', "semver"),
        ("t if { x with input as {} }", "with-input-document"),
        ("t if { x with input.config as fx.config }", "with-rule-reference"),
    ],
)
def test_lint_rejects_with_reason_and_location(line: str, rule: str) -> None:
    findings = lint_file(PolicyFile("policies/bad.rego", f"package p\n\n{line}\n"))
    assert [f.rule for f in findings] == [rule]
    assert findings[0].line == 3 and findings[0].render().startswith("policies/bad.rego:3:")


def test_lint_rejects_gate_without_metadata() -> None:
    src = "package governance.gates\n\ndeny_x contains 1 if { true }\n"
    (finding,) = lint_file(PolicyFile("policies/x.rego", src))
    assert finding.rule == "gate-metadata" and "deny_x" in finding.message
    partial = "package g\n\n# METADATA\n# title: T\ndeny_y contains 1 if { true }\n"
    (finding,) = lint_file(PolicyFile("policies/y.rego", partial))
    assert "lacks description, custom.gate_id" in finding.message
    # read with the project's YAML loader: a duplicate key is refused, not silently merged
    twice = ("package g\n\n# METADATA\n# title: T\n# title: U\n# description: d\n"
             "# custom:\n#   gate_id: g\ndeny_z contains 1 if { true }\n")
    (finding,) = lint_file(PolicyFile("policies/z.rego", twice))
    assert "METADATA of deny_z is not YAML: duplicate key 'title'" in finding.message


def test_comment_text_is_not_linted() -> None:
    assert lint_file(PolicyFile("p.rego", "package p\n\n# deny[msg] { semver.compare() }\n")) == []


def test_string_text_is_not_code_but_a_hash_in_a_string_hides_nothing() -> None:
    in_strings = ('package p\n\nimport rego.v1\n\nm := "call semver.compare( only in Go"\n'
                  "r := `with input as {}`\n")
    assert lint_file(PolicyFile("p.rego", in_strings)) == []
    # a '#' or an escaped quote inside a string does not end the line's code
    after = 'package p\n\nimport rego.v1\n\nx := concat("#\\"", [semver.compare("1", "2")])\n'
    (finding,) = lint_file(PolicyFile("p.rego", after))
    assert (finding.rule, finding.line, finding.col) == ("semver", 5, 21)
    # the sprintf format is a string, and that is where %q is looked for
    (finding,) = lint_file(PolicyFile("p.rego", 'package p\n\nm := sprintf("%q", ["a"])\n'))
    assert finding.rule == "sprintf-q"


def test_every_default_gate_is_annotated() -> None:
    gates = gate_annotations(load_bundle(ROOT / "policies"))
    assert set(gates) == {
        "required_artifacts", "model_card_fields", "required_approvals", "release_status",
        "latency", "metric_thresholds", "subgroup_regression", "rollback_target",
        "evaluation_freshness", "digest_unchanged", "separation_of_duties",
    }
    assert all(a.title and a.description for a in gates.values())


# --- bundle digest -------------------------------------------------------------------------------


def test_bundle_digest_is_gits_tree_id(tmp_path: Path) -> None:
    pol = tmp_path / "repo" / "policies"
    (pol / "sub").mkdir(parents=True)
    (pol / "a.rego").write_text("package a\n")
    (pol / "sub" / "b.rego").write_text("package b\n")
    (pol / "run.sh").write_text("#!/bin/sh\n")
    (pol / "run.sh").chmod(0o755)
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "p"], check=True)
    expected = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD:policies"], check=True,
        capture_output=True, text=True,
    ).stdout.strip()
    assert git_tree_id(pol) == expected
    (pol / "a.rego").write_text("package a\n\nx := 1\n")
    assert git_tree_id(pol) != expected


# --- input normalisation -------------------------------------------------------------------------


def test_times_are_normalised_to_offset_form_and_ns() -> None:
    moment = parse_time("2026-01-01T00:00:00Z")
    assert rfc3339(moment) == "2026-01-01T00:00:00+00:00"
    assert to_ns(moment) == 1767225600000000000
    assert to_ns(parse_time("2026-01-01T01:00:00+01:00")) == 1767225600000000000


def test_versions_compare_numerically() -> None:
    assert compare_versions("1.10.0", "1.9.0") == 1  # regopy's semver.compare says -1
    assert compare_versions("2026-05-06", "2026-04-10") == 1
    assert compare_versions("1.0.0", "1.0.0") == 0
    assert compare_versions("1.0.0", None) is None


def test_waiver_date_expires_at_end_of_day() -> None:
    from governance.domain.config import Waiver

    data = waivers_data([Waiver("latency", "m", "bob", "why", "2026-06-30")])
    assert data["waivers"][0]["expires_ns"] == to_ns(parse_time("2026-07-01T00:00:00Z"))
