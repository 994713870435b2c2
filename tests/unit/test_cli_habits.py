"""Command-line habits: --version, usage errors without artefacts, signing set-up messages."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from governance import __version__
from governance.cli.app import app
from governance.errors import ConfigurationError
from governance.ledger.signing import ENV_SIGNING_KEY, commit_signer


def test_version() -> None:
    done = CliRunner().invoke(app, ["--version"], catch_exceptions=False)
    assert done.exit_code == 0
    assert done.output == f"governance {__version__}\n"
    assert __version__ == version("model-governance")


@pytest.mark.parametrize("args", [
    ["check", "x", "--format", "bogus"],
    ["audit", "query", "--format", "bogus"],
    ["ledger", "log", "--format", "bogus"],
    ["status", "--format", "bogus"],
    ["status", "--limit", "zero"],
])
def test_usage_errors_name_no_phantom_environment_variable(args: list[str]) -> None:
    done = CliRunner().invoke(app, args, catch_exceptions=False)
    assert done.exit_code == 2
    assert "Invalid value for" in done.output
    assert "env var" not in done.output and "None" not in done.output


def _config(values: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda key: values.get(key)


def _refusal(values: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(ENV_SIGNING_KEY, raising=False)
    with pytest.raises(ConfigurationError) as caught, commit_signer(_config(values)):
        pass
    return caught.value.diagnostics()


def test_nothing_configured_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _refusal({}, monkeypatch)
    assert "openpgp" not in text
    assert f"{ENV_SIGNING_KEY} is not set" in text
    assert "gpg.format and user.signingkey are unset" in text
    assert "git config gpg.format ssh && git config user.signingkey" in text


def test_a_key_without_ssh_format(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _refusal({"user.signingkey": "ABCDEF"}, monkeypatch)
    assert "gpg.format is unset (git's default is openpgp)" in text
    assert "hint: git config gpg.format ssh," in text


def test_openpgp_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _refusal({"gpg.format": "openpgp", "user.signingkey": "ABCDEF"}, monkeypatch)
    assert "git is configured to sign with gpg.format=openpgp" in text


def test_ssh_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _refusal({"gpg.format": "ssh"}, monkeypatch)
    assert "user.signingkey is unset" in text
    assert "hint: git config user.signingkey ~/.ssh/id_ed25519.pub" in text
