"""`governance demo`: the whole governed lifecycle on a temporary repository.

Real git, real SSH keys for distinct people (trainer, three approvers, on-call) and a CI bot,
the embedded Rego engine and git-native signed approvals. Every step is a real `governance`
command, printed before it runs with the identity that signs it:

register -> gates -> approvals -> promote (staging, production) -> a second release promoted ->
a third release denied for a real reason (a subgroup regression) -> explain at a moment between
promotion and rollback -> rollback with an incident -> status -> ledger verify -> export ->
audit queries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from governance.ci_context import child_environment
from governance.domain.event_types import (
    APPROVAL_GRANTED,
    CONFIG_CHANGED,
    DEPLOYMENT_PROMOTED,
    GATE_EVALUATED,
    MODEL_REGISTERED,
    POLICY_VIOLATION,
    RELEASE_REGISTERED,
    ROLLBACK_EXECUTED,
)
from governance.errors import ConfigurationError
from governance.timeparse import format_rfc3339, utc_now

PEOPLE = {
    "dana": ("Dana Kowalski", "trainer"),
    "alice": ("Alice Moreau", "ml_lead"),
    "bob": ("Bob Okafor", "platform_owner"),
    "jane.smith": ("Jane Smith", "risk_owner"),
    "platform-oncall": ("Platform On-call", "on_call"),
}
BOT = "governance-ci"
MODEL = "fraud-risk"


@dataclass
class Demo:
    root: Path
    keys: Path
    echo: Any
    steps: list[tuple[str, int]] = field(default_factory=list)

    def key(self, who: str) -> Path:
        return self.keys / who

    def run(self, who: str | None, *args: str, expect: int | Sequence[int] = 0,
            show: bool = True) -> str:
        """Run `governance ARGS` in the demo repo, signing as ``who``."""
        env = child_environment({"GOVERNANCE_LEDGER_LOG_KEY": str(self.key("log"))})
        env.pop("GOVERNANCE_LEDGER_SIGNING_KEY", None)
        if who is not None:
            env["GOVERNANCE_LEDGER_SIGNING_KEY"] = str(self.key(who))
        line = "governance " + " ".join(shlex.quote(a) for a in args)
        self.echo(f"\n$ {line}" + (f"    # signed by {who}" if who else ""))
        proc = subprocess.run([sys.executable, "-m",
                               "governance", *args],
                              cwd=self.root if self.root.exists() else self.root.parent, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        out = proc.stdout.strip("\n")
        if show and out:
            self.echo(out)
        if proc.stderr.strip():
            self.echo(proc.stderr.strip())
        allowed = (expect,) if isinstance(expect, int) else tuple(expect)
        self.steps.append((line, proc.returncode))
        if proc.returncode not in allowed:
            raise ConfigurationError(f"demo step failed (exit {proc.returncode}, expected "
                                     f"{allowed}): {line}")
        return out

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True)


def _keygen(path: Path, comment: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(path)], check=True, capture_output=True)
    return Path(f"{path}.pub").read_text().strip()


def _config(keys: dict[str, str], log_pub: str) -> dict[str, Any]:
    people = [{"id": who, "name": name, "email": f"{who}@acme-risk.example",
               "signing_keys": [keys[who]]} for who, (name, _) in PEOPLE.items()]
    roles: dict[str, Any] = {role: {"members": [who]} for who, (_, role) in PEOPLE.items()
                             if role != "trainer"}
    return {
        "apiVersion": "governance/v1", "kind": "GovernanceConfig",
        "organization": "acme-risk", "protected_branch": "main",
        "people": people,
        "bots": [{"id": BOT, "name": "Governance CI", "email": f"{BOT}@acme-risk.example",
                  "signing_keys": [keys[BOT]],
                  "may_emit": [RELEASE_REGISTERED, GATE_EVALUATED, DEPLOYMENT_PROMOTED,
                               CONFIG_CHANGED, POLICY_VIOLATION]}],
        "roles": roles,
        "environments": {
            "staging": {"required_approvals": ["ml_lead"]},
            "production": {"after": "staging",
                           "required_approvals": ["ml_lead", "platform_owner", "risk_owner"]},
        },
        "risk_tiers": {"low": {"approvals_per_role": 1}, "medium": {"approvals_per_role": 1},
                       "high": {"approvals_per_role": 1}},
        "gates": {"latency_p95_ms_max": 50, "metric_minimums": {"auc": 0.9},
                  "subgroup_regression_tolerance": 0.02, "evaluation_max_age_days": 30},
        "waivers": [],
        "ledger": {"branch": "governance/ledger", "origin": "demo.acme-risk.example/models",
                   "checkpoint_every": 100, "rotators": ["bob"], "log_public_key": log_pub},
        "sinks": {"jsonl": {"dir": "audit-export"}},
    }


CARD_FACTS: dict[str, Any] = {
    "training_data_scope": "Card transactions, EU and UK issuers",
    "training_data_window": {"start": "2025-10-01", "end": "2026-03-31"},
    "training_data_exclusions": ["transactions under active chargeback dispute"],
    "known_limitations": ["weaker performance on first-time international merchants"],
}


def fill_card(path: Path, facts: dict[str, Any]) -> None:
    """Replace skeleton placeholders of a model card with ``facts``, keeping its comments."""
    from governance import yaml_edit

    doc = yaml_edit.parse(path.read_text(encoding="utf-8"))
    for key, value in facts.items():
        doc[key] = value
    path.write_text(yaml_edit.render(doc), encoding="utf-8")


RELEASES = [
    # version, auc, precision, latency, intl-merchant slice auc, features, limitation
    ("2026-03-28", 0.93, 0.80, 40, 0.865, "fraud-features-v3"),
    ("2026-04-10", 0.94, 0.81, 42, 0.86, "fraud-features-v3"),
    ("2026-05-06", 0.945, 0.82, 41, 0.81, "fraud-features-v4"),
]


def _write_release(demo: Demo, version: str, auc: float, prec: float, latency: int,
                   intl: float, features: str) -> str:
    now = format_rfc3339(utc_now(), seconds=True)
    evaluation = {"metrics": {"auc": auc, "precision_at_review_queue": prec,
                              "latency_p95_ms": latency},
                  "subgroups": {"first_time_international_merchants": {"auc": intl},
                                "domestic_merchants": {"auc": round(auc + 0.01, 3)}},
                  "test_conditions": {"holdout": "out-of-time, 4 weeks",
                                      "latency_method": "p95 over 100k replayed requests"},
                  "evaluated_at": now}
    ev = demo.root.parent / f"eval-{version}.json"
    ev.write_text(json.dumps(evaluation, indent=2) + "\n")

    def digest(*parts: str) -> str:  # stand-in digests of remote objects
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    rid = f"{MODEL}-{version}-01"
    demo.run("dana", "release", "new", "--model", MODEL, "--version", version,
             "--from-eval", str(ev),
             "--artifact", f"s3://model-registry/{MODEL}/{version}/model.joblib",
             "--sha256", digest("artifact", version),
             "--dataset", f"s3://ml-datasets/fraud/{version}", "--dataset-sha256",
             digest("dataset", version), "--feature-schema", features,
             "--config-version", "risk-thresholds-v4", "--trained-by", "dana")
    # The skeleton's "TODO:" placeholders are what only people and the training pipeline
    # know (the model_card_fields gate denies them until filled): scope, window, exclusions,
    # limitations. Filled here in place, comments kept.
    fill_card(demo.root / "releases" / MODEL / rid / "model-card.yaml", CARD_FACTS)
    demo.git("add", "-A")
    demo.git("commit", "-qm", f"Release {rid}")
    # What the merge workflow does when the release's pull request merges: the tool computes
    # the digest of the committed release and records release_registered (nobody copies it).
    demo.run(BOT, "release", "register", rid)
    return rid


def _approve_all(demo: Demo, rid: str) -> None:
    for who, role in (("alice", "ml_lead"), ("bob", "platform_owner"),
                      ("jane.smith", "risk_owner")):
        demo.run(who, "approve", rid, "--role", role)


@contextlib.contextmanager
def _workspace(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=False)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="governance-demo-") as tmp:
        yield Path(tmp)


def run_demo(echo: Any, keep: Path | None = None) -> list[tuple[str, int]]:
    """Run the demo; returns every command with its exit code. Raises on an unexpected exit."""
    started = time.monotonic()
    with _workspace(keep) as work:
        keys_dir = work / "keys"
        keys_dir.mkdir()
        pubs = {who: _keygen(keys_dir / who, who) for who in [*PEOPLE, BOT]}
        log_pub = _keygen(keys_dir / "log", "checkpoint log key")
        root = work / "repo"
        demo = Demo(root=root, keys=keys_dir, echo=echo)
        echo(f"demo repository: {root} (keys in {keys_dir})")
        demo.run(None, "init", str(root), show=True)
        demo.root = root
        (root / "governance.yaml").write_text(
            "# Demo configuration: five people, one CI bot, real SSH keys.\n"
            + yaml.safe_dump(_config(pubs, log_pub), sort_keys=False))
        demo.git("init", "-q", "-b", "main")
        demo.git("config", "user.name", "Demo")
        demo.git("config", "user.email", "demo@acme-risk.example")
        demo.git("add", "-A")
        demo.git("commit", "-qm", "Governed repository")
        demo.run(None, "validate")
        demo.run("bob", "ledger", "init")
        demo.run("bob", "model", "new", MODEL, "--owner", "risk-platform", "--risk-tier",
                 "high", "--title", "Fraud risk scoring")
        # The model owner states purpose and boundaries once; release cards inherit them.
        model_file = root / "releases" / MODEL / "model.yaml"
        model_doc = yaml.safe_load(model_file.read_text())
        model_doc.update({
            "description": "Scores card transactions so analysts review the riskiest first",
            "intended_use": ["transaction review prioritization"],
            "not_for_use": ["automatic account closure", "credit decisions"]})
        model_file.write_text(model_file.read_text().splitlines()[0] + "\n"
                              + yaml.safe_dump(model_doc, sort_keys=False))
        demo.git("add", "-A")
        demo.git("commit", "-qm", "Register fraud-risk")
        demo.run("dana", "ledger", "append", "--type", MODEL_REGISTERED,
                 "--field", f"model_name={MODEL}")

        first = _write_release(demo, *RELEASES[0])
        demo.run(None, "check", first)
        _approve_all(demo, first)
        demo.run(BOT, "promote", first, "--env", "staging")
        demo.run(BOT, "promote", first, "--env", "production")

        second = _write_release(demo, *RELEASES[1])
        _approve_all(demo, second)
        echo("\n# Environments come in governance.yaml's order; the CLI names the next one "
             "(as the promote workflows ask it):")
        for _ in range(2):
            target = demo.run(None, "env", "next", second)
            demo.run(BOT, "promote", second, "--env", target)
        demo.run(None, "env", "next", second, expect=1)
        time.sleep(1.1)
        moment = format_rfc3339(utc_now(), seconds=True)
        time.sleep(1.1)

        third = _write_release(demo, *RELEASES[2])
        echo("\n# The third release is better overall but regresses a sensitive slice:")
        demo.run(None, "check", third, "--env", "production", expect=1)

        echo("\n# Production incident inc-4821: latency regression and elevated false "
             "positives on the 2026-04-10 release. On-call rolls back:")
        demo.run("platform-oncall", "rollback", MODEL, "--env", "production", "--reason",
                 "latency regression and elevated false positive rate", "--incident",
                 "inc-4821")
        demo.run(None, "status", MODEL)
        echo(f"\n# What was live at {moment}, between the promotion and the rollback?")
        demo.run(None, "explain", MODEL, "--env", "production", "--at", moment)
        demo.run(None, "live", MODEL, "--env", "production", "--at", moment)
        demo.run(None, "audit", "query", "--type", ROLLBACK_EXECUTED, "--incident",
                 "inc-4821")
        demo.run(None, "audit", "query", "--model", MODEL, "--type", APPROVAL_GRANTED,
                 "--since", "12mo")
        demo.run(None, "ledger", "verify")
        echo("\n# The pointer files deployment systems watch, regenerated from the ledger onto "
             "the governance/environments branch, and checked against it:")
        demo.run(BOT, "env", "publish")
        demo.run(None, "env", "verify", "--ref", "governance/environments")
        demo.run(None, "audit", "export", "--sink", "jsonl")
        demo.run(None, "audit", "verify-sink", "--sink", "jsonl")
        echo(f"\ndemo finished in {time.monotonic() - started:.1f}s: "
             f"{len(demo.steps)} commands, every exit code as expected")
        return demo.steps


def main(echo: Any, keep: Path | None = None) -> None:
    try:
        run_demo(echo, keep)
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        raise ConfigurationError(f"a demo prerequisite failed: {err}",
                                 hint="the demo needs git and ssh-keygen") from None
