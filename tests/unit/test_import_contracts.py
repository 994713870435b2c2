"""The layer contracts of docs/architecture.md hold on the real import graph, and each can fail.

The graph is ``tools/import_graph.py``'s (every import of a ``governance`` module, deferred ones
included). Each contract is also fed a synthetic graph with one import it forbids, so a contract
that could never fire (a typo in a prefix, an exemption that swallows the layer) fails here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools/import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


tool = _tool()
EDGES = tool.graph(ROOT)

# One import each contract forbids, in a graph that otherwise holds every contract.
VIOLATIONS = {
    "domain imports nothing of ours outside domain":
        ("governance.domain.release", "governance.timeparse"),
    "nothing below cli imports governance.cli":
        ("governance.promotion", "governance.cli.output"),
    tool.LEDGER_CONTRACT:
        ("governance.ledger.store", "governance.audit.index"),
    "sinks import no cli, report, policy or approvals":
        ("governance.sinks.postgres", "governance.policy.gates"),
    "policy and approvals import no cli, report, audit or sinks":
        ("governance.approvals.evaluate", "governance.report.markdown"),
}


def test_the_real_graph_keeps_every_contract() -> None:
    assert tool.contract_violations(EDGES) == []


def test_the_real_graph_has_no_cycle() -> None:
    assert tool.cycles(EDGES) == []


def test_the_graph_sees_the_packages() -> None:
    """A graph that lost the package (wrong root) would keep every contract vacuously."""
    assert "governance.ledger.verified" in EDGES
    assert "governance.domain.source" in EDGES["governance.ledger.verified"]
    assert len(EDGES) > 100


def test_every_contract_has_a_violating_example() -> None:
    assert sorted(VIOLATIONS) == sorted(c.name for c in tool.CONTRACTS)


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_each_contract_can_fail(name: str) -> None:
    importer, imported = VIOLATIONS[name]
    edges = {k: set(v) for k, v in EDGES.items()}
    edges.setdefault(importer, set()).add(imported)
    edges.setdefault(imported, set())
    assert tool.contract_violations(edges) == [f"{name}: {importer} -> {imported}"]


def test_a_named_exception_is_only_that_edge() -> None:
    """A contract's ``allowed`` edge lets that importer import that module, nothing more."""
    contract = tool.Contract("ledger imports no audit", layer=("governance.ledger",),
                             forbidden=("governance.audit",), why="example",
                             allowed=(("governance.ledger.verified", "governance.audit.port"),))
    edges = {"governance.ledger.verified": {"governance.audit.port", "governance.audit.index"},
             "governance.ledger.reader": {"governance.audit.port"}}
    assert tool.contract_violations(edges, [contract]) == [
        "ledger imports no audit: governance.ledger.reader -> governance.audit.port",
        "ledger imports no audit: governance.ledger.verified -> governance.audit.index",
    ]


# What the pointer-branch use case imported while it lived in governance/ledger/, and other
# modules above the ledger: each is refused, since the ledger names what it may import.
ABOVE_THE_LEDGER = ("governance.authoring", "governance.environments", "governance.lifecycle",
                    "governance.yaml_source", "governance.pointers", "governance.promotion",
                    "governance.service", "governance.status")


@pytest.mark.parametrize("imported", ABOVE_THE_LEDGER)
def test_the_ledger_imports_nothing_above_it(imported: str) -> None:
    assert imported in EDGES, "the example must be a real module"
    edges = {k: set(v) for k, v in EDGES.items()}
    edges["governance.ledger.append"].add(imported)
    assert tool.contract_violations(edges) == [
        f"{tool.LEDGER_CONTRACT}: governance.ledger.append -> {imported}"]


def test_the_ledger_may_import_what_it_names() -> None:
    """The allowlist is not vacuous: every entry is a real module the ledger does import, and an
    import of one of them (or of a domain submodule) is no break."""
    used = {t for m, ts in EDGES.items() if m.startswith("governance.ledger.") for t in ts}
    for allowed in tool.LEDGER_MAY_IMPORT:
        assert allowed in EDGES or any(m.startswith(allowed + ".") for m in EDGES), allowed
        assert any(t == allowed or t.startswith(allowed + ".") for t in used), allowed
    edges = {"governance.ledger.store": {"governance.domain.events", "governance.errors",
                                         "governance.ledger.refs"}}
    assert tool.contract_violations(edges) == []


def test_the_pointer_use_case_lives_above_the_ledger() -> None:
    assert "governance.ledger.pointers" not in EDGES
    assert {"governance.lifecycle", "governance.environments", "governance.authoring",
            "governance.ledger.append"} <= EDGES["governance.pointers"]


def test_a_cycle_is_found() -> None:
    edges = {"governance.policy.engine": {"governance.policy.engines.opa"},
             "governance.policy.engines.opa": {"governance.policy.engine"}}
    assert tool.cycles(edges) == [["governance.policy.engine", "governance.policy.engines.opa"]]


def test_the_tool_exits_1_on_a_broken_contract(tmp_path: Path) -> None:
    pkg = tmp_path / "governance"
    (pkg / "domain").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "domain" / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "domain" / "card.py").write_text("from governance.errors import x\n")
    assert tool.main(["--root", str(tmp_path)]) == 1
    (pkg / "domain" / "card.py").write_text("from governance.domain import x\n")
    assert tool.main(["--root", str(tmp_path)]) == 0
