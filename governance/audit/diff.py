"""What changed between two releases: data, code, config, artifact, metrics, card, policy,
approvers. Pure: takes loaded releases (and ledger facts when known), returns a diff value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from governance.repo import LoadedRelease
from governance.safe_text import join_lines
from governance.text import items, window
from governance.text import value as text_value


@dataclass(frozen=True)
class Change:
    section: str  # data | code | features | config | artifact | card | policy | approvals
    field: str
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "field": self.field, "before": self.before,
                "after": self.after}


@dataclass(frozen=True)
class MetricDelta:
    metric: str
    subgroup: str | None  # None: overall
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 10)

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "subgroup": self.subgroup, "before": self.before,
                "after": self.after, "delta": self.delta}


@dataclass(frozen=True)
class ReleaseDiff:
    release_a: str
    release_b: str
    digest_a: str
    digest_b: str
    changes: tuple[Change, ...]
    metrics: tuple[MetricDelta, ...]
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"release_a": self.release_a, "release_b": self.release_b,
                "digest_a": self.digest_a, "digest_b": self.digest_b,
                "changes": [c.to_json() for c in self.changes],
                "metrics": [m.to_json() for m in self.metrics], "notes": list(self.notes)}


def _ref(ref: Any) -> Any:
    return None if ref is None else {"uri": ref.uri, "sha256": ref.sha256}


def diff_releases(a: LoadedRelease, b: LoadedRelease, *,
                  policy: Mapping[str, str | None] | None = None,
                  approvers: Mapping[str, Sequence[str]] | None = None) -> ReleaseDiff:
    """Diff ``a`` (before) against ``b`` (after). ``policy`` and ``approvers`` map a release id
    to the policy bundle digest it was judged under and its approvers ("role:actor"), when the
    ledger knows them."""
    ra, rb = a.release, b.release
    ca, cb = a.card, b.card
    fields: list[tuple[str, str, Any, Any]] = [
        ("data", "training_dataset", _ref(ra.training_dataset), _ref(rb.training_dataset)),
        ("data", "training_data_window", _plain(ca.training_data_window),
         _plain(cb.training_data_window)),
        ("data", "training_data_scope", ca.training_data_scope, cb.training_data_scope),
        ("data", "training_data_exclusions", list(ca.training_data_exclusions),
         list(cb.training_data_exclusions)),
        ("code", "git_commit", ra.git_commit, rb.git_commit),
        ("code", "trained_by", ra.trained_by, rb.trained_by),
        ("features", "feature_schema_version", ra.feature_schema_version,
         rb.feature_schema_version),
        ("config", "config_version", ra.config_version, rb.config_version),
        ("config", "prompt_version", ra.prompt_version, rb.prompt_version),
        ("config", "policy_version", ra.policy_version, rb.policy_version),
        ("artifact", "artifact", _ref(ra.artifact), _ref(rb.artifact)),
        ("artifact", "evaluation_report", _ref(ra.evaluation_report),
         _ref(rb.evaluation_report)),
        ("card", "purpose", ca.purpose, cb.purpose),
        ("card", "owner", ca.owner, cb.owner),
        ("card", "escalation_path", list(ca.escalation_path), list(cb.escalation_path)),
        ("card", "intended_use", list(ca.intended_use), list(cb.intended_use)),
        ("card", "not_for_use", list(ca.not_for_use), list(cb.not_for_use)),
        ("card", "known_limitations", list(ca.known_limitations), list(cb.known_limitations)),
        ("card", "test_conditions", _plain(ca.test_conditions), _plain(cb.test_conditions)),
    ]
    notes: list[str] = []
    if policy is not None:
        fields.append(("policy", "policy_bundle", policy.get(ra.release_id),
                       policy.get(rb.release_id)))
    else:
        notes.append("policy bundles and approvers come from the ledger; none was read")
    if approvers is not None:
        fields.append(("approvals", "approvers", sorted(approvers.get(ra.release_id, [])),
                       sorted(approvers.get(rb.release_id, []))))
    changes = tuple(Change(s, f, x, y) for s, f, x, y in fields if x != y)
    metrics = [MetricDelta(m, None, ca.metrics.get(m), cb.metrics.get(m))
               for m in sorted(set(ca.metrics) | set(cb.metrics))]
    for slice_name in sorted(set(ca.subgroups) | set(cb.subgroups)):
        sa, sb = ca.subgroups.get(slice_name, {}), cb.subgroups.get(slice_name, {})
        metrics += [MetricDelta(m, slice_name, sa.get(m), sb.get(m))
                    for m in sorted(set(sa) | set(sb))]
    return ReleaseDiff(release_a=ra.release_id, release_b=rb.release_id, digest_a=a.digest.value,
                       digest_b=b.digest.value, changes=changes, metrics=tuple(metrics),
                       notes=tuple(notes))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def render_text(diff: ReleaseDiff) -> str:
    lines = [f"{diff.release_a} -> {diff.release_b}",
             f"digest {diff.digest_a} -> {diff.digest_b}"]
    if not diff.changes:
        lines.append("no changes in data, code, config, artifact or card")
    section = None
    for change in diff.changes:
        if change.section != section:
            section = change.section
            lines.append(f"[{section}]")
        lines.append(f"  {change.field}: {_show(change.before)} -> {_show(change.after)}")
    lines.append("[metrics]")
    for m in diff.metrics:
        name = m.metric if m.subgroup is None else f"{m.subgroup}.{m.metric}"
        delta = "" if m.delta is None else f" ({m.delta:+.4g})"
        lines.append(f"  {name}: {_show(m.before)} -> {_show(m.after)}{delta}")
    lines += [f"note: {n}" for n in diff.notes]
    return join_lines(lines)  # one record per line, control characters escaped


def _show(value: Any) -> str:
    """A changed value in words (governance/text.py): never a Python literal."""
    if value is None:
        return "-"
    if isinstance(value, Mapping) and set(value) == {"uri", "sha256"}:
        return f"{value['uri']} (sha256 {str(value['sha256'])[:12]})"
    if isinstance(value, Mapping) and set(value) <= {"start", "end"} and value:
        return window(value)
    if isinstance(value, list | tuple):
        return "(" + items(list(value), none="empty") + ")"
    return text_value(value, none="-")
