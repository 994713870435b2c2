"""Synthetic ledger histories shaped like the real thing, for tests and benchmarks.

``generate_entries`` yields ``LedgerEntry`` values in seq order for many models at once:
registrations, releases, evaluations, gate decisions, approvals (and the odd denial), release
approvals, promotions to staging then production, rollbacks tied to incidents, config changes,
break-glass and retirements, interleaved in time across models. Every event is canonical JSON
(sorted keys, separators ``(",", ":")``, ``ensure_ascii=False``), ``prev`` chains the SHA-256 of
the previous stored bytes, ``leaf_hash`` is hex SHA-256(0x00 || stored) (RFC 6962 section 2.1),
and each entry's commit chains its parent, so rewriting one event changes every later commit.
Checkpoint notes are cut every ``checkpoint_every`` events in the C2SP signed-note shape; their
root and signature are synthetic (this module proves nothing, it only feeds readers).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from governance.domain.events import LedgerEntry
from governance.domain.source import LedgerHead

START = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)
ORIGIN = "example.com/acme/models"
ROLES = ("ml_lead", "platform_owner", "risk_owner")
PEOPLE = {
    "ml_lead": ("alice", "carol", "mallory.ng"),
    "platform_owner": ("bob", "dan"),
    "risk_owner": ("jane.smith", "erin"),
}
TRAINERS = ("trainer.tom", "trainer.uma", "trainer.vic")
ON_CALL = ("oncall.olga", "oncall.pete")
CI = "governance-ci"
DEPLOYER = "deploy-bot"
TIERS = ("low", "medium", "high")
# What a real genesis pins for the lifecycle replay (governance.ledger.replay): the roles above
# and the promotion order the stories follow. The stories themselves are synthetic (e.g. CI
# writes release_approved, on-call breaks the glass) and are not meant to pass that replay.
LIFECYCLE = {
    "roles": {role: sorted(people) for role, people in PEOPLE.items()},
    "environments": [
        {"name": "staging", "required_approvals": ["ml_lead"]},
        {"name": "production", "after": "staging", "required_approvals": list(ROLES)},
    ],
}


def canonical(event: Mapping[str, Any]) -> bytes:
    """The ledger's stored form of an event."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_hash(stored: bytes) -> str:
    return hashlib.sha256(b"\x00" + stored).hexdigest()


def uuid7(ms: int, rng: random.Random) -> str:
    """RFC 9562 UUIDv7: 48-bit Unix ms, version 7, variant 10, random rest."""
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex(rng: random.Random, n: int = 64) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


