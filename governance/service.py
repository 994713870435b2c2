"""The composition root: one governed repository, its verified ledger, its index and its ports.

A CLI command asks a ``Service`` for what it works on instead of opening it itself: the
repository (``--repo``, default the current directory, walking up to governance.yaml), the
ledger through the verified reader (``governance.ledger.reader.ledger_source``, DESIGN section
11), an answer from the query index caught up with that ledger, the verified entries, an append
on the verified tip, and the ports a lifecycle decision needs (approvals source, deployers,
gates, event source, crash-test pause). Nothing is opened before it is asked for, and every
heavy module (the ledger writer, GitPython, the Rego engine, PyGithub) is imported inside the
method that needs it, so a read query still imports only what it reads
(tests/unit/test_import_budget.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import sqlite3

    from governance.ci_context import CiContext
    from governance.config_change import ConfigChangePorts
    from governance.domain.config import GovernanceConfig
    from governance.domain.events import LedgerEntry
    from governance.domain.source import LedgerSource
    from governance.ledger.verified import VerifiedLedger
    from governance.lifecycle import LifecycleState
    from governance.promotion import Ports
    from governance.repo import GovernedRepo

T = TypeVar("T")


def open_ledger(root: Path, *, allow_prefix: bool = False,
                recording: bool = False) -> VerifiedLedger:
    """The ledger of the governed repository at ``root``, through verification: the one place
    the root reads it (tests feed a synthetic ledger by replacing this function).
    ``allow_prefix`` answers from the verified prefix of a ledger that fails verification (the
    caller must then say so); ``recording`` serves a command that decides and records."""
    from governance.ledger.reader import ledger_source  # lazy: keeps start-up fast

    return ledger_source(root, allow_prefix=allow_prefix, recording=recording)


class Service:
    """What one command works on: the governed repository found from ``start``."""

    def __init__(self, start: Path = Path(".")) -> None:
        self.start = start

    @cached_property
    def root(self) -> Path:
        """The governed repository containing ``start`` (ConfigurationError, exit 3, when
        there is none)."""
        from governance.config import require_root
        from governance.display import display_from

        root = require_root(self.start)
        display_from(root)  # run from elsewhere (--repo): paths read as from the root
        return root

    @property
    def ledger_root(self) -> Path:
        """For the ``ledger`` commands: the governed repository holding ``start`` (walking up,
        as git does), else ``start`` itself (the ledger names what is missing there)."""
        from governance.config import find_root

        return find_root(self.start) or self.start

    @cached_property
    def repo(self) -> GovernedRepo:
        from governance.repo import GovernedRepo

        return GovernedRepo(self.root)

    @property
    def config(self) -> GovernanceConfig:
        return self.repo.config

    def remembered_config(self) -> GovernanceConfig:
        """governance.yaml as a read query needs it: the validated copy remembered for the
        file's exact bytes when there is one (``governance.config_cache``; no YAML parser or
        schema library loaded), else read and validated. Commands that decide or record use
        ``config``."""
        from governance.config import load_config

        return load_config(self.root, remembered=True)

    # --- the verified ledger and the index ------------------------------------------------

    def ledger(self, *, allow_prefix: bool = False, recording: bool = False) -> VerifiedLedger:
        return open_ledger(self.root, allow_prefix=allow_prefix, recording=recording)

    def answer(self, question: Callable[[sqlite3.Connection], T], *,
               source: LedgerSource | None = None) -> T:
        """``question`` answered from the query index, caught up with ``source`` (default:
        the verified ledger) and checked against it row by row (``governance.audit.index``)."""
        from governance.audit.index import answer

        return answer(self.root, source if source is not None else self.ledger(), question)

    def entries(self) -> list[LedgerEntry]:
        """Every verified ledger entry in seq order (LedgerTampered, exit 1, when the ledger
        fails verification)."""
        from governance.ledger.verified import VerifiedLedger

        with VerifiedLedger(self.root) as ledger:
            return list(ledger.entries(0))

    def append(self, fields: Mapping[str, Any], *, remote: str | None = None) -> LedgerEntry:
        """Append one signed event on the verified tip (``governance.ledger.append``)."""
        from governance.ledger import append_event

        return append_event(self.root, fields, remote=remote)

    def head_commit(self) -> str | None:
        """Full sha of HEAD of the repository (None outside git)."""
        from governance.vcs import head_commit

        return head_commit(self.root)

    def config_change_ports(self) -> ConfigChangePorts:
        """git and GitHub behind ``governance.config_change.record_config_change``."""
        from governance.approvals.evaluate import review_config_change
        from governance.approvals.gitfiles import changed_between, object_at
        from governance.config_change import ConfigChangePorts

        root = self.root
        return ConfigChangePorts(
            changed=lambda before, after: changed_between(root, before, after),
            review=lambda pr, paths: review_config_change(root, pr, paths),
            object_at=lambda commit, path: object_at(root, commit, path),
            append=self.append)

    # --- the ports of a lifecycle decision ------------------------------------------------

    def ports(self, remote: str | None = None, *, approvals: str = "git",
              pr: int | None = None, ci: CiContext | None = None) -> Ports:
        """The ports ``governance.promotion`` and ``governance.approving`` decide through:
        who signs, which approvals count (the ledger's, or a pull request's reviews when one
        is given), the deployers separation of duties checks, the gates, the event source and
        the crash-test pause, all read from ``ci`` (the CI context read at the CLI edge)."""
        from governance import ci_context
        from governance.ledger.append import signer_principal
        from governance.promotion import Ports

        repo = self.repo
        ci = ci or ci_context.current()
        actor = signer_principal(repo.root)
        if pr is None:
            pr = ci.pull_request()
        if pr is not None and approvals == "git":
            approvals = "github"  # the promote workflow: the merged pull request's reviews
        # In CI the signer is the bot; the people who approved the deployment run (GitHub
        # deployment review) are the deployers that separation of duties checks, and the events
        # name them (source.deployers) so an auditor sees who deployed, not only the bot.
        deployers = ci.deployers(actor)
        source: dict[str, Any] = {"pr": pr} if pr is not None else {}
        if ci.deployer:
            source["deployers"] = list(deployers)

        def gates(*args: Any) -> Any:
            from governance.policy.port import gates_port  # lazy: the engine loads on demand

            return gates_port(repo, deployers=deployers, approvals=approvals, pr=pr)(*args)

        reviewed = None
        if approvals == "github" and pr is not None:
            number = pr

            def reviewed(loaded: Any) -> tuple[str | None, str]:
                from governance.approvals.pull_request import pull_request_head
                from governance.policy.request import digest_at_commit

                head = pull_request_head(number)
                return digest_at_commit(repo, loaded.directory, head), head

        basis = _Basis(self, remote)
        return Ports(
            reviewed=reviewed,
            entries=basis.entries,
            append=basis.append,
            gates=gates,
            actor=actor,
            pause=ci.pause,
            source=source,
            fold=basis.state,
            production_env=repo.config.production_environment,
        )


class _Basis:
    """The verified ledger commit a command's decision rests on: set by every read of the
    lifecycle state or the entries, moved by each of the command's own appends, and required
    of the next append (``append_event(expected_tip=...)``), so a decision lands only on the
    tip it was made on (issue 14: decide on the tip you append to)."""

    def __init__(self, service: Service, remote: str | None) -> None:
        self.service = service
        self.remote = remote
        self.tip: str | None = None

    def state(self, model: str) -> LifecycleState:
        """One model's lifecycle from the query index, at the verified head."""
        from governance.status import model_state

        service = self.service
        source = service.ledger(recording=True)
        production = service.config.production_environment
        state = service.answer(lambda conn: model_state(conn, model, production_env=production),
                               source=source)
        self.tip = source.last_commit
        return state

    def entries(self) -> list[Any]:
        from governance.ledger.verified import VerifiedLedger

        with VerifiedLedger(self.service.root, recording=True) as ledger:
            rows = list(ledger.entries(0))
            self.tip = ledger.last_commit
        return rows

    def append(self, fields: Any) -> Any:
        from governance.ledger import append_event

        entry = append_event(self.service.root, fields, remote=self.remote,
                             expected_tip=self.tip)
        self.tip = entry.commit
        return entry
