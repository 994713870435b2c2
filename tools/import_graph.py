"""Print the import graph's cycles for the ``governance`` package (and, with ``--facts``, the
modules and lines per package and the longest functions).

Every ``import``/``from ... import`` naming a ``governance`` module counts, wherever it stands
(module level, inside a function, under ``TYPE_CHECKING``): a deferred import still ties the two
modules together, it only moves the failure from import time to call time. A cycle is a strongly
connected component of more than one module (Tarjan), printed as its members.

The layer contracts of docs/architecture.md are checked on the same graph (``CONTRACTS``: which
packages a layer must not import); ``tests/unit/test_import_contracts.py`` runs them in CI and
feeds each one a violating graph, so none of them can pass vacuously.

    python tools/import_graph.py                 # cycles and contracts; exit 1 on any break
    python tools/import_graph.py --facts         # plus lines per package, longest functions
    python tools/import_graph.py --top-level-only  # only module-level imports
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "governance"


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` is or lies inside."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(tree: ast.Module, top_level_only: bool) -> Iterator[tuple[str, list[str], int]]:
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            yield "", [a.name for a in node.names], 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", [a.name for a in node.names], node.level


def graph(root: Path, top_level_only: bool = False) -> dict[str, set[str]]:
    known = modules(root)
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for module, names, level in _imports(tree, top_level_only):
            if level:
                base = name.split(".")
                base = base[: len(base) - level + (1 if is_pkg else 0)]
                module = ".".join([*base, module] if module else base)
            if module:
                targets = [f"{module}.{n}" for n in names] if names else [module]
            else:
                targets = names
            for target in targets:
                hit = _resolve(target, known)
                if hit and hit != name and not name.startswith(hit + "."):
                    edges[name].add(hit)
        edges.setdefault(name, set())
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out)


@dataclass(frozen=True)
class Contract:
    """Modules under any of ``layer`` must not import a module under any of ``forbidden``,
    except the edges named in ``allowed`` (importer, imported), each with its reason in the
    contract's ``why``. Names are dotted prefixes: ``governance.ledger`` covers the package."""

    name: str
    layer: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[tuple[str, str], ...] = ()
    exempt: tuple[str, ...] = ()  # modules of ``layer`` the contract does not cover
    inside: tuple[str, ...] = ()  # always importable (the layer's own package)


def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# Everything of ours the ledger may import (besides itself and the named audit port edge).
LEDGER_MAY_IMPORT = ("governance.domain", "governance.errors", "governance.config",
                     "governance.ci_context", "governance.timeparse", "governance.input_files")
LEDGER_CONTRACT = ("ledger imports only domain, errors, config, ci_context, timeparse, "
                   "input_files, and of audit only its port")

# The layers, bottom up (docs/architecture.md): domain; the pure core modules; ledger;
# policy, approvals, audit, report; adapters (sinks, approvals.github, policy.engines, vcs);
# cli at the top. Each contract is a rule that holds today and that a change must not break.
CONTRACTS = (
    Contract(
        "domain imports nothing of ours outside domain",
        layer=("governance.domain",),
        forbidden=("governance",),
        inside=("governance.domain",),
        why="domain values are the vocabulary every layer shares; they depend on nothing",
    ),
    Contract(
        "nothing below cli imports governance.cli",
        layer=("governance",),
        forbidden=("governance.cli",),
        exempt=("governance.cli", "governance.__main__"),
        why="commands are the top layer: parse, call one core function, render",
    ),
    Contract(
        LEDGER_CONTRACT,
        layer=("governance.ledger",),
        forbidden=("governance",),
        inside=("governance.ledger", *LEDGER_MAY_IMPORT),
        why="the ledger is evidence: it verifies and stores events and decides nothing about "
            "them, so it stands on the domain values and the leaf modules only (errors, the "
            "config loader, the CI context, time parsing, bounded input reads); a use case that "
            "folds or renders ledger events (the pointer branch, governance.pointers) lives "
            "above it. The LedgerSource port the verified reader implements is domain.source",
    ),
    Contract(
        "sinks import no cli, report, policy or approvals",
        layer=("governance.sinks",),
        forbidden=("governance.cli", "governance.report", "governance.policy",
                   "governance.approvals"),
        why="a sink is an adapter fed ledger entries through the LedgerSource port",
    ),
    Contract(
        "policy and approvals import no cli, report, audit or sinks",
        layer=("governance.policy", "governance.approvals"),
        forbidden=("governance.cli", "governance.report", "governance.audit",
                   "governance.sinks"),
        why="decisions are made below the read models and renderers that show them",
    ),
)


def contract_violations(edges: dict[str, set[str]],
                        contracts: Iterable[Contract] = CONTRACTS) -> list[str]:
    """Every import that breaks a contract, as ``contract: importer -> imported``."""
    out = []
    for contract in contracts:
        for importer in sorted(edges):
            if not _under(importer, contract.layer) or _under(importer, contract.exempt):
                continue
            for imported in sorted(edges[importer]):
                if not _under(imported, contract.forbidden) or _under(imported, contract.inside):
                    continue
                if (importer, imported) in contract.allowed:
                    continue
                out.append(f"{contract.name}: {importer} -> {imported}")
    return out


def facts(root: Path, longest: int) -> None:
    per_package: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    functions: list[tuple[int, str]] = []
    for name, path in modules(root).items():
        text = path.read_text(encoding="utf-8")
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        per_package[package][0] += 1
        per_package[package][1] += len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                size = node.end_lineno - node.lineno + 1
                functions.append((size, f"{path.relative_to(root)}:{node.lineno} {node.name}"))
    print("modules and lines per package:")
    for package, (count, lines) in sorted(per_package.items()):
        print(f"  {package:32} {count:4} modules {lines:7} lines")
    print(f"longest functions (top {longest}):")
    for size, where in sorted(functions, reverse=True)[:longest]:
        print(f"  {size:5} lines  {where}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--top-level-only", action="store_true",
                        help="count only module-level imports")
    parser.add_argument("--facts", action="store_true",
                        help="also print modules/lines per package and the longest functions")
    parser.add_argument("--longest", type=int, default=15)
    args = parser.parse_args(argv)
    edges = graph(args.root, args.top_level_only)
    found = cycles(edges)
    print(f"import cycles in {PACKAGE}/: {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))
    broken = contract_violations(edges)
    print(f"layer contracts: {len(CONTRACTS)}, broken imports: {len(broken)}")
    for line in broken:
        print("  " + line)
    if args.facts:
        facts(args.root, args.longest)
    return 1 if found or broken else 0


if __name__ == "__main__":
    sys.exit(main())
