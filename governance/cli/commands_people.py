"""``governance people add|remove|list|sync`` and ``governance keys add|retire``.

Thin: parse the options into a typed request of ``governance.membership``, call its use case
(which edits through ``governance.people``), render through a renderer registry. Each edit of
governance.yaml is validated before it is written and, once the ledger exists, recorded as
``key_rotated`` when the current signer is a rotator; otherwise the output names the command a
rotator runs. Exit 0 when the edit was made (the ledger may still be pending: said on stdout
and in ``ledger.state`` of the JSON), 1 when it was refused (unknown id, duplicate, the last
member of a required role, the last rotator, a configuration that would not validate), 2 for a
malformed option, 3 when the ledger or the signing set-up could not be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import membership
from governance.authoring import check_identity, check_slug
from governance.cli.app_support import new_app
from governance.cli.options import REPO
from governance.cli.output import OutputFormat, emit_json, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.errors import UsageError
from governance.service import Service

if TYPE_CHECKING:  # the people module imports the ledger and ruamel: loaded when a command runs
    from governance.people import EditOutcome, LedgerOutcome

people_app = new_app("People and bots of governance.yaml, kept in step with the ledger's trust.")
keys_app = new_app("Signing keys of people and bots (governance.yaml and the ledger's trust).")


def _render_ledger(outcome: LedgerOutcome) -> list[str]:
    if outcome.state == "no_ledger":
        return ["ledger: none yet; `governance ledger init` pins these people in its genesis"]
    if outcome.state == "in_sync":
        return ["ledger: its trust already matches governance.yaml"]
    lines = []
    if outcome.state == "recorded":
        lines.append(f"ledger: recorded key_rotated (seq {outcome.seq}) signed by "
                     f"{outcome.signer}:")
    else:
        lines.append(f"ledger: NOT recorded yet ({outcome.why_pending}); the trust changes are:")
    lines += [f"  - {c}" for c in outcome.changes]
    if outcome.state == "pending":
        lines.append("once this governance.yaml is committed (and merged), a rotator records "
                     f"them with: {outcome.command}")
    return lines


EDITED: Renderers[EditOutcome] = Renderers("people edit")


@EDITED.register(OutputFormat.json)
def _edited_json(outcome: EditOutcome) -> None:
    from governance import people

    doc = outcome.to_json()
    if outcome.ledger.state == "pending":
        doc["ledger"]["ledger_append"] = people.ledger_append_command(
            outcome.ledger.raw_changes, outcome.summary)
    emit_json(doc)


@EDITED.register(OutputFormat.text)
def _edited_text(outcome: EditOutcome) -> None:
    emit_text(outcome.summary)
    for line in _render_ledger(outcome.ledger):
        emit_text(line)
    if outcome.codeowners == "regenerated":
        emit_text(".github/CODEOWNERS: regenerated from governance.yaml (commit it with the "
                  "configuration)")
    elif outcome.codeowners and outcome.codeowners.startswith("not regenerated"):
        log(f"warning: .github/CODEOWNERS {outcome.codeowners}")
    log(f"wrote {', '.join(outcome.written)}")


ROSTER: Renderers[membership.Roster] = Renderers("people list")


@ROSTER.register(OutputFormat.json)
def _roster_json(roster: membership.Roster) -> None:
    ledger = roster.ledger
    emit_json([r.to_json() for r in roster.rows])
    if ledger.state == "pending":
        log(f"ledger: {len(ledger.changes)} trust change(s) of governance.yaml not recorded "
            f"yet (a rotator runs `{ledger.command}`)")


@ROSTER.register(OutputFormat.text)
def _roster_text(roster: membership.Roster) -> None:
    rows, ledger = roster.rows, roster.ledger
    if not rows:
        emit_text("no people or bots in governance.yaml (add one: governance people add ID "
                  "--name N --email E --key KEY.pub)")
    for r in rows:
        flags = ["rotator"] if r.rotator else []
        if r.kind == "bot":
            flags.append("bot")
        emit_text(f"{r.id:<20} {r.name} <{r.email}>"
                  + (f" [{', '.join(flags)}]" if flags else ""))
        emit_text(f"    roles: {', '.join(r.roles) or '-'}")
        emit_text(f"    keys:  {', '.join(r.keys) or '- (cannot sign ledger events)'}")
    if ledger.state == "in_sync":
        emit_text("ledger: its trust matches governance.yaml")
    elif ledger.state == "pending":
        emit_text("ledger: these changes of governance.yaml are not recorded yet (a rotator "
                  f"runs `{ledger.command}`):")
        for change in ledger.changes:
            emit_text(f"  - {change}")


SYNCED: Renderers[LedgerOutcome] = Renderers("people sync")
SYNCED.register(OutputFormat.json)(emit_to_json)


@SYNCED.register(OutputFormat.text)
def _synced_text(outcome: LedgerOutcome) -> None:
    for line in _render_ledger(outcome):
        emit_text(line)


EDITED_FORMAT, ROSTER_FORMAT, SYNCED_FORMAT = EDITED.option(), ROSTER.option(), SYNCED.option()


@people_app.command("add")
def add(
    ident: str = typer.Argument(..., metavar="ID", help="GitHub login of the person."),
    name: str = typer.Option(..., "--name", help="Full name."),
    email: str = typer.Option(..., "--email",
                              help="Email address; their ledger commits must use it."),
    key: Path = typer.Option(None, "--key", metavar="PUBKEY_FILE",
                             help="Their SSH signing public key (.pub file)."),
    role: list[str] = typer.Option([], "--role", metavar="ROLE",
                                   help="A role of governance.yaml to join (repeatable)."),
    rotator: bool = typer.Option(False, "--rotator",
                                 help="May change the ledger's trust (ledger.rotators)."),
    repo: Path = REPO, fmt: OutputFormat = EDITED_FORMAT,
) -> None:
    """Add a person (and their key, roles); record it on the ledger when you are a rotator."""
    check_identity(ident, "ID")
    if "/" in ident:
        raise UsageError(f"ID {ident!r} is a team; people are GitHub logins")
    for r in role:
        check_slug(r, "--role")
    request = membership.AddPersonRequest(ident, name, email, key, tuple(role), rotator)
    EDITED.render(fmt, membership.add_person(Service(repo), request))


@people_app.command("remove")
def remove(
    ident: str = typer.Argument(..., metavar="ID", help="The person or bot to remove."),
    repo: Path = REPO, fmt: OutputFormat = EDITED_FORMAT,
) -> None:
    """Remove a person or bot from governance.yaml (roles, rotators) and from the ledger's
    trust; refused for the last member of a required role or the last rotator."""
    request = membership.RemovePersonRequest(ident)
    EDITED.render(fmt, membership.remove_person(Service(repo), request))


@people_app.command("roles")
def roles(
    ident: str = typer.Argument(..., metavar="ID", help="The person."),
    add: list[str] = typer.Option([], "--add", metavar="ROLE",
                                  help="A role of governance.yaml to join (repeatable)."),
    remove: list[str] = typer.Option([], "--remove", metavar="ROLE",
                                     help="A role to leave (repeatable)."),
    repo: Path = REPO, fmt: OutputFormat = EDITED_FORMAT,
) -> None:
    """Change a person's roles; record it on the ledger when you are a rotator."""
    if not add and not remove:
        raise UsageError("nothing to change", hint="give --add ROLE and/or --remove ROLE")
    for r in (*add, *remove):
        check_slug(r, "--add/--remove")
    request = membership.RolesRequest(ident, tuple(add), tuple(remove))
    EDITED.render(fmt, membership.change_roles(Service(repo), request))


