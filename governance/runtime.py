"""Runtime traceability: what a serving process needs to say which release it is serving.

A serving process asks ``live_release(model, environment)`` once at start-up (or on reload); the
answer comes from ``environments/<env>.yaml`` in the governed repository, the state the promotion
and rollback commands write::

    apiVersion: governance/v1
    kind: EnvironmentState
    environment: production
    models:
      fraud-risk:
        release_id: fraud-risk-2026-04-10-01
        model_version: 2026-04-10
        release_digest: sha256:<64 hex>
        promoted_at: 2026-04-10T09:14:11Z
        ledger_seq: 42

``ReleaseTagFilter`` then stamps every log record with ``release_id``, ``model_version``,
``model_name`` and ``environment`` (usable in any format string, e.g.
``%(release_id)s``), and ``traffic_headers`` gives the same identity for responses or outgoing
calls, so a prediction, a log line and an audit answer all name the same release.

Deployment tooling that changes serving configuration (replicas, thresholds, feature flags,
prompt versions) records it on the ledger as a ``config_changed`` event: build the payload with
``config_changed_event`` and append it with the ledger's append command (docs/audit.md). This
module never writes the ledger itself: a serving process has no business holding a signing key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from governance import ci_context
from governance.domain.event_table import ConfigChanged
from governance.domain.model import EnvironmentState
from governance.errors import InvalidInput, NotFound, Problem, Tampered, Undecided, UsageError
from governance.records import load_file
from governance.timeparse import format_rfc3339, utc_now

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}\Z")  # DESIGN section 10
REPO_ENV = "GOVERNANCE_REPO"


@dataclass(frozen=True)
class DeployedRelease:
    """The release live for one model in one environment, as the environment state says."""

    model: str
    environment: str
    release_id: str
    model_version: str
    release_digest: str
    promoted_at: str
    ledger_seq: int

    def tags(self) -> dict[str, str]:
        return {
            "model_name": self.model,
            "environment": self.environment,
            "release_id": self.release_id,
            "model_version": self.model_version,
        }


def live_release(model: str, environment: str, *, root: Path | None = None,
                 verify: bool = True) -> DeployedRelease:
    """Which release is live for ``model`` in ``environment``.

    ``root`` is the governed repository (default: ``$GOVERNANCE_REPO``, else the current
    directory). The state file is read with the project's loader and JSON Schema (the same checks
    as ``governance validate``). Raises NotFound when the environment or model has no live
    release (including a model switched off by a rollback), InvalidInput when the state file is
    malformed: a serving process should refuse to start rather than guess what it serves.

    With ``verify`` (the default) the pointer is checked against the verified ledger of the
    repository (``governance.ledger.verified``): the release it names must be the one the
    ledger says is live there now, else Tampered (exit 1); a repository with no ledger to check
    against is Undecided (exit 3). ``verify=False`` trusts the state file alone (a deployment
    bundle that carries only ``environments/``): say so where you use it.
    """
    for value, what in ((model, "model"), (environment, "environment")):
        if not _SLUG.fullmatch(value):
            raise UsageError(f"{what} {value!r} is not a slug (expected "
                             "^[a-z0-9][a-z0-9._-]{0,127}$, the whole value)")
    base = root if root is not None else Path(ci_context.current().variable(REPO_ENV) or ".")
    path = base / "environments" / f"{environment}.yaml"
    if not path.is_file():
        raise NotFound(
            f"{path}: no state for environment {environment!r}",
            hint="nothing was ever promoted there, or the repository path is wrong "
            f"(set {REPO_ENV})",
        )
    loaded, problems = load_file(path, expected_kind="EnvironmentState")
    if problems or loaded is None:
        raise InvalidInput(problems, message=f"{path} is invalid")
    state: EnvironmentState = loaded.value
    if state.environment != environment:
        raise InvalidInput(
            [
                Problem(
                    str(path),
                    None,
                    "$.environment",
                    f"found {state.environment!r}, expected {environment!r}",
                )
            ]
        )
    deployment = state.models.get(model)
    if deployment is None:
        raise NotFound(f"{path}: model {model!r} has no live release in {environment!r}")
    if deployment.disabled:
        raise NotFound(
            f"{path}: model {model!r} is switched off in {environment!r} (rolled back with no "
            f"earlier release, ledger seq {deployment.ledger_seq})"
        )
    if verify:
        _check_against_ledger(base, model, environment, deployment.release_id, path)
    return DeployedRelease(
        model=model,
        environment=environment,
        release_id=deployment.release_id,
        model_version=deployment.model_version or "",
        release_digest=deployment.release_digest or "",
        promoted_at=deployment.promoted_at or "",
        ledger_seq=-1 if deployment.ledger_seq is None else deployment.ledger_seq,
    )


def _check_against_ledger(root: Path, model: str, environment: str, release_id: str | None,
                          path: Path) -> None:
    """The pointer names what the verified ledger says is live now (see ``live_release``)."""
    from governance.audit.index import answer
    from governance.audit.queries import live_release_at
    from governance.ledger.reader import ledger_source

    if not (root / ".git").exists():
        raise Undecided(f"{root} has no git repository: the pointer {path} cannot be checked "
                        "against the ledger", hint="run from a clone of the governed repository "
                        "(ledger branch fetched), or pass verify=False to trust the file alone")
    try:
        live = answer(root, ledger_source(root), lambda conn: live_release_at(
            conn, model, environment, utc_now()))
        ledger_says: str | None = live.release_id
    except NotFound:
        ledger_says = None
    if ledger_says != release_id:
        raise Tampered(f"{path} says {model!r} serves {release_id or 'nothing'} in "
                       f"{environment!r}, the verified ledger says "
                       f"{ledger_says or 'nothing is live'}",
                       hint="the pointer file is not evidence: `governance status` shows the "
                            "drift; re-run the promote or rollback to repair it from the ledger")


class ReleaseTagFilter(logging.Filter):
    """Adds release_id, model_version, model_name and environment to every record.

    Attach it to a handler (``handler.addFilter(ReleaseTagFilter(release))``) so records from
    every logger passing through that handler are tagged; values already set on a record (e.g.
    by a multi-model server through ``extra=``) are kept.
    """

    def __init__(self, release: DeployedRelease) -> None:
        super().__init__()
        self._tags = release.tags()

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in self._tags.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def traffic_headers(release: DeployedRelease) -> dict[str, str]:
    """HTTP headers naming the serving release (for responses and outgoing calls)."""
    return {
        "X-Model-Name": release.model,
        "X-Model-Release": release.release_id,
        "X-Model-Version": release.model_version,
        "X-Model-Release-Digest": release.release_digest,
    }


def config_changed_event(
    *,
    model: str,
    environment: str,
    actor_id: str,
    changes: Mapping[str, tuple[Any, Any]],
    reason: str,
    release_id: str | None = None,
    source: Mapping[str, Any] | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """The payload of a ``config_changed`` ledger event (seq, prev and event_id are added by the
    ledger on append). ``changes`` maps a setting to ``(old, new)``."""
    if not changes:
        raise UsageError("config_changed: no changes given")
    if not reason.strip():
        raise UsageError("config_changed: a reason is required")
    for value, what in ((model, "model"), (environment, "environment")):
        if not _SLUG.fullmatch(value):
            raise UsageError(f"config_changed: {what} {value!r} is not a slug")
    when = timestamp or utc_now()
    return ConfigChanged(
        timestamp=format_rfc3339(when, seconds=True),
        model_name=model,
        environment=environment,
        actor_id=actor_id,
        reason=reason,
        details={
            "changes": [
                {"key": key, "old": old, "new": new} for key, (old, new) in sorted(changes.items())
            ]
        },
        release_id=release_id,
        source=dict(source) if source else None,
    ).to_dict()