@dataclass
class _ModelStory:
    """Draws one model's events in time order."""

    name: str
    releases: int
    rng: random.Random
    clock: datetime
    tier: str = "medium"
    live: dict[str, str | None] = field(default_factory=dict)
    prod_stack: list[str] = field(default_factory=list)  # production history for rollbacks
    done: list[str] = field(default_factory=list)
    retired: set[str] = field(default_factory=set)
    incident_base: int = 0

    def _tick(self, lo: float, hi: float) -> datetime:
        self.clock += timedelta(seconds=int(self.rng.uniform(lo, hi)))
        return self.clock

    def events(self) -> Iterator[tuple[datetime, dict[str, Any]]]:
        rng = self.rng
        owner = rng.choice(PEOPLE["ml_lead"])
        yield (
            self._tick(0, 3600),
            {
                "event_type": "model_registered",
                "model_name": self.name,
                "actor_id": owner,
                "actor_role": "ml_lead",
                "details": {"owner": owner, "risk_tier": self.tier, "title": f"Modèle {self.name}"},
            },
        )
        for n in range(self.releases):
            yield from self._release(n)

    def _release(self, n: int) -> Iterator[tuple[datetime, dict[str, Any]]]:
        rng = self.rng
        day = self._tick(3 * 86400, 25 * 86400)
        version = f"{day:%Y-%m-%d}-{n:02d}"
        rid = f"{self.name}-{version}"
        digest = "sha256:" + _hex(rng)
        policy = "sha256:" + _hex(rng)
        pr = rng.randint(1, 99999)
        base = {"release_id": rid, "model_name": self.name, "model_version": version}
        yield (
            day,
            {
                **base,
                "event_type": "release_registered",
                "actor_id": rng.choice(TRAINERS),
                "release_digest": digest,
                "source": {"pr": pr, "head_sha": _hex(rng, 40)},
                "evidence_refs": [f"releases/{self.name}/{rid}/release.yaml"],
            },
        )
        yield (
            self._tick(60, 7200),
            {
                **base,
                "event_type": "evaluation_completed",
                "actor_id": CI,
                "details": {"metrics": {"auc": round(rng.uniform(0.85, 0.99), 4)}},
                "evidence_refs": [f"releases/{self.name}/{rid}/evidence/eval.json"],
            },
        )
        gates_pass = rng.random() > 0.08
        for env in ("staging", "production"):
            yield (
                self._tick(60, 3600),
                {
                    **base,
                    "event_type": "gate_evaluated",
                    "actor_id": CI,
                    "environment": env,
                    "policy_digest": policy,
                    "release_digest": digest,
                    "decision": {
                        "decision_id": _hex(rng, 32),
                        "result": "allow" if gates_pass else "deny",
                    },
                },
            )
            if not gates_pass:
                yield (
                    self._tick(60, 600),
                    {
                        **base,
                        "event_type": "policy_violation",
                        "actor_id": CI,
                        "environment": env,
                        "reason": "metric_minimums: auc below threshold",
                    },
                )
                return
            roles = ("ml_lead",) if env == "staging" else ROLES
            per_role = 2 if self.tier == "high" else 1
            for role in roles:
                people = list(PEOPLE[role])
                rng.shuffle(people)
                if rng.random() < 0.05:
                    yield (
                        self._tick(60, 86400),
                        {
                            **base,
                            "event_type": "approval_denied",
                            "actor_id": people[0],
                            "actor_role": role,
                            "approval_state": "denied",
                            "environment": env,
                            "release_digest": digest,
                            "reason": "needs a subgroup analysis",
                            "source": {"pr": pr, "review_id": rng.randint(1, 10**9)},
                        },
                    )
                for person in people[:per_role]:
                    yield (
                        self._tick(60, 86400),
                        {
                            **base,
                            "event_type": "approval_granted",
                            "actor_id": person,
                            "actor_role": role,
                            "approval_state": "approved",
                            "environment": env,
                            "release_digest": digest,
                            "source": {"pr": pr, "review_id": rng.randint(1, 10**9)},
                            "evidence_refs": [f"releases/{self.name}/{rid}/model-card.yaml"],
                        },
                    )
            yield (
                self._tick(60, 600),
                {
                    **base,
                    "event_type": "release_approved",
                    "actor_id": CI,
                    "environment": env,
                    "approval_state": "approved",
                    "release_digest": digest,
                },
            )
            previous = self.live.get(env)
            # Shapes follow governance.promotion: a promotion names its release_id and the
            # release it replaces; a break-glass is an emergency promotion past the gates.
            emergency = env == "production" and rng.random() < 0.03
            promo = {
                **base,
                "event_type": "break_glass" if emergency else "deployment_promoted",
                "actor_id": CI if rng.random() < 0.8 else rng.choice(PEOPLE["platform_owner"]),
                "environment": env,
                "release_digest": digest,
                "policy_digest": policy,
                "from_release": previous,
                "decision": {"decision_id": _hex(rng, 32), "allow": True},
                "source": {"pr": pr, "merge_sha": _hex(rng, 40), "ci_run": rng.randint(1, 10**7)},
            }
            if emergency:
                promo["actor_id"] = rng.choice(ON_CALL)
                promo["actor_role"] = "platform_owner"
                promo["incident"] = f"inc-{self.incident_base + rng.randint(0, 9999)}"
                promo["reason"] = "hotfix for a scoring outage"
            yield self._tick(60, 3600), promo
            self.live[env] = rid
            if env == "production":
                self.prod_stack.append(rid)
        self.done.append(rid)
        yield from self._after_release(rid)

    def _after_release(self, rid: str) -> Iterator[tuple[datetime, dict[str, Any]]]:
        rng = self.rng
        if rng.random() < 0.4:
            yield (
                self._tick(600, 86400),
                {
                    "event_type": "config_changed",
                    "model_name": self.name,
                    "release_id": rid,
                    "environment": "production",
                    "actor_id": DEPLOYER,
                    "details": {
                        "key": "serving.replicas",
                        "old": rng.randint(1, 8),
                        "new": rng.randint(1, 8),
                    },
                },
            )
        if rng.random() < 0.15 and self.prod_stack and self.live.get("production"):
            current = self.live["production"]
            self.prod_stack.pop()
            # governance.promotion rolls back only to an approved, unretired earlier release
            while self.prod_stack and self.prod_stack[-1] in self.retired:
                self.prod_stack.pop()
            target = self.prod_stack[-1] if self.prod_stack else None
            inc = f"inc-{self.incident_base + rng.randint(0, 9999)}"
            event: dict[str, Any] = {
                "event_type": "rollback_executed",
                "model_name": self.name,
                "release_id": target,
                "environment": "production",
                "actor_id": rng.choice(ON_CALL),
                "actor_role": "platform_owner",
                "from_release": current,
                "incident": inc,
                "reason": "false-positive spike after promotion",
            }
            event["to_release"] = target
            if target is None:  # the first release's fallback: switch the model off
                del event["release_id"]
                event["details"] = {"disabled": True}
            yield self._tick(600, 86400), event
            self.live["production"] = target
        live_now = {r for r in self.live.values() if r}
        candidates = [r for r in self.done[:-2] if r not in live_now and r not in self.retired]
        if candidates and rng.random() < 0.3:
            old = candidates[0]
            self.retired.add(old)
            yield (
                self._tick(600, 86400),
                {
                    "event_type": "release_retired",
                    "model_name": self.name,
                    "release_id": old,
                    "actor_id": rng.choice(PEOPLE["ml_lead"]),
                    "actor_role": "ml_lead",
                    "reason": "superseded",
                },
            )


