"""Builds tests/data/{valid,invalid}: governed documents and the message each must produce.

Each invalid case is a file or a directory (a small governed repository) named ``<case>``
beside ``<case>.expect``: one expected substring of the CLI output per line, and optionally a
first line ``args: ...`` with extra `governance validate` arguments. Re-run after changing a
case: ``python tools/build_corpus.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "tests" / "data"
HDR = "apiVersion: governance/v1\n"
SHA = "0123456789abcdef" * 4

RELEASE = f"""{HDR}kind: Release
release_id: demo-2026-01-01-01
model_name: demo
model_version: "2026-01-01"
git_commit: 9af31d2
training_dataset: {{uri: "s3://datasets/demo/2025-12", sha256: {SHA}}}
feature_schema_version: demo-features-v1
artifact:
  uri: s3://registry/demo/2026-01-01/model.joblib
  sha256: {SHA}
evaluation_report: {{uri: "s3://registry/demo/2026-01-01/eval.json", sha256: {SHA}}}
config_version: demo-thresholds-v1
trained_by: dana
rollback_target: {{disable: true, reason: first release}}
created_at: "2026-01-01T08:00:00Z"
"""

CARD = f"""{HDR}kind: ModelCard
model_name: demo
version: "2026-01-01"
release_id: demo-2026-01-01-01
purpose: Demonstrates the corpus
owner: risk-platform
intended_use: [testing]
not_for_use: [production decisions]
training_data_window: {{start: "2025-01-01", end: "2025-12-31"}}
metrics: {{auc: 0.9, latency_p95_ms: 40}}
subgroups: {{new_customers: {{auc: 0.88}}}}
known_limitations: [small corpus]
"""

MODEL = f"""{HDR}kind: Model
name: demo
owner: risk-platform
risk_tier: medium
"""

CONFIG = f"""{HDR}kind: GovernanceConfig
people:
  - {{id: dana, name: Dana, email: dana@example.com}}
roles:
  ml_lead: {{members: [dana]}}
environments:
  production: {{required_approvals: [ml_lead]}}
"""

ENV = f"""{HDR}kind: EnvironmentState
environment: production
models:
  demo: {{release_id: demo-2026-01-01-01, promoted_at: "2026-01-02T10:00:00Z"}}
