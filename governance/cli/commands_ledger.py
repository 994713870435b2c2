"""``governance ledger init | append | log | checkpoint | verify`` (DESIGN sections 8 and 10).

Thin commands: parse options into a typed request of ``governance.trail``, call its use case
with the composition root (``governance.service.Service``), render through a renderer registry
(``governance.cli.render``). Exit codes
come from the error funnel (0 pass, 1 tampered/denied/invalid, 2 usage, 3 could not decide);
``verify`` maps its report the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from governance import trail
from governance.cli import ledger_verify
from governance.cli.app_support import check_identifier, new_app
from governance.cli.ledger_verify import VERIFIED
from governance.cli.options import REMOTE, REPO, limit_option
from governance.cli.output import OutputFormat, emit_json, emit_text, log
from governance.cli.render import Renderers
from governance.domain.event_types import CHECKPOINT_TYPES
from governance.domain.events import EVENT_FIELDS, EVENT_TYPES, LedgerEntry
from governance.errors import UsageError
from governance.service import Service

FIELD = typer.Option([], "--field",
                     help="KEY=VALUE event field (repeatable); VALUE may be JSON.")
EVENT_FILE = typer.Option(None, "--event", help="JSON object of event fields ('-' reads stdin).")
OUT = typer.Option(None, "--out", help="Write the note to FILE instead of stdout.")
CHECKPOINTS = typer.Option([], "--checkpoint",
                           help="External checkpoint note to check against (repeatable).")


# free-text-looking fields that are identifiers (the slug fields have their schema patterns)
_IDENTIFIER_FIELDS = ("incident", "actor_id", "actor_role", "policy_digest")


def _entry_json(e: LedgerEntry) -> dict[str, Any]:
    return {"seq": e.seq, "event_id": e.event_id, "event_type": e.event_type,
            "timestamp": e.timestamp, "commit": e.commit, "leaf_hash": e.leaf_hash,
            "event": dict(e.event), "checkpointed": e.checkpoint is not None}


ENTRY: Renderers[LedgerEntry] = Renderers("ledger entry")
ENTRY.register(OutputFormat.json)(lambda e: emit_json(_entry_json(e)))
ENTRY.register(OutputFormat.text)(
    lambda e: emit_text(f"seq {e.seq} {e.event_type} {e.event_id} commit {e.commit}"))


def _report_entry(e: LedgerEntry, fmt: OutputFormat) -> None:
    ENTRY.render(fmt, e)
    wanted = e.event_type in CHECKPOINT_TYPES  # the table's: the genesis is one of them
    if e.checkpoint is None and wanted:
        log("note: no checkpoint cut for this event (GOVERNANCE_LEDGER_LOG_KEY is not set); "
            "CI or `governance ledger checkpoint` with the log key will anchor it")


LISTED: Renderers[list[LedgerEntry]] = Renderers("ledger log")
LISTED.register(OutputFormat.json)(lambda rows: emit_json([_entry_json(e) for e in rows]))


@LISTED.register(OutputFormat.text)
def _listed_text(rows: list[LedgerEntry]) -> None:
    for e in rows:
        subject = " ".join(f"{k}={e.get(k)}" for k in ("model_name", "release_id",
                                                         "environment") if e.get(k))
        emit_text(f"{e.seq:>6} {e.timestamp} {e.event_type:<20} {e.get('actor_id', '-')} "
                  f"{subject}".rstrip())


# checkpoint: the signed note, byte for byte, to stdout or --out
CHECKPOINT: Renderers[trail.Checkpoint] = Renderers("ledger checkpoint")


@CHECKPOINT.register(OutputFormat.text)
def _checkpoint_note(note: trail.Checkpoint) -> None:
    out = note.request.out
    if out is None:
        sys.stdout.write(note.note)
    else:
        out.write_text(note.note, encoding="utf-8")
        log(f"wrote checkpoint of size {note.size} to {out}")


ENTRY_FORMAT, LISTED_FORMAT, VERIFIED_FORMAT = ENTRY.option(), LISTED.option(), VERIFIED.option()


def init(repo: Path = REPO, remote: str | None = REMOTE,
         fmt: OutputFormat = ENTRY_FORMAT) -> None:
    """Write the genesis event (seq 0) pinning trust from governance.yaml at this commit."""
    done = trail.init(Service(repo), trail.InitRequest(remote))
    _report_entry(done.entry, fmt)
    for note in done.advice:
        log(f"note: {note}")


def append(
    event_type: str = typer.Option(..., "--type", help="Event type, e.g. approval_granted."),
    field: list[str] = FIELD,
    event_file: Path | None = EVENT_FILE,
    repo: Path = REPO, remote: str | None = REMOTE, fmt: OutputFormat = ENTRY_FORMAT,
) -> None:
    """Append one signed event for tooling (registrations, evaluations, config changes, key
    rotations). Gate decisions, approvals, promotions, rollbacks, retirements and break-glass
    are written only by their lifecycle commands and are refused here."""
    fields: dict[str, Any] = {}
    if event_file is not None:
        from governance.json_source import read_json_option
        from governance.yaml_source import DEFAULT_MAX_BYTES

        doc = read_json_option(event_file, "--event", DEFAULT_MAX_BYTES,
                               stdin=sys.stdin.buffer).data
        if not isinstance(doc, dict):
            raise UsageError("--event: expected a JSON object of event fields")
        fields.update(doc)
    given: set[str] = set()
    for item in field:
        key, sep, value = item.partition("=")
        if not sep or key not in EVENT_FIELDS:
            raise UsageError(f"--field {item!r}: expected KEY=VALUE with KEY among "
                             f"{', '.join(EVENT_FIELDS)}")
        if key in given or key in fields:
            # keeping one of two values silently would record something nobody checked
            raise UsageError(f"--field {key}: given more than once"
                             + (" (also in --event)" if key not in given else ""),
                             hint=f"give {key} once")
        given.add(key)
        if key in _IDENTIFIER_FIELDS:
            check_identifier(value, f"--field {key}")
        if value[:1] in "[{":
            from governance.json_source import JsonProblem, load_json_text

            try:
                fields[key] = load_json_text(value, f"--field {key}").data
            except JsonProblem as err:
                raise UsageError(f"--field {key}: value is not acceptable JSON: "
                                 f"{err.problem.message}") from None
        else:
            fields[key] = value
    if event_type not in EVENT_TYPES:
        raise UsageError(f"--type {event_type!r}: expected one of {', '.join(EVENT_TYPES)}")
    _report_entry(trail.append(Service(repo), trail.AppendRequest(event_type, fields, remote)),
                  fmt)


def log_cmd(
    event_type: str | None = typer.Option(None, "--type", help="Only this event type."),
    actor: str | None = typer.Option(None, "--actor", help="Only events by this actor id."),
    model: str | None = typer.Option(None, "--model", help="Only events for this model."),
    release: str | None = typer.Option(None, "--release", help="Only events for this release."),
    limit: int | None = limit_option(None, "Only the last N matching events"),
    unverified: bool = typer.Option(
        False, "--unverified",
        help="Forensics: list the commits as stored, past a verification failure too "
             "(nothing listed this way is evidence)."),
    repo: Path = REPO, fmt: OutputFormat = LISTED_FORMAT,
) -> None:
    """List verified ledger events in seq order (--unverified: as stored, for forensics)."""
    request = trail.LogRequest(event_type, actor, model, release, limit, unverified)
    rows = trail.log(Service(repo), request)
    if request.unverified:
        log("warning: --unverified lists the ledger as stored; nothing here is verified "
            "evidence (run `governance ledger verify`)")
    LISTED.render(fmt, rows)


def checkpoint(
    out: Path | None = OUT,
    repo: Path = REPO,
) -> None:
    """Print the latest signed checkpoint note (C2SP tlog-checkpoint) of the ledger."""
    note = trail.checkpoint(Service(repo), trail.CheckpointRequest(out))
    if note.size < note.total:
        log(f"note: latest stored checkpoint covers {note.size} of {note.total} events "
            "(set GOVERNANCE_LEDGER_LOG_KEY to sign the tip)")
    CHECKPOINT.render(OutputFormat.text, note)  # the note is its own format (no --format)


def verify(
    checkpoint_file: list[Path] = CHECKPOINTS,
    repo: Path = REPO, fmt: OutputFormat = VERIFIED_FORMAT,
) -> None:
    """Verify every commit, event, signature and checkpoint; name the first failure."""
    ledger_verify.verify(checkpoint_file, repo, fmt)  # also the fast path's body


def register(app: typer.Typer) -> None:
    """Attach ``governance ledger ...``."""
    sub = new_app("The signed-commit ledger: init, append, log, checkpoint, verify.")
    sub.command("init")(init)
    sub.command("append")(append)
    sub.command("log")(log_cmd)
    sub.command("checkpoint")(checkpoint)
    sub.command("verify")(verify)
    app.add_typer(sub, name="ledger")