def generate_events(
    models: int = 20, releases_per_model: int = 6, seed: int = 0, start: datetime = START
) -> Iterator[dict[str, Any]]:
    """Raw event payloads (without seq/prev/event_id), interleaved in time across models."""
    streams = []
    for m in range(models):
        rng = random.Random(f"{seed}:{m}")
        story = _ModelStory(
            name=f"model-{m:04d}" if m else "fraud-risk",
            releases=releases_per_model,
            rng=rng,
            clock=start + timedelta(seconds=rng.randint(0, 30 * 86400)),
            tier=rng.choice(TIERS),
            incident_base=4000 + 10000 * (m % 3),
        )
        streams.append(((moment, m, i, ev) for i, (moment, ev) in enumerate(story.events())))
    for moment, _m, _i, event in heapq.merge(*streams, key=lambda t: (t[0], t[1], t[2])):
        event["timestamp"] = ts(moment)
        yield event


def seal(
    events: Iterable[Mapping[str, Any]],
    *,
    seed: int = 0,
    checkpoint_every: int = 100,
    genesis: bool = True,
    start_seq: int = 0,
    prev_stored: bytes | None = None,
    prev_commit: str = "",
) -> Iterator[LedgerEntry]:
    """Number, chain and hash payloads into ledger entries (seq, event_id, prev, leaf, commit)."""
    rng = random.Random(f"seal:{seed}")
    seq = start_seq
    prev = "" if prev_stored is None else hashlib.sha256(prev_stored).hexdigest()
    commit = prev_commit
    root = hashlib.sha256()
    pending: list[LedgerEntry] = []

    def flush(note: str | None) -> Iterator[LedgerEntry]:
        for entry in pending:
            yield LedgerEntry(
                entry.seq,
                entry.event_id,
                entry.event_type,
                entry.timestamp,
                entry.event,
                entry.stored,
                entry.leaf_hash,
                entry.commit,
                note,
            )
        pending.clear()

    def payloads() -> Iterator[Mapping[str, Any]]:
        if genesis and start_seq == 0:
            yield {
                "event_type": "ledger_genesis",
                "timestamp": ts(START - timedelta(days=1)),
                "actor_id": "bob",
                "details": {"origin": ORIGIN, "lifecycle": LIFECYCLE},
            }
        yield from events

    for payload in payloads():
        event = dict(payload)
        moment = datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        event["seq"] = seq
        event["prev"] = prev
        event["event_id"] = uuid7(int(moment.timestamp() * 1000), rng)
        stored = canonical(event)
        leaf = leaf_hash(stored)
        commit = hashlib.sha1(f"{commit}:{seq}:{leaf}".encode()).hexdigest()
        root.update(bytes.fromhex(leaf))
        pending.append(
            LedgerEntry(
                seq,
                event["event_id"],
                event["event_type"],
                event["timestamp"],
                event,
                stored,
                leaf,
                commit,
                None,
            )
        )
        prev = hashlib.sha256(stored).hexdigest()
        seq += 1
        if seq % checkpoint_every == 0:
            yield from flush(checkpoint_note(seq, root.digest()))
    yield from flush(None)


