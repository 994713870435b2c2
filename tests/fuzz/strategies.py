"""Hypothesis strategies: structured documents with hostile values, and mutation cases.

Two sources of input per entry point:
- structured: valid shapes of release.yaml, model-card.yaml, model.yaml, governance.yaml,
  environment state, evaluation JSON and ledger event JSON, built field by field with values
  drawn from hostile pools (controls, bidi, confusables, markup, huge and negative numbers,
  5000-digit integers, odd types);
- mutation: a valid document of the corpus (tests/data/valid, the reference history under
  releases/, the prepared repository's own files) damaged by one to three mutators
  (tests/fuzz/mutate.py), seeded from the draw.

Each strategy yields a ``Case`` with the oracle's verdict (``may_pass``) already attached.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.fuzz import mutate, oracle
from tests.fuzz.harness import MODEL, R1, R1_DIR, ROOT, TARGETS, Case

# --- corpus -------------------------------------------------------------------------------


@cache
def yaml_corpus(prepared: str) -> dict[str, list[bytes]]:
    """kind -> valid documents (the prepared repo's own first: they pass in place)."""
    found: dict[str, list[bytes]] = {kind: [] for kind in TARGETS}
    base = Path(prepared)
    for kind, rel in TARGETS.items():
        found[kind].append((base / rel).read_bytes())
    paths = sorted((ROOT / "tests" / "data" / "valid").glob("*.yaml"))
    paths += sorted((ROOT / "releases").glob("**/*.yaml"))
    paths.append(ROOT / "governance.yaml")
    for path in paths:
        raw = path.read_bytes()
        ok, data = oracle.load_yaml(raw)
        if ok and isinstance(data, dict) and data.get("kind") in found:
            found[data["kind"]].append(raw)
    return found


@cache
def eval_corpus(prepared: str) -> list[bytes]:
    docs = [p.read_bytes() for p in sorted((ROOT / "releases").glob("**/evidence/eval.json"))]
    docs += [p.read_bytes() for p in sorted(Path(prepared).glob("**/evidence/eval.json"))]
    return [d for d in docs if oracle.evaluation_is_valid(d)] or [VALID_EVAL]


VALID_EVAL = json.dumps({
    "metrics": {"auc": 0.93, "latency_p95_ms": 40},
    "subgroups": {"first_time_international_merchants": {"auc": 0.865}},
    "test_conditions": {"holdout": "out-of-time, 4 weeks"},
}).encode()

VALID_EVENT = json.dumps({
    "model_name": MODEL, "release_id": R1, "evaluation": {"auc": 0.93},
    "reason": "nightly re-evaluation",
}).encode()

# --- hostile values -------------------------------------------------------------------------

SNIPPETS = st.sampled_from(mutate.HOSTILE_SNIPPETS)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(SNIPPETS, min_size=1, max_size=4).map("".join),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=8), SNIPPETS, st.text(max_size=8)),
    st.sampled_from(["", " ", "A" * 5000, "fraud-risk", R1, "ml_lead", "alice", "production"]),
)
slug_like = st.one_of(
    st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,20}\Z"),
    st.sampled_from([MODEL, R1, "fraud-risk-2026-03-28-02", "FRAUD-RISK", "fraud_risk",
                     "a" * 128, "a" * 129, "-x", ".", "..", "../etc", "fraud-risk/../x"]),
    hostile_text,
)


