"""``governance init``: a scaffolded governed repository where ``governance ledger init`` works.

The scaffold (``governance/scaffold/``, shipped as package data) is copied file by file, never
over an existing file. Its governance.yaml is a template with a few anchored placeholder lines
that init fills:

* ``organization:`` from ``--organization``, else the git remote's owner, else left as
  ``example-org`` (and said so);
* ``ledger.origin`` (the checkpoint origin line) from ``--origin``, else derived from the git
  remote URL (``host/owner/name``, credentials and port dropped), else
  ``github.com/<organization>/<directory name>``;
* the founder: whoever runs init, when git (or GOVERNANCE_LEDGER_SIGNING_KEY) names an SSH
  signing key, becomes the first person and the first rotator, so the genesis has a signer
  and a rotator and trust can grow afterwards through key_rotated events.

Then ``.github/CODEOWNERS`` is generated from the filled governance.yaml and the workflows'
pinned requirements file is written (``governance.pins``).

A directory inside another git work tree is never silently scaffolded into it: init stops
(exit 2) unless told to start a new repository there (``new_repository``) or to govern a
subdirectory of the enclosing repository (``subdirectory``, a monorepo; GitHub then runs only
workflows and CODEOWNERS at the top of that repository, which init says).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from governance.config import CONFIG_FILE
from governance.errors import AlreadyExists, ConfigurationError, GovernanceError, UsageError
from governance.records import display_path
from governance.vcs import current_branch, git_config, git_toplevel, init_repository, remote_url

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"  # shipped as package data
# The scaffolded governance.yaml and workflows protect this branch.
SCAFFOLD_BRANCH = "main"
DEFAULT_ORGANIZATION = "example-org"
# GitHub logins and organisation names (the schemas' identity pattern, without a team part).
LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
ORIGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*\Z")  # no space, no '+' (C2SP origin)

# The template lines init fills (each must occur exactly once in the scaffold's governance.yaml;
# a test holds it).
ORG_LINE = "organization: example-org "
PEOPLE_LINE = "people: []\n"
ORIGIN_LINE = "  origin: example.com/example-org/models\n"
ROTATORS_LINE = "  rotators: []\n"
BOT_EMAIL_LINE = "    email: ci-bot@example-org.invalid\n"


@dataclass(frozen=True)
class Founder:
    """Whoever ran init, as the first person and rotator."""

    id: str
    name: str
    email: str
    key: str  # OpenSSH public key line


@dataclass(frozen=True)
class Scaffolded:
    written: list[Path]
    notes: list[str]  # what the user should know (git initialised, a branch mismatch, ...)
    origin: str
    organization: str
    founder: Founder | None


@dataclass(frozen=True)
class InitOptions:
    origin: str | None = None
    organization: str | None = None
    login: str | None = None  # the founder's person id (GitHub login)
    git: bool = True
    new_repository: bool = False
    subdirectory: bool = False
    artifacts: tuple[Path, ...] = ()  # wheel/sdist of this release: their sha256 is pinned
    workflows_from: str | None = None  # OWNER/REPO@SHA: callers instead of workflow copies


def _copy_tree(src: Path, dest: Path, written: list[Path]) -> None:
    for item in sorted(src.iterdir(), key=lambda t: t.name):
        if item.name == "__pycache__":
            continue
        target = dest / item.name
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            _copy_tree(item, target, written)
        else:
            if target.exists():
                continue
            target.write_bytes(item.read_bytes())
            written.append(target)


# --- deriving the origin and organisation ------------------------------------------------


def origin_from_remote(url: str) -> str | None:
    """``host/owner/name`` of a git remote URL (scp-like or URL form), without credentials,
    port or ``.git``; None when the URL names no host and path (a local path remote)."""
    url = url.strip()
    scp = re.fullmatch(r"(?:[^@/\s]+@)?([^:/\s]+):(?!//)(.+)", url)
    if scp and "://" not in url:
        host, path = scp.group(1), scp.group(2)
    else:
        parts = urlsplit(url)
        if parts.scheme in ("", "file") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    path = path.strip("/")
    path = path.removesuffix(".git")
    if not host or not path:
        return None
    origin = f"{host.lower()}/{path}"
    return origin if ORIGIN_RE.fullmatch(origin) else None


def _slug_part(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned or "models"


def _organization_from_origin(origin: str) -> str | None:
    parts = origin.split("/")
    if len(parts) >= 3 and LOGIN_RE.fullmatch(parts[1]):
        return parts[1]
    return None


def check_origin(origin: str) -> str:
    if not ORIGIN_RE.fullmatch(origin) or "//" in origin:
        raise UsageError(f"--origin {origin!r} is not a checkpoint origin line",
                         hint="expected a schema-less name without spaces or '+', "
                              "e.g. github.com/acme/models")
    return origin


# --- the founder -------------------------------------------------------------------------


def founder_from_git(directory: Path, login: str | None,
                     config_get: Callable[[str], str | None] | None = None) -> Founder | str:
    """The first person from git's identity and SSH signing key, or why there is none."""
    from governance.ledger.signing import commit_signer

    get = config_get or (lambda key: git_config(directory, key))
    name, email = get("user.name"), get("user.email")
    if not name or not email:
        return "git's user.name or user.email is unset (git config user.name/user.email)"
    try:
        with commit_signer(get) as signer:
            key = signer.public_key.line
    except GovernanceError as err:
        return err.message
    person = login or _login_from_email(email)
    if person is None:
        return (f"no person id could be derived from {email!r}: pass --login with your "
                "GitHub login")
    if not LOGIN_RE.fullmatch(person):
        raise UsageError(f"--login {person!r} is not a GitHub login",
                         hint="expected letters, digits, '.', '_' or '-', starting with a "
                              "letter or digit")
    return Founder(id=person, name=name, email=email, key=key)