@people_app.command("list")
def list_cmd(repo: Path = REPO, fmt: OutputFormat = ROSTER_FORMAT) -> None:
    """List people and bots with their key fingerprints, roles and rotator status."""
    ROSTER.render(fmt, membership.roster(Service(repo), membership.RosterRequest()))


@people_app.command("sync")
def sync(
    reason: str = typer.Option(None, "--reason", help="Why (default: names the commit)."),
    repo: Path = REPO, fmt: OutputFormat = SYNCED_FORMAT,
) -> None:
    """Record governance.yaml's people, keys, roles and rotators on the ledger (key_rotated),
    signed by a rotator; exit 1 when the current signer is not one."""
    SYNCED.render(fmt, membership.sync(Service(repo), membership.SyncRequest(reason)))


@keys_app.command("add")
def keys_add(
    ident: str = typer.Argument(..., metavar="ID", help="The person or bot."),
    key: Path = typer.Argument(..., metavar="PUBKEY_FILE", help="The SSH public key (.pub)."),
    repo: Path = REPO, fmt: OutputFormat = EDITED_FORMAT,
) -> None:
    """Add a signing key to a person or bot (valid on the ledger from the next event)."""
    EDITED.render(fmt, membership.add_key(Service(repo), membership.AddKeyRequest(ident, key)))


@keys_app.command("retire")
def keys_retire(
    ident: str = typer.Argument(..., metavar="ID", help="The person or bot."),
    fingerprint: str = typer.Argument(..., metavar="FINGERPRINT",
                                      help="SHA256:... as `ssh-keygen -lf KEY.pub` prints it."),
    repo: Path = REPO, fmt: OutputFormat = EDITED_FORMAT,
) -> None:
    """Retire a key: the ledger refuses it from the next event on; the events it signed
    before stay valid."""
    if not fingerprint.startswith("SHA256:"):
        raise UsageError(f"FINGERPRINT {fingerprint!r} is not an SSH key fingerprint",
                         hint="expected SHA256:... as `ssh-keygen -lf KEY.pub` prints it")
    request = membership.RetireKeyRequest(ident, fingerprint)
    EDITED.render(fmt, membership.retire_key(Service(repo), request))


@keys_app.command("log")
def keys_log(
    key: Path = typer.Argument(..., metavar="PUBKEY_FILE",
                               help="The checkpoint log key's SSH public key (.pub, ed25519)."),
    repo: Path = REPO, fmt: OutputFormat = EDITED_FORMAT,
) -> None:
    """Set the checkpoint log key (ledger.log_public_key) before `ledger init` pins it."""
    EDITED.render(fmt, membership.set_log_key(Service(repo), membership.LogKeyRequest(key)))


def register(app: typer.Typer) -> None:
    app.add_typer(people_app, name="people")
    app.add_typer(keys_app, name="keys")
