"""The one normal form in which identities are compared (issue 14).

People and bot ids are GitHub logins (DESIGN section 10), and GitHub treats logins
case-insensitively: ``Alice`` and ``alice`` are one account. A trainer written ``Alice`` in
release.yaml must therefore be the same person as the approver ``alice``. Every comparison of
identities in Python (approve, the counting rules, separation of duties, the gate input the
Rego policies compare) goes through ``identity_key``; the spelling shown to people is left
as written wherever it is only displayed.
"""

from __future__ import annotations

from collections.abc import Iterable


def identity_key(identity: str) -> str:
    """The comparison form of a login, person/bot id or org/slug team: casefolded, trimmed."""
    return identity.strip().casefold()


def same_identity(a: str | None, b: str | None) -> bool:
    """Whether two ids name the same identity (an absent id is nobody)."""
    return bool(a and b) and identity_key(a or "") == identity_key(b or "")


def identity_keys(identities: Iterable[str]) -> frozenset[str]:
    """The comparison forms of several identities (membership tests, distinct people)."""
    return frozenset(identity_key(i) for i in identities)
