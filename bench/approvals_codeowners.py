"""Benchmark: CODEOWNERS matching and approval counting at the scale of a large PR.

Compares, in the same run, our matcher (parse + last-matching owner for every changed file)
against `git check-ignore --no-index --stdin -v` given the same patterns as a .gitignore (the
tool a user would otherwise reach for; its "last matching pattern" is the same question), and
times the required-approvals gate's verdict over many reviews (facts normalised, then the gate
evaluated by the embedded engine; the engine load is timed apart).

    .venv/bin/python bench/approvals_codeowners.py [--models 300] [--files 3000] [--reviews 1000]
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from governance.approvals.codeowners import parse
from governance.approvals.facts import (
    ApprovalFacts,
    ApprovalPolicy,
    PullRequest,
    Review,
    RoleDefinition,
    required_roles,
)
from governance.approvals.pull_request import gate_facts
from governance.policy.approval_standing import pull_request_standing
from governance.policy.bundle import load_bundle
from governance.policy.engines.select import select_engine

POLICIES = Path(__file__).resolve().parent.parent / "governance" / "scaffold" / "policies"


def synthetic_codeowners(models: int) -> str:
    lines = ["* @platform"]
    for i in range(models):
        lines.append(f"/releases/model-{i}/** @lead{i % 17} @acme/team-{i % 23}")
        lines.append(f"releases/model-{i}/*.md @writer{i % 5}")
    lines += ["/.github/** @bob", "/policies/** @bob", "*.rego @risk", "docs/* @docs"]
    return "\n".join(lines) + "\n"


def synthetic_paths(models: int, files: int, rnd: random.Random) -> list[str]:
    out = []
    for n in range(files):
        m = rnd.randrange(models)
        kind = rnd.choice(["release.yaml", "model-card.yaml", "evidence/eval.json", "NOTES.md"])
        out.append(f"releases/model-{m}/r{n % 40}/{kind}")
    return out


def bench_ours(text: str, paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    co = parse(text)
    owned = sum(1 for p in paths if co.owners_of(p))
    return time.perf_counter() - start, owned


def bench_git(text: str, paths: list[str]) -> float | None:
    if shutil.which("git") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        patterns = "\n".join(line.split()[0] for line in text.splitlines() if line.strip())
        (repo / ".gitignore").write_text(patterns + "\n")
        start = time.perf_counter()
        subprocess.run(
            ["git", "-C", str(repo), "check-ignore", "--no-index", "--stdin", "-v", "-n"],
            input="\n".join(paths) + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        return time.perf_counter() - start


def bench_decide(reviews: int, rnd: random.Random) -> tuple[float, float]:
    """(engine load, normalise + gate verdict) in seconds."""
    head = "a" * 40
    people = [f"user{i}" for i in range(200)]
    policy = ApprovalPolicy(
        required=required_roles(["ml_lead", "platform_owner", "risk_owner"], 2),
        roles={
            "ml_lead": RoleDefinition(frozenset(people[:60])),
            "platform_owner": RoleDefinition(frozenset(people[40:120])),
            "risk_owner": RoleDefinition(frozenset(people[100:])),
        },
    )
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    items = tuple(
        Review(
            i,
            rnd.choice(people),
            rnd.choice(["APPROVED", "COMMENTED", "CHANGES_REQUESTED", "APPROVED"]),
            head if rnd.random() < 0.7 else "b" * 40,
            t0 + timedelta(seconds=i),
        )
        for i in range(reviews)
    )
    facts = ApprovalFacts(
        pull_request=PullRequest(1, head, "c" * 40, "main", "author", False, False),
        reviews=items,
        permissions=dict.fromkeys(people, "write"),
    )
    bundle = load_bundle(POLICIES)
    engine = select_engine("regopy")
    start = time.perf_counter()
    engine.load(bundle, {})
    loaded = time.perf_counter()
    try:
        normalised = gate_facts(policy, facts, 1)
        standing = pull_request_standing(
            bundle, policy, normalised.approvals, number=1, head_sha=head,
            excluded_actors=normalised.excluded_actors, codeowners=normalised.codeowners,
            environment="production", risk_tier="high", engine=engine)
    finally:
        engine.close()
    assert standing.undecided is None, standing.undecided
    return loaded - start, time.perf_counter() - loaded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", type=int, default=300)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--reviews", type=int, default=1000)
    args = ap.parse_args()
    rnd = random.Random(7)
    text = synthetic_codeowners(args.models)
    paths = synthetic_paths(args.models, args.files, rnd)
    rules = len(text.splitlines())
    ours, owned = bench_ours(text, paths)
    git = bench_git(text, paths)
    dec = bench_decide(args.reviews, rnd)
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print(f"CODEOWNERS rules: {rules}, changed files: {len(paths)} (owned: {owned})")
    print(f"ours (parse + match all): {ours * 1000:.1f} ms")
    if git is not None:
        print(f"git check-ignore --stdin (same patterns): {git * 1000:.1f} ms")
        print(f"ratio ours/git: {ours / git:.2f}")
    print(f"gate verdict over {args.reviews} reviews, 3 roles x 2: {dec[1] * 1000:.1f} ms "
          f"(engine load {dec[0] * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
