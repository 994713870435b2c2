"""This repository runs exactly the workflows `governance init` scaffolds (dogfooding)."""

from __future__ import annotations

from tests.integration.workflows.workflow_files import DOGFOOD_DIR, SCAFFOLD_DIR, WORKFLOWS


def test_scaffold_holds_the_three_workflows() -> None:
    assert sorted(p.name for p in SCAFFOLD_DIR.iterdir()) == sorted(WORKFLOWS)


def test_dogfooded_copies_are_byte_identical() -> None:
    dogfood = sorted(p.name for p in DOGFOOD_DIR.glob("governance-*"))
    assert dogfood == sorted(WORKFLOWS)
    for name in WORKFLOWS:
        scaffold = (SCAFFOLD_DIR / name).read_bytes()
        assert (DOGFOOD_DIR / name).read_bytes() == scaffold, (
            f".github/workflows/{name} differs from the scaffold; copy it: "
            f"cp governance/scaffold/.github/workflows/{name} .github/workflows/"
        )