def _login_from_email(email: str) -> str | None:
    local = email.split("@", 1)[0]
    # GitHub's private commit email: 12345+login@users.noreply.github.com
    local = local.split("+", 1)[1] if "+" in local else local
    return local if LOGIN_RE.fullmatch(local) else None


# --- the governance.yaml template --------------------------------------------------------


def _yaml_string(value: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    import json

    return json.dumps(value, ensure_ascii=False)


def render_config(template: str, *, organization: str, origin: str,
                  founder: Founder | None) -> str:
    """Fill the anchored placeholder lines of the scaffold's governance.yaml."""
    for line in (ORG_LINE, PEOPLE_LINE, ORIGIN_LINE, ROTATORS_LINE, BOT_EMAIL_LINE):
        if template.count(line) != 1:
            raise ConfigurationError(f"the scaffold's {CONFIG_FILE} lacks its placeholder "
                                     f"line {line.strip()!r}", hint="reinstall model-governance")
    text = template.replace(ORG_LINE, f"organization: {organization} ".ljust(len(ORG_LINE)))
    text = text.replace(ORIGIN_LINE, f"  origin: {origin}\n")
    text = text.replace(BOT_EMAIL_LINE, f"    email: ci-bot@{organization.lower()}.invalid\n")
    if founder is not None:
        text = text.replace(PEOPLE_LINE, (
            "people:\n"
            f"  - id: {founder.id}\n"
            f"    name: {_yaml_string(founder.name)}\n"
            f"    email: {_yaml_string(founder.email)}\n"
            f"    signing_keys: [{_yaml_string(founder.key)}]\n"))
        text = text.replace(ROTATORS_LINE, f"  rotators: [{founder.id}]\n")
    return text


# --- init --------------------------------------------------------------------------------


def _git_placement(directory: Path, options: InitOptions, notes: list[str]) -> None:
    """Make ``directory`` a repository of its own, or accept it inside one when told to."""
    if not options.git:
        return
    top = git_toplevel(directory)
    if top is not None and top.resolve() != directory.resolve():
        if options.subdirectory:
            notes.append(
                f"governing {display_path(directory)} as a subdirectory of the repository at "
                f"{display_path(top)}: GitHub runs workflows and reads CODEOWNERS only at "
                "the top of a repository; move .github/ there and set the workflows' "
                "working directory")
        elif options.new_repository:
            top = None
        else:
            raise UsageError(
                f"{display_path(directory)} is inside the git repository at "
                f"{display_path(top)}; nothing was written",
                hint="pass --new-repository to start a repository in it, or --subdirectory "
                     "to govern it as a subdirectory of the enclosing repository (a monorepo)")
    if top is None:
        if init_repository(directory, SCAFFOLD_BRANCH):
            notes.append(f"initialised a git repository on branch {SCAFFOLD_BRANCH!r} "
                         "(the protected branch in governance.yaml)")
        else:
            notes.append("git is not available: run `git init -b main` before "
                         "`governance ledger init`")
        return
    branch = current_branch(directory)
    if branch is not None and branch != SCAFFOLD_BRANCH:
        notes.append(
            f"this repository is on branch {branch!r}, but governance.yaml and the "
            f"workflows protect {SCAFFOLD_BRANCH!r} and promotion runs only from it: "
            f"rename the branch (git branch -m {SCAFFOLD_BRANCH}) or change "
            "protected_branch and the workflows' branch filters")


def init_repo(directory: Path, options: InitOptions | None = None) -> Scaffolded:
    """Scaffold a governed repository; existing files are left alone, never overwritten."""
    options = options or InitOptions()
    if options.new_repository and options.subdirectory:
        raise UsageError("--new-repository and --subdirectory exclude each other")
    if options.origin is not None:
        check_origin(options.origin)
    if options.organization is not None and not LOGIN_RE.fullmatch(options.organization):
        raise UsageError(f"--organization {options.organization!r} is not a GitHub "
                         "organisation name", hint="expected letters, digits, '.', '_' or '-'")
    from governance.pins import artifact_hash, installed_version

    for artifact in options.artifacts:  # refuse a wrong file before writing anything
        artifact_hash(artifact, installed_version())
    if options.workflows_from is not None:
        from governance.callers import parse_source

        parse_source(options.workflows_from)
    if (directory / CONFIG_FILE).exists():
        raise AlreadyExists(f"{display_path(directory / CONFIG_FILE)} already exists",
                            hint="this directory is already a governed repository")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{display_path(directory)} is not a directory")
    notes: list[str] = []
    if directory.exists():
        _git_placement(directory, options, notes)
    else:
        # a new directory: check the enclosing repository from its nearest existing parent
        parent = directory.parent
        while not parent.exists():
            parent = parent.parent
        directory.mkdir(parents=True)
        try:
            _git_placement(directory, options, notes)
        except UsageError:
            for made in (directory, *directory.parents):
                if made == parent:
                    break
                made.rmdir()
            raise
    organization, origin = _identity_of_log(directory, options, notes)
    founder: Founder | None = None
    if options.git:
        found = founder_from_git(directory, options.login)
        if isinstance(found, Founder):
            founder = found
            notes.append(f"added you as person {founder.id!r} ({founder.email}) and ledger "
                         f"rotator, with signing key {founder.key.split()[0]} "
                         f"...{founder.key.split()[1][-8:]}; change the id if it is not your "
                         "GitHub login")
        else:
            notes.append(f"no founder added ({found}): `governance ledger init` needs a "
                         "person with your signing key listed under ledger.rotators; set "
                         "`git config gpg.format ssh` and `git config user.signingkey "
                         "~/.ssh/id_ed25519.pub`, then `governance people add ID --name N "
                         "--email E --key KEY.pub` and list ID under ledger.rotators")
    written: list[Path] = []
    config_path = directory / CONFIG_FILE
    config_path.write_text(render_config((SCAFFOLD / CONFIG_FILE).read_text(encoding="utf-8"),
                                         organization=organization, origin=origin,
                                         founder=founder), encoding="utf-8", newline="\n")
    written.append(config_path)
    _copy_tree(SCAFFOLD, directory, written)
    for name in ("releases", "environments", "policies"):
        (directory / name).mkdir(exist_ok=True)
    if options.workflows_from is not None:
        from governance.callers import write_callers

        workflows = directory / ".github" / "workflows"
        write_callers([p for p in written if p.parent == workflows and p.suffix == ".yml"],
                      options.workflows_from, installed_version())
        notes.append(f"the workflows call {options.workflows_from.split('@')[0]}'s at a pinned "
                     "commit; .github/dependabot.yml proposes newer ones")
    from governance.approvals import ownership
    from governance.pins import write_requirements

    codeowners = directory / ownership.TARGET
    if not codeowners.exists():
        written.append(ownership.write(directory))
    written.extend(write_requirements(directory, notes, options.artifacts))
    return Scaffolded(written, notes, origin, organization, founder)


def _identity_of_log(directory: Path, options: InitOptions, notes: list[str]) -> tuple[str, str]:
    url = remote_url(directory, "origin") if options.git else None
    remote_origin = origin_from_remote(url) if url else None
    organization = options.organization or (
        _organization_from_origin(remote_origin) if remote_origin else None)
    if organization is None:
        organization = DEFAULT_ORGANIZATION
        notes.append(f"organization is {DEFAULT_ORGANIZATION!r}: pass --organization (or "
                     "edit governance.yaml) before naming teams")
    if options.origin is not None:
        return organization, options.origin
    if remote_origin is not None:
        return organization, remote_origin
    origin = f"github.com/{organization}/{_slug_part(directory.resolve().name)}"
    if not ORIGIN_RE.fullmatch(origin):
        raise UsageError(f"cannot derive a checkpoint origin from {origin!r}",
                         hint="pass --origin, e.g. github.com/acme/models")
    return organization, origin


__all__ = ["InitOptions", "Scaffolded", "init_repo", "origin_from_remote"]
