"""Real git repositories and real ssh-keygen ed25519 keys for the ledger tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from governance.domain.events import LedgerEntry
from governance.ledger import append_event, init_ledger
from governance.ledger.sshsig import load_private_key
from tests.integration.ledger.forge import Signer
from tests.support.shared import shared_dir

PEOPLE = {  # id -> (name, email)
    "jane.smith": ("Jane Smith", "jane.smith@example.com"),
    "bob": ("Bob Builder", "bob@example.com"),
    "dana": ("Dana Scully", "dana@example.com"),
}
BOT = ("governance-ci", "Governance CI", "governance-ci@users.noreply.example.com")
DIGEST = "sha256:" + "ab" * 32


@dataclass
class Keys:
    dir: Path

    def path(self, name: str) -> Path:
        return self.dir / name

    def pub(self, name: str) -> str:
        return (self.dir / f"{name}.pub").read_text().strip()

    def private(self, name: str) -> Any:
        return load_private_key(self.path(name).read_bytes())


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    if shutil.which("ssh-keygen") is None or shutil.which("git") is None:
        pytest.skip("ssh-keygen and git are needed for real signatures")

    def generate(d: Path) -> None:
        d.mkdir()
        for name in ("jane", "jane2", "bob", "dana", "ci", "mallory", "log", "log2"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                            "-f", str(d / name)], check=True)

    return Keys(shared_dir(tmp_path_factory, "ledger-keys", generate))


def governance_yaml(keys: Keys, checkpoint_every: int = 100, extra_people: str = "") -> str:
    return f"""apiVersion: governance/v1
kind: GovernanceConfig
organization: acme
protected_branch: main
people:
  - id: jane.smith
    name: Jane Smith
    email: jane.smith@example.com
    signing_keys: ["{keys.pub('jane')}"]
  - id: bob
    name: Bob Builder
    email: bob@example.com
    signing_keys: ["{keys.pub('bob')}"]
  - id: dana
    name: Dana Scully
    email: dana@example.com
    signing_keys: ["{keys.pub('dana')}"]
{extra_people}bots:
  - id: governance-ci
    name: Governance CI
    email: governance-ci@users.noreply.example.com
    signing_keys: ["{keys.pub('ci')}"]
    may_emit: [gate_evaluated, deployment_promoted, approval_granted, release_approved,
               evaluation_completed, rollback_executed]
roles:
  risk_owner: {{members: [jane.smith]}}
  platform_owner: {{members: [bob]}}
environments:
  staging: {{required_approvals: [risk_owner]}}
ledger:
  branch: governance/ledger
  origin: example.com/acme/models
  checkpoint_every: {checkpoint_every}
  log_public_key: "{keys.pub('log')}"
  rotators: [jane.smith]
  clock_skew_seconds: 300
"""


def make_repo(path: Path, keys: Keys, checkpoint_every: int = 100) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "governance.yaml").write_text(governance_yaml(keys, checkpoint_every))
    subprocess.run(["git", "add", "governance.yaml"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "governance"], cwd=path, check=True)
    return path


SIGNER_KEY = {"jane.smith": "jane", "bob": "bob", "dana": "dana", "governance-ci": "ci"}


@dataclass
class Ledger:
    root: Path
    keys: Keys

    def init(self, as_: str = "jane.smith", log: bool = True) -> LedgerEntry:
        return init_ledger(self.root, signing_key=self.keys.path(SIGNER_KEY[as_]),
                           log_key=self.keys.path("log") if log else None)

    def append(self, event_type: str, as_: str = "jane.smith", log: bool = True,
               key: str | None = None, **fields: Any) -> LedgerEntry:
        return append_event(self.root, {"event_type": event_type, **fields},
                            signing_key=self.keys.path(key or SIGNER_KEY[as_]),
                            log_key=self.keys.path("log") if log else None)

    def signer(self, who: str, key: str | None = None) -> Signer:
        if who == BOT[0]:
            name, email = BOT[1], BOT[2]
        else:
            name, email = PEOPLE[who]
        return Signer(name, email, self.keys.private(key or SIGNER_KEY[who]))

    def signing_keys(self) -> dict[str, Any]:
        out = {email: self.keys.private(SIGNER_KEY[who]) for who, (_, email) in PEOPLE.items()}
        out[BOT[2]] = self.keys.private("ci")
        return out


def promote_to_staging(led: Ledger, release: str) -> None:
    """An allowing gate decision, a risk_owner approval and the promotion of ``release`` to
    staging (the CI bot records the gate and the promotion)."""
    led.append("gate_evaluated", as_="governance-ci", model_name="fraud-risk",
               release_id=release, environment="staging", release_digest=DIGEST,
               decision={"decision_id": f"d-{release}", "allow": True},
               actor_id="governance-ci")
    led.append("approval_granted", model_name="fraud-risk", release_id=release,
               actor_role="risk_owner", approval_state="approved", release_digest=DIGEST)
    led.append("deployment_promoted", as_="governance-ci", model_name="fraud-risk",
               release_id=release, environment="staging", release_digest=DIGEST,
               actor_id="governance-ci")


def fill_honest(led: Ledger) -> None:
    """Genesis plus six events by people and the CI bot (checkpoints on approval/promotion)."""
    led.init()
    led.append("model_registered", model_name="fraud-risk")
    led.append("release_registered", model_name="fraud-risk", release_id="r1",
               model_version="1.0.0", release_digest=DIGEST)
    promote_to_staging(led, "r1")
    led.append("release_registered", as_="bob", model_name="fraud-risk", release_id="r2",
               model_version="1.1.0", release_digest=DIGEST)


@pytest.fixture(autouse=True)
def _no_ledger_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GOVERNANCE_LEDGER_SIGNING_KEY", "GOVERNANCE_LEDGER_LOG_KEY",
                "GOVERNANCE_LEDGER_TEST_PAUSE", "GOVERNANCE_LEDGER_TEST_PAUSE_FILE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def honest_template(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    def honest(root: Path) -> None:
        fill_honest(Ledger(make_repo(root, keys), keys))

    return shared_dir(tmp_path_factory, "ledger-honest", honest)


@pytest.fixture
def ledger(tmp_path: Path, honest_template: Path, keys: Keys) -> Iterator[Ledger]:
    root = tmp_path / "repo"
    shutil.copytree(honest_template, root, symlinks=True)
    yield Ledger(root, keys)