"""


def mini_repo(root: Path, release: str = RELEASE, card: str | None = CARD,
              release_dir: str = "demo-2026-01-01-01", model: str | None = MODEL) -> Path:
    (root / "releases" / "demo").mkdir(parents=True)
    (root / "governance.yaml").write_text(CONFIG)
    if model is not None:
        (root / "releases" / "demo" / "model.yaml").write_text(model)
    d = root / "releases" / "demo" / release_dir
    d.mkdir()
    (d / "release.yaml").write_text(release)
    if card is not None:
        (d / "model-card.yaml").write_text(card)
    return d


def case(name: str, content: bytes | str, *expect: str) -> None:
    path = HERE / "invalid" / f"{name}.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    (HERE / "invalid" / f"{name}.expect").write_text("\n".join(expect) + "\n")


def dir_case(name: str, *expect: str) -> Path:
    (HERE / "invalid" / f"{name}.expect").write_text("\n".join(expect) + "\n")
    return HERE / "invalid" / name


def main() -> None:
    for sub in ("valid", "invalid"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
        (HERE / sub).mkdir(parents=True)

    # --- valid -------------------------------------------------------------------------
    (HERE / "valid" / "release.yaml").write_text(RELEASE)
    (HERE / "valid" / "model-card.yaml").write_text(CARD)
    (HERE / "valid" / "model.yaml").write_text(MODEL)
    (HERE / "valid" / "environment.yaml").write_text(ENV)
    (HERE / "valid" / "anchors-ok.yaml").write_text(
        CARD.replace("intended_use: [testing]", "intended_use: &uses [testing]")
        .replace("not_for_use: [production decisions]", "not_for_use: [production decisions]")
        + "escalation_path: [risk-platform]\n")
    d = mini_repo(HERE / "valid" / "repo")
    (d / "evidence").mkdir()
    (d / "evidence" / "eval.json").write_bytes(b'{"metrics": {"auc": 0.9}}\n')
    digest = hashlib.sha256(b'{"metrics": {"auc": 0.9}}\n').hexdigest()
    (d / "release.yaml").write_text(RELEASE.replace(
        f'evaluation_report: {{uri: "s3://registry/demo/2026-01-01/eval.json", sha256: {SHA}}}',
        f"evaluation_report: {{uri: evidence/eval.json, sha256: {digest}, "
        "path: evidence/eval.json}"))
    (HERE / "valid" / "repo" / "environments").mkdir()
    (HERE / "valid" / "repo" / "environments" / "production.yaml").write_text(ENV)
    llm = RELEASE.replace("config_version: demo-thresholds-v1",
                          "config_version: demo-thresholds-v1\nprompt_version: prompt-v3\n"
                          "policy_version: safety-v2")
    (HERE / "valid" / "llm-release.yaml").write_text(llm)

    # --- invalid: YAML level ------------------------------------------------------------
    case("malformed", RELEASE.replace("sha256: {SHA}}}".replace("{SHA}", SHA), "sha256: x", 1)
         .replace("artifact:\n", "artifact: [\n"), "malformed-yaml" if False else "malformed YAML")
    case("tab-indentation", RELEASE.replace("  uri: s3://registry", "\turi: s3://registry"),
         "tab-indentation.yaml:10 $: tab character used for indentation")
    case("duplicate-keys", RELEASE + "model_name: demo\n",
         "duplicate-keys.yaml:17 $.model_name: duplicate key 'model_name' (first defined on "
         "line 4)")
    case("alias-bomb", "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n"
        for i in range(8)), "possible alias bomb")
    case("oversized", RELEASE + "# padding\n" * 60, "args: --max-file-size 512",
         "over the limit of 512 bytes")
    case("binary", b"apiVersion: governance/v1\x00\x01\x02kind: Release\n",
         "binary.yaml:1 $: file is binary (contains a NUL byte)")
    case("empty", "", "empty.yaml:1 $: file is empty")
    case("byte-order-mark", b"\xef\xbb\xbf" + RELEASE.encode(),
         "byte-order-mark.yaml:1 $: file starts with a byte-order mark")
    case("not-utf8", RELEASE.encode().replace(b"dana", b"d\xe9na"),
         "not-utf8.yaml:14 $: file is not valid UTF-8")
    case("multiple-documents", RELEASE + "---\n" + CARD, "expected a single YAML document")
    case("merge-key", "base: &b {owner: x}\n" + MODEL + "<<: *b\n", "merge keys ('<<')")
    case("scalar-document", "just a sentence\n", "found a str, expected a mapping")

    # --- invalid: schema level ----------------------------------------------------------
    case("wrong-apiversion", RELEASE.replace("governance/v1", "governance/v0"),
         "wrong-apiversion.yaml:1 $.apiVersion: found apiVersion 'governance/v0', expected "
         "'governance/v1'")
    case("unknown-kind", RELEASE.replace("kind: Release", "kind: Deployment"),
         "$.kind: found kind 'Deployment', expected one of Release")
    case("missing-required", RELEASE.replace("release_id: demo-2026-01-01-01\n", ""),
         "missing-required.yaml:1 $: missing required field 'release_id'")
    case("unknown-field", RELEASE.replace("trained_by:", "traned_by:"),
         "unknown-field.yaml:14 $.traned_by: unknown field 'traned_by' (did you mean "
         "'trained_by'?)")
    case("rsa-signing-key", (
        "apiVersion: governance/v1\nkind: GovernanceConfig\norganization: example-org\n"
        "protected_branch: main\npeople:\n  - id: alice\n    name: Alice\n"
        "    email: alice@example.org\n"
        '    signing_keys: ["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 alice"]\n'
        "roles:\n  ml_lead: {members: [alice]}\n"
        "environments:\n  staging: {required_approvals: [ml_lead]}\n"),
        "rsa-signing-key.yaml:9 $.people[0].signing_keys[0]: 'ssh-rsa "
        "AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 alice' is not an OpenSSH public key line 'ssh-ed25519 "
        "AAAA...' or 'sk-ssh-ed25519@openssh.com AAAA...' (RSA and ECDSA keys are not "
        "supported)")
    case("wrong-type", CARD.replace("auc: 0.9,", "auc: high,"),
         "wrong-type.yaml:11 $.metrics.auc: found 'high', expected a number")
    case("bad-sha256", RELEASE.replace(f"  sha256: {SHA}", "  sha256: abc123"),
         "bad-sha256.yaml:11 $.artifact.sha256: 'abc123' is not a sha256 digest")
    case("unquoted-numeric-sha256", RELEASE.replace(f"  sha256: {SHA}", "  sha256: " + "0" * 63
                                                    + "7"),
         "$.artifact.sha256: found " + "0" * 63 + "7 unquoted, which YAML reads as number 7")
    case("uppercase-sha256", RELEASE.replace(f"  sha256: {SHA}", "  sha256: " + "AB" * 32),
         "$.artifact.sha256:", "uppercase is rejected, not normalised")
    case("impossible-date", RELEASE.replace("2026-01-01T08:00:00Z", "2026-02-30T08:00:00Z"),
         "impossible-date.yaml:16 $.created_at: '2026-02-30T08:00:00Z' is not a real date "
         "and time")
    case("impossible-calendar-date", CARD.replace('start: "2025-01-01"', 'start: "2025-13-01"'),
         "$.training_data_window.start: '2025-13-01' is not a real calendar date")
    case("not-a-slug", RELEASE.replace("model_name: demo", "model_name: Fraud Risk"),
         "not-a-slug.yaml:4 $.model_name: 'Fraud Risk' is not a slug")
    case("non-finite-metric", CARD.replace("auc: 0.9,", "auc: .nan,"),
         "non-finite-metric.yaml:11 $.metrics.auc: found nan, expected a finite number")
    case("card-with-approvals", CARD + "approvals: {risk_owner: approved}\n",
         "$.approvals: unexpected field", "approval status is derived from the ledger")
    case("rollback-target-shape", RELEASE.replace(
        "rollback_target: {disable: true, reason: first release}", "rollback_target: yesterday"),
         "$.rollback_target: found 'yesterday', expected {release_id:")
    case("bad-risk-tier", MODEL.replace("risk_tier: medium", "risk_tier: extreme"),
         "$.risk_tier: 'extreme' is not low, medium or high")

    # --- invalid: directory level (cross-references, evidence) --------------------------
    mini_repo(dir_case("release-id-mismatch",
                       "release.yaml:3 $.release_id: release_id 'demo-2026-01-01-01' does not "
                       "match its directory 'demo-2026-01-01-02'"),
              release_dir="demo-2026-01-01-02",
              card=CARD.replace("demo-2026-01-01-01", "demo-2026-01-01-02"))
    d = mini_repo(dir_case("path-traversal",
                           "$.evaluation_report.path: evidence path '../../../governance.yaml' "
                           "escapes the release directory"),
                  release=RELEASE.replace(
                      f'evaluation_report: {{uri: "s3://registry/demo/2026-01-01/eval.json", '
                      f'sha256: {SHA}}}',
                      f"evaluation_report: {{uri: eval.json, sha256: {SHA}, "
                      "path: ../../../governance.yaml}"))
    d = mini_repo(dir_case("absolute-evidence-path",
                           "$.evaluation_report.path: evidence path '/etc/passwd' is absolute"),
                  release=RELEASE.replace(
                      f'evaluation_report: {{uri: "s3://registry/demo/2026-01-01/eval.json", '
                      f'sha256: {SHA}}}',
                      f"evaluation_report: {{uri: eval.json, sha256: {SHA}, path: /etc/passwd}}"))
    d = mini_repo(dir_case("symlink-escape",
                           "$.evaluation_report.path: evidence path 'evidence/eval.json' is a "
                           "symbolic link pointing outside the release directory"),
                  release=RELEASE.replace(
                      f'evaluation_report: {{uri: "s3://registry/demo/2026-01-01/eval.json", '
                      f'sha256: {SHA}}}',
                      f"evaluation_report: {{uri: eval.json, sha256: {SHA}, "
                      "path: evidence/eval.json}"))
    (d / "evidence").mkdir()
    os.symlink("../../../../governance.yaml", d / "evidence" / "eval.json")
    d = mini_repo(dir_case("evidence-digest-mismatch",
                           "$.evaluation_report.sha256: sha256 does not match evidence/eval.json"),
                  release=RELEASE.replace(
                      f'evaluation_report: {{uri: "s3://registry/demo/2026-01-01/eval.json", '
                      f'sha256: {SHA}}}',
                      f"evaluation_report: {{uri: eval.json, sha256: {SHA}, "
                      "path: evidence/eval.json}"))
    (d / "evidence").mkdir()
    (d / "evidence" / "eval.json").write_text('{"metrics": {"auc": 0.99}}\n')
    mini_repo(dir_case("dangling-rollback-target",
                       "release.yaml:15 $.rollback_target.release_id: release "
                       "'demo-2025-12-01-01' does not exist"),
              release=RELEASE.replace("rollback_target: {disable: true, reason: first release}",
                                      "rollback_target: {release_id: demo-2025-12-01-01}"))
    mini_repo(dir_case("missing-model-card", "model-card.yaml $: missing model card"), card=None)
    mini_repo(dir_case("unknown-model", "$.model_name: unknown model 'demo'",
                       "governance model new demo"), model=None)
    mini_repo(dir_case("card-mismatch",
                       "model-card.yaml:4 $.version: model card says '2025-12-31', the release "
                       "record says '2026-01-01'"),
              card=CARD.replace('version: "2026-01-01"', 'version: "2025-12-31"'))
    mini_repo(dir_case("baseline-self", "$.baseline: 'demo-2026-01-01-01' refers to this "
                       "release itself"),
              release=RELEASE.replace("trained_by: dana",
                                      "trained_by: dana\nbaseline: demo-2026-01-01-01"))

    # --- invalid: hostile values and semantic bounds (issue 16) ---------------------------
    case("non-string-key", CARD.replace("auc: 0.9,", "auc: 0.9, 1: 2,"),
         "non-string-key.yaml:11 $.metrics.1: found key '1', which YAML reads as a number; "
         "expected a string key (quote it: '1')")
    case("null-key", CARD + "~: 2\n",
         "null-key.yaml:14 $['~']: found key '~', which YAML reads as null")
    case("long-integer", RELEASE.replace('model_version: "2026-01-01"',
                                         "model_version: " + "9" * 5000),
         "long-integer.yaml:5 $.model_version: found an integer written with 5000 digits, "
         "expected a number of at most 100 digits")
    case("deep-nesting", CARD + "test_conditions: " + "[" * 70 + "]" * 70 + "\n",
         "$.test_conditions" + "[0]" * 64 + ": nesting deeper than 64 levels")
    case("negative-latency", CARD.replace("latency_p95_ms: 40", "latency_p95_ms: -38.25"),
         "negative-latency.yaml:11 $.metrics.latency_p95_ms: found number -38.25, expected a "
         "number >= 0")
    case("negative-count", CARD.replace("{new_customers: {auc: 0.88}}",
                                        "{new_customers: {auc: 0.88, n_rows: -5}}"),
         "negative-count.yaml:12 $.subgroups.new_customers.n_rows: found number -5, expected a "
         "number >= 0")
    case("metric-magnitude", CARD.replace("auc: 0.9,", "auc: 2.0e+16,"),
         "metric-magnitude.yaml:11 $.metrics.auc: found number 2e+16, expected a number <= "
         "1000000000000000")
    case("year-before-1970", RELEASE.replace("2026-01-01T08:00:00Z", "0001-01-01T00:00:00Z"),
         "year-before-1970.yaml:16 $.created_at: '0001-01-01T00:00:00Z' is not an RFC 3339 "
         "timestamp with an offset, such as 2026-04-10T09:14:11Z, in the years 1970 to 2200")
    case("year-after-2200", CARD.replace('end: "2025-12-31"', 'end: "2201-01-01"'),
         "year-after-2200.yaml:10 $.training_data_window.end: '2201-01-01' is not a calendar "
         "date YYYY-MM-DD in the years 1970 to 2200")
    case("timestamp-without-offset", CARD + 'evaluated_at: "2026-01-01T08:00:00"\n',
         "$.evaluated_at: '2026-01-01T08:00:00' is not an RFC 3339 timestamp with an offset")
    case("text-too-long", CARD.replace("purpose: Demonstrates the corpus",
                                       "purpose: " + "x" * 16_385),
         "text-too-long.yaml:6 $.purpose: found a string of 16385 characters, expected at "
         "most 16384 characters")
    case("list-too-long", CARD.replace("known_limitations: [small corpus]",
                                       "known_limitations: [" + ", ".join(["x"] * 1001) + "]"),
         "list-too-long.yaml:13 $.known_limitations: found a list of 1001 items, expected at "
         "most 1000 items")
    case("too-many-metrics", CARD.replace("metrics: {auc: 0.9, latency_p95_ms: 40}",
                                          "metrics: {" + ", ".join(f"m{i}: 1"
                                                                   for i in range(10_001)) + "}"),
         "too-many-metrics.yaml:11 $.metrics: found a mapping of 10001 entries, expected at "
         "most 10000 entries")
    case("test-condition-bounds", CARD + "test_conditions: {holdout: {weeks: 1.0e+300}}\n",
         "$.test_conditions.holdout.weeks: found number 1e+300, expected a number <= "
         "1000000000000000")
    config = CONFIG + "ledger: {checkpoint_every: 5000000, clock_skew_seconds: -1}\n"
    case("config-bounds", config.replace("kind: GovernanceConfig\n",
                                         "kind: GovernanceConfig\nlimits: "
                                         "{max_file_bytes: 99999999999}\n"),
         "config-bounds.yaml:3 $.limits.max_file_bytes: found number 99999999999, expected a "
         "number <= 1073741824",
         "$.ledger.checkpoint_every: found number 5000000, expected a number <= 1000000",
         "$.ledger.clock_skew_seconds: found number -1, expected a number >= 0")
    case("gate-threshold-bounds", CONFIG + "gates: {latency_p95_ms_max: 0, "
         "evaluation_max_age_days: 1000000}\n",
         "$.gates.latency_p95_ms_max: found number 0, expected a number > 0",
         "$.gates.evaluation_max_age_days: found number 1000000, expected a number <= 100000")
    case("ledger-seq-bounds", ENV.replace("promoted_at:", "ledger_seq: 9223372036854775808, "
                                          "promoted_at:"),
         "$.models.demo.ledger_seq: found number 9223372036854775808, expected a number <= "
         "9223372036854775807")
    d = mini_repo(dir_case("ratio-out-of-range",
                           "model-card.yaml:11 $.metrics.auc: found number 1.3, expected a ratio "
                           "in [0, 1] (governance.yaml ratio_metrics declares 'auc' a ratio)"),
                  card=CARD.replace("auc: 0.9,", "auc: 1.3,"))
    (d.parent.parent.parent / "governance.yaml").write_text(CONFIG + "ratio_metrics: [auc]\n")
    d = mini_repo(dir_case("release-yaml-directory",
                           "release.yaml $: found a directory, expected a regular file"))
    (d / "release.yaml").unlink()
    (d / "release.yaml").mkdir()
    (d / "release.yaml" / "kept-by-git").write_text("git keeps no empty directory\n")
    d = mini_repo(dir_case("evidence-path-directory",
                           "$.evaluation_report.path: evidence path 'evidence' is a directory, "
                           "expected a regular file"),
                  release=RELEASE.replace(
                      f'evaluation_report: {{uri: "s3://registry/demo/2026-01-01/eval.json", '
                      f'sha256: {SHA}}}',
                      f"evaluation_report: {{uri: eval.json, sha256: {SHA}, path: evidence}}"))
    (d / "evidence").mkdir()
    (d / "evidence" / "eval.json").write_text('{"metrics": {"auc": 0.9}}\n')
    d = mini_repo(dir_case("linked-release-directory",
                           "releases/demo/demo-2026-01-01-02 $: found a symbolic link to "
                           "'demo-2026-01-01-01', expected a directory or a regular file"))
    os.symlink("demo-2026-01-01-01", d.parent / "demo-2026-01-01-02")
    print(f"{len(list((HERE / 'invalid').glob('*.expect')))} invalid cases")


if __name__ == "__main__":
    main()