class BigInt:
    """An integer rendered by digits, so no int-to-str limit applies while writing."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


hostile_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-38.25, -1, -0.0, 0, 1, 1.5, 1e308, 5e-324]),
    st.sampled_from(["9" * 5000, "-" + "9" * 5000, "1" * 4301]).map(BigInt),
)
hostile_scalar = st.one_of(hostile_text, hostile_number, st.booleans(), st.none())
hostile_value = st.recursive(
    hostile_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(hostile_text, st.integers(), st.none(),
                                                      st.booleans()), inner, max_size=3)),
    max_leaves=6,
)


def render(value: Any) -> str:
    """JSON text (also YAML flow style) with BigInt digits written out and non-string keys
    kept as YAML keys (``{1: 2}``); non-finite floats as YAML/JSON-ish constants."""
    if isinstance(value, BigInt):
        return value.digits
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def render_yaml(doc: dict[str, Any], style: int) -> bytes:
    """Block-style top level (one key per line, values in flow style) or one JSON line."""
    if style == 0:
        return (render(doc) + "\n").encode("utf-8", "surrogatepass")
    lines = [f"{render(k) if not isinstance(k, str) or not k.isidentifier() else k}: "
             f"{render(v)}" for k, v in doc.items()]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


@cache
def _parsed_base(prepared: str, kind: str) -> dict[str, Any]:
    ok, data = oracle.load_yaml(yaml_corpus(prepared)[kind][0])
    assert ok and isinstance(data, dict)
    return data


@st.composite
def structured_yaml(draw: st.DrawFn, prepared: str, kind: str) -> bytes:
    """A document of ``kind`` in its valid shape, some values replaced by hostile ones."""
    doc = dict(_parsed_base(prepared, kind))
    keys = list(doc)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        current = doc[key]
        if isinstance(current, dict) and current and draw(st.booleans()):
            inner = dict(current)
            inner[draw(st.sampled_from(list(inner)))] = draw(hostile_value)
            doc[key] = inner
        else:
            doc[key] = draw(hostile_value)
    if draw(st.integers(0, 4)) == 0:
        doc[draw(hostile_text)] = draw(hostile_value)
    if kind == "ModelCard" and draw(st.integers(0, 3)) == 0:
        doc["metrics"] = draw(st.dictionaries(st.one_of(hostile_text, st.integers(),
                                                        st.none(), st.booleans()),
                                              hostile_number, min_size=1, max_size=3))
    return render_yaml(doc, draw(st.integers(0, 1)))


def _yaml_case(kind: str, raw: bytes, label: str, entry: str, args: list[str]) -> Case:
    valid = oracle.document_is_valid(kind, raw)
    why = "" if valid else (
        "non-string mapping key" if oracle.non_string_keys(raw)
        else f"{kind} document is not valid per its schema")
    if valid and oracle.negative_metrics(kind, raw):
        valid, why = False, "negative latency/count metric"
    return Case(entry, args, {TARGETS[kind]: raw}, may_pass=valid, why_invalid=why,
                label=label)


@st.composite
def yaml_document(draw: st.DrawFn, prepared: str, kinds: tuple[str, ...]) -> tuple[str, bytes,
                                                                                     str]:
    kind = draw(st.sampled_from(kinds))
    if draw(st.integers(0, 2)) == 0:
        return kind, draw(structured_yaml(prepared, kind)), "structured"
    corpus = yaml_corpus(prepared)[kind]
    base = corpus[draw(st.integers(0, len(corpus) - 1))] if draw(st.booleans()) else corpus[0]
    names = draw(st.lists(st.sampled_from(sorted(mutate.MUTATORS)), min_size=1, max_size=3))
    seed = draw(st.integers(0, 2**32 - 1))
    return kind, mutate.mutate(base, names, seed), f"mutate:{'+'.join(names)}:{seed}"


# --- entry points ---------------------------------------------------------------------------


@st.composite
def validate_cases(draw: st.DrawFn, prepared: str) -> Case:
    kind, raw, label = draw(yaml_document(prepared, tuple(TARGETS)))
    args = ["validate"]
    where = draw(st.integers(0, 5))
    if where == 0 and kind in ("Release", "ModelCard"):
        args.append(R1_DIR)
    elif where < 5:
        args.append(TARGETS[kind])  # one file: the whole repository only now and then
    if draw(st.integers(0, 3)) == 0:
        args += ["--format", "json"]
    return _yaml_case(kind, raw, label, "validate", args)


FORMATS = st.sampled_from(["text", "json", "github", "junit", "markdown"])


@st.composite
def check_cases(draw: st.DrawFn, prepared: str) -> Case:
    choice = draw(st.integers(0, 5))
    if choice == 0:  # hostile arguments on the valid repository
        target = draw(st.one_of(slug_like, st.just(R1_DIR)))
        args = ["check", target, "--format", draw(FORMATS)]
        env = draw(st.one_of(st.none(), slug_like))
        if env is not None:
            args += ["--env", env, "--approvals", draw(st.sampled_from(["git", "none"]))]
        # exit 0 only for the real release (readiness or an env its approvals cover)
        may = target in (R1, R1_DIR) and (env is None or env in ("staging", "production"))
        return Case("check", args, may_pass=may, why_invalid="unknown release or environment",
                    label="args")
    kind, raw, label = draw(yaml_document(prepared, ("Release", "ModelCard")))
    args = ["check", draw(st.sampled_from([R1_DIR, R1])), "--format", draw(FORMATS)]
    return _yaml_case(kind, raw, label, "check", args)


def _eval_args(version: str, sha: str, path: str) -> list[str]:
    return ["release", "new", "--model", MODEL, "--version", version, "--from-eval", path,
            "--artifact", f"s3://model-registry/{MODEL}/{version}/model.joblib",
            "--sha256", sha, "--dataset", "s3://ml-datasets/fraud/x",
            "--dataset-sha256", "ab" * 32, "--feature-schema", "fraud-features-v3",
            "--config-version", "risk-thresholds-v4", "--trained-by", "dana",
            "--rollback-to", R1]


eval_metric_value = st.one_of(
    st.floats(min_value=0, max_value=1), hostile_number, st.sampled_from([None, "0.9", True]))


@st.composite
def structured_eval(draw: st.DrawFn) -> bytes:
    names = st.one_of(st.sampled_from(["auc", "latency_p95_ms", "precision_at_1pct",
                                       "recall"]), hostile_text)
    doc: dict[str, Any] = {
        "metrics": draw(st.dictionaries(names, eval_metric_value, min_size=1, max_size=4)),
        "subgroups": draw(st.dictionaries(
            st.one_of(st.sampled_from(["first_time_international_merchants"]), hostile_text),
            st.dictionaries(names, eval_metric_value, max_size=2), max_size=2)),
        "test_conditions": draw(st.dictionaries(hostile_text, hostile_value, max_size=2)),
    }
    if draw(st.booleans()):
        doc["evaluated_at"] = draw(st.one_of(time_text, hostile_value))
    if draw(st.integers(0, 5)) == 0:
        doc = draw(st.sampled_from([[doc], {"metrics": doc}, {"x": 1}]))
    return render(doc).encode("utf-8", "surrogatepass")


time_text = st.one_of(
    st.sampled_from([
        "now", "30d", "12mo", "1y", "24h", "90s", "15min", "2w", "0d", "999999d", "1000000d",
        "-5d", "5", "d", "12 mo", "1e3d", "999999y", "2026-04-10", "2026-04-10T09:14:11Z",
        "2026-04-10T11:14:11.5+02:00", "2026-04-10 09:14:11z", "2026-04-10T09:14:11",
        "2026-02-30", "2026-13-01", "0000-01-01", "0001-01-01", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
        "2026-04-10T24:00:00Z", "2026-04-10T23:59:60Z", "2026-04-10T09:14:11+25:00",
        "2026-04-10T09:14:11.1234567890Z", "+2026-04-10", "20260410", "2026-W15",
        "٢٠٢٦-٠٤-١٠", "２０２６-04-10", "2026-04-10T09:14:11Z\x00", "\u202e2026-04-10",
        "2026‐04‐10", "1" * 5000 + "d", "NaN", "", " ", "now ", "Now", "1\u0660d",
    ]),
    st.from_regex(r"\A\d{1,7}(s|min|m|h|d|w|mo|y)\Z"),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,12})?(Z|[+-]\d{2}:\d{2})?)?"
                  r"\Z"),
    hostile_text,
)


@st.composite
def release_new_cases(draw: st.DrawFn, prepared: str) -> Case:
    if draw(st.integers(0, 1)) == 0:
        raw, label = draw(structured_eval()), "structured"
    else:
        corpus = eval_corpus(prepared)
        base = corpus[draw(st.integers(0, len(corpus) - 1))]
        names = draw(st.lists(st.sampled_from(sorted(mutate.JSON_MUTATORS)), min_size=1,
                              max_size=3))
        seed = draw(st.integers(0, 2**32 - 1))
        raw, label = mutate.mutate_json(base, names, seed), f"mutate:{'+'.join(names)}:{seed}"
    version = draw(st.one_of(st.just("2026-04-10"), st.just("2026-04-11"), slug_like))
    sha = draw(st.one_of(st.just("cd" * 32), st.just("CD" * 32), hostile_text))
    problem = oracle.evaluation_problem(raw)
    return Case("release-new", _eval_args(version, sha, "../../scratch/eval.json"),
                {"@scratch/eval.json": raw}, may_pass=not problem,
                why_invalid=f"evaluation file: {problem}" if problem else "", label=label)


@st.composite
def approve_cases(draw: st.DrawFn, prepared: str) -> Case:
    release = draw(st.one_of(st.sampled_from([R1, R1_DIR, "fraud-risk-2026-03-28-02"]),
                             slug_like))
    role = draw(st.one_of(st.sampled_from(["ml_lead", "risk_owner", "platform_owner"]),
                          hostile_text))
    args = ["approve", release, "--role", role]
    deny = draw(st.booleans())
    reason = draw(st.one_of(st.none(), hostile_text))
    if deny:
        args.append("--deny")
    if reason is not None:
        args += ["--reason", reason]
    if draw(st.booleans()):
        args += ["--format", "json"]
    may = release in (R1, R1_DIR) and role == "ml_lead" and (not deny or bool(reason))
    return Case("approve", args, may_pass=may,
                why_invalid="approval of an unknown release, in a role alice does not hold, "
                "or a denial without a reason", label="args")


@st.composite
def live_cases(draw: st.DrawFn, prepared: str) -> Case:
    at = draw(time_text)
    model = draw(st.one_of(st.just(MODEL), st.just(MODEL), slug_like))
    env = draw(st.one_of(st.sampled_from(["production", "staging"]), slug_like))
    args = ["live", model, "--env", env, "--at", at]
    if draw(st.booleans()):
        args += ["--format", "json"]
    return Case("live", args, may_pass=not oracle.hostile_time(at) and oracle.time_is_valid(at),
                why_invalid=f"--at {at!r} is not a time", label="args")


EVENT_TYPES = ["ledger_genesis", "model_registered", "release_registered", "approval_granted",
               "deployment_promoted", "rollback_executed", "config_changed", "key_rotated",
               "evaluation_completed", "policy_violation", "break_glass"]


@st.composite
def audit_cases(draw: st.DrawFn, prepared: str) -> Case:
    args = ["audit", "query"]
    valid = True
    why = []
    options = draw(st.lists(st.sampled_from(["--model", "--type", "--actor", "--role", "--env",
                                             "--release", "--incident", "--since", "--until",
                                             "--limit"]), max_size=5, unique=True))
    # each option once: a repeated single-valued option takes its last value (click), so the
    # oracle would judge a value the command never used
    for option in options:
        if option in ("--since", "--until"):
            value = draw(time_text)
            if oracle.hostile_time(value) or not oracle.time_is_valid(value):
                valid = False
                why.append(f"{option} {value!r}")
        elif option == "--limit":
            number = draw(st.one_of(st.integers(-5, 50), st.integers(), st.sampled_from(
                ["99999999999999999999", "-1", "0", "1e3", "", "x", "9" * 5000])))
            value = str(number) if isinstance(number, int) else number
            try:
                if int(value) < 0:
                    valid = False
                    why.append(f"--limit {value}")
            except ValueError:
                valid = False
                why.append(f"--limit {value!r}")
        elif option == "--type":
            value = draw(st.one_of(st.sampled_from(EVENT_TYPES), hostile_text))
        else:
            value = draw(st.one_of(st.sampled_from(["alice", "bob", MODEL, R1, "production",
                                                    "ml_lead", "INC-1"]), hostile_text))
        args += [option, value]
    args += ["--format", draw(st.sampled_from(["text", "json", "csv"]))]
    return Case("audit-query", args, may_pass=valid, why_invalid="; ".join(why), label="args")


@st.composite
def runtime_cases(draw: st.DrawFn, prepared: str) -> Case:
    kind = "EnvironmentState"
    if draw(st.integers(0, 3)) == 0:
        files: dict[str, bytes] = {}
        valid, why, label = True, "", "args"
    else:
        _, raw, label = draw(yaml_document(prepared, (kind,)))
        files = {TARGETS[kind]: raw}
        valid = oracle.document_is_valid(kind, raw)
        why = "" if valid else "environment state is not valid per its schema"
    model = draw(st.one_of(st.just(MODEL), slug_like))
    env = draw(st.one_of(st.just("production"), slug_like))
    return Case("runtime", [], files, may_pass=valid, why_invalid=why, label=label,
                runtime={"model": model, "environment": env, "verify": draw(st.integers(0, 7)) == 0,
                         "message": draw(hostile_text)})


@st.composite
def structured_event(draw: st.DrawFn) -> bytes:
    doc: dict[str, Any] = {
        "model_name": draw(st.one_of(st.just(MODEL), slug_like)),
        "release_id": draw(st.one_of(st.just(R1), slug_like)),
    }
    for key in draw(st.lists(st.sampled_from(["reason", "evaluation", "changes", "event_type",
                                              "seq", "prev", "actor_id", "timestamp",
                                              "incident", "model_version", "x"]), max_size=3)):
        doc[key] = draw(hostile_value)
    return render(doc).encode("utf-8", "surrogatepass")


@st.composite
def ledger_append_cases(draw: st.DrawFn, prepared: str) -> Case:
    if draw(st.booleans()):
        raw, label = draw(structured_event()), "structured"
    else:
        names = draw(st.lists(st.sampled_from(sorted(mutate.JSON_MUTATORS)), min_size=1,
                              max_size=3))
        seed = draw(st.integers(0, 2**32 - 1))
        raw = mutate.mutate_json(VALID_EVENT, names, seed)
        label = f"mutate:{'+'.join(names)}:{seed}"
    event_type = draw(st.one_of(st.sampled_from(["evaluation_completed", "config_changed",
                                                 "model_registered"]), hostile_text))
    ok, _ = oracle.strict_json(raw)
    return Case("ledger-append", ["ledger", "append", "--type", event_type, "--event",
                                  "../../scratch/event.json"], {"@scratch/event.json": raw},
                may_pass=ok, why_invalid="event file is not one strict JSON object",
                label=label)


STRATEGIES = {
    "validate": validate_cases, "check": check_cases, "release-new": release_new_cases,
    "approve": approve_cases, "live": live_cases, "audit-query": audit_cases,
    "runtime": runtime_cases, "ledger-append": ledger_append_cases,
}
