"""Round-trip edits of governance.yaml (``governance.yaml_edit`` through ``governance.people``):
the comments a team wrote stay where they were, whatever is added or removed, and every
result loads with the project's own safe loader."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance import people, yaml_edit
from governance.ledger.sshsig import public_key_of

CONFIG = """\
apiVersion: governance/v1
kind: GovernanceConfig
people:
  - id: alice
    name: Alice
    email: alice@example.com   # work address
# former staff are kept in git history, not here

bots: []
roles:
  ml_lead:
    members: [alice]  # one lead for now
environments:
  staging:
    required_approvals: [ml_lead]
ledger:
  checkpoint_every: 100  # default
"""


def key(comment: str) -> people.KeyLine:
    pub = public_key_of(Ed25519PrivateKey.generate())
    return people.KeyLine(f"{pub.line} {comment}", pub)


def edit(text: str, change: Any) -> str:
    doc = yaml_edit.parse(text)
    change(doc, yaml_edit.checked(text))
    out = yaml_edit.render(doc)
    yaml_edit.checked(out)  # loads and validates with the safe loader and schema
    return out


def comments(text: str) -> list[str]:
    return [ln.split("#", 1)[1].strip() for ln in text.splitlines() if "#" in ln]


def test_adding_and_removing_keeps_every_comment_in_place() -> None:
    bob, carol = key("bob"), key("carol")
    text = edit(CONFIG, lambda d, c: people.add_person(d, c, "bob", "Bob", "bob@example.com",
                                                       bob, ["ml_lead"], True))
    text = edit(text, lambda d, c: people.add_person(d, c, "carol", "Carol",
                                                     "carol@example.com", None, [], True))
    assert comments(text) == comments(CONFIG)
    lines = text.splitlines()
    # the inline comment stays on alice's line; the block comment follows the whole list
    assert "    email: alice@example.com   # work address" in lines
    assert lines.index("# former staff are kept in git history, not here") \
        > lines.index("  - id: carol") > lines.index("  - id: bob")
    assert "    signing_keys: []" in lines  # a person without a key yet
    assert "rotators: [bob, carol]" in text
    text = edit(text, lambda d, c: people.add_key(d, "carol", carol))
    text = edit(text, lambda d, c: people.retire_key(d, c, "carol", carol.key.fingerprint))
    text = edit(text, lambda d, c: people.remove_person(d, c, "carol"))
    assert comments(text) == comments(CONFIG)
    assert text.splitlines()[:6] == CONFIG.splitlines()[:6]
    assert "rotators: [bob]" in text and "carol" not in text
    lines = text.splitlines()
    assert lines.index("# former staff are kept in git history, not here") \
        > lines.index("  - id: bob")