def checkpoint_note(size: int, root: bytes) -> str:
    """C2SP tlog-checkpoint body plus a synthetic signature line."""
    sig = base64.b64encode(hashlib.sha256(root + size.to_bytes(8, "big")).digest()).decode()
    return f"{ORIGIN}\n{size}\n{base64.b64encode(root).decode()}\n\n\u2014 {ORIGIN} {sig}\n"


def generate_entries(
    models: int = 20, releases_per_model: int = 6, seed: int = 0, checkpoint_every: int = 100
) -> Iterator[LedgerEntry]:
    return seal(
        generate_events(models, releases_per_model, seed),
        seed=seed,
        checkpoint_every=checkpoint_every,
    )


def rewrite(
    entries: list[LedgerEntry], at_seq: int, change: Mapping[str, Any]
) -> list[LedgerEntry]:
    """The same history with event ``at_seq`` changed and everything after re-chained
    (what a force-push of a rewritten ledger looks like to a reader)."""
    keep = entries[:at_seq]
    payloads = []
    for entry in entries[at_seq:]:
        event = {k: v for k, v in entry.event.items() if k not in ("seq", "prev", "event_id")}
        if entry.seq == at_seq:
            event.update(change)
        payloads.append(event)
    tail = seal(
        payloads,
        seed=999,
        start_seq=at_seq,
        prev_stored=keep[-1].stored if keep else None,
        prev_commit=keep[-1].commit if keep else "",
        genesis=False,
    )
    return keep + list(tail)


@dataclass
class SyntheticLedger:
    """An in-memory ``LedgerSource`` over a list of entries (entry i has seq i)."""

    items: list[LedgerEntry]
    reads: int = 0  # how many times entries() was called (tests check that no read happens)

    def head(self) -> LedgerHead | None:
        if not self.items:
            return None
        last = self.items[-1]
        return LedgerHead(last.seq, last.commit)

    def entries(self, start_seq: int = 0) -> Iterator[LedgerEntry]:
        self.reads += 1
        return iter(self.items[max(start_seq, 0) :])

    def append(self, more: Iterable[Mapping[str, Any]]) -> None:
        """Append raw payloads as new entries, continuing seq, prev and the commit chain."""
        last = self.items[-1]
        self.items.extend(
            seal(
                more,
                seed=len(self.items),
                start_seq=last.seq + 1,
                prev_stored=last.stored,
                prev_commit=last.commit,
                genesis=False,
            )
        )
