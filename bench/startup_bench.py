"""Start-up benchmark (issue 18): whole-process time of the read queries, against GTO and MLflow.

    .venv/bin/python bench/startup_bench.py [--models 3] [--versions 1000] [--runs 15]
        [--tools-venv DIR] [--install-venv DIR] [--no-tools] [--out bench/results/startup.md]

One generated history, measured in one run:
  * a governed repository (bench/generate_repo.py's releases) with --models models of --versions
    releases each, and a real signed ledger (bulk import, ssh-keygen keys) where every release
    is registered, gated, approved and promoted to production: --models x --versions releases,
    four events each;
  * ``governance --help``, ``--version`` and, with the query index warm, ``live MODEL --env
    production``, ``status MODEL`` and ``history MODEL`` (output to /dev/null), each a fresh
    process, median of --runs;
  * GTO on the same --versions versions of MODEL expressed as GTO tags (one commit per version,
    an annotated registration tag ``MODEL@vX.Y.Z`` and a stage tag ``MODEL#prod#N`` on each):
    ``gto show MODEL#prod`` and ``gto history MODEL``;
  * MLflow's registry in a local SQLite store holding the same --versions versions of MODEL
    with the alias ``prod`` on the last: a ``python -c`` client calling
    ``MlflowClient().get_model_version_by_alias`` and ``search_model_versions``.

Two installs of governance are measured side by side: the development one running this script
(``pip install -e``: every start pays setuptools' editable-install finder) and a regular
install, what a user runs: ``pip install .`` of this checkout into --install-venv (created
when missing, the package reinstalled on every run). Both run with bytecode caching on (the
measured processes never get ``PYTHONDONTWRITEBYTECODE``, which would recompile every module on
every start: a user's shell does not set it), after one warm-up run of each command.

GTO and MLflow run from another virtual environment (--tools-venv, default
/tmp/governance-bench-tools; created with ``pip install gto mlflow-skinny sqlalchemy alembic``
when missing): never the project's dependencies. Without it those rows say "not measured".
The machine is shared: the load average is recorded before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate_repo import generate  # noqa: E402
from bench.ledger_bench import keygen, machine  # noqa: E402

DIGEST = "sha256:" + "ab" * 32
GOVERNANCE = Path(sys.executable).parent / "governance"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def config(keys: Path) -> str:
    pub = {n: (keys / f"{n}.pub").read_text().strip() for n in ("jane", "bob", "ci", "log")}
    return f"""apiVersion: governance/v1
kind: GovernanceConfig
organization: acme
protected_branch: main
people:
  - {{id: jane.smith, name: Jane Smith, email: jane.smith@example.com,
      signing_keys: ["{pub['jane']}"]}}
  - {{id: bob, name: Bob Builder, email: bob@example.com, signing_keys: ["{pub['bob']}"]}}
bots:
  - id: governance-ci
    name: Governance CI
    email: governance-ci@users.noreply.example.com
    signing_keys: ["{pub['ci']}"]
    may_emit: [gate_evaluated, deployment_promoted, approval_granted, evaluation_completed]
roles:
  risk_owner: {{members: [jane.smith]}}
  platform_owner: {{members: [bob]}}
environments:
  staging: {{required_approvals: [risk_owner]}}
  production: {{required_approvals: [risk_owner]}}
ledger:
  origin: example.com/acme/models
  checkpoint_every: 1000
  log_public_key: "{pub['log']}"
  rotators: [jane.smith]
"""


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env=env).stdout


def releases_of(root: Path, model: str) -> list[str]:
    return sorted(p.name for p in (root / "releases" / model).iterdir() if p.is_dir())


def build_governed(work: Path, models: int, versions: int) -> tuple[Path, list[str]]:
    from governance.authoring import dump_document
    from governance.ledger import init_ledger
    from governance.ledger.bulk import bulk_import

    keys = work / "keys"
    keys.mkdir()
    for name in ("jane", "bob", "ci", "log"):
        keygen(keys, name)
    staging = work / "generated"
    generate(staging, models, versions)
    root = work / "governed"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    (root / "governance.yaml").write_text(config(keys))
    shutil.move(str(staging / "releases"), str(root / "releases"))
    names = sorted(p.name for p in (root / "releases").iterdir())
    (root / "environments").mkdir()
    for env in ("staging", "production"):
        body = {"environment": env, "models": {m: {"release_id": releases_of(root, m)[-1]}
                                                for m in names}}
        (root / "environments" / f"{env}.yaml").write_text(dump_document("EnvironmentState",
                                                                         body))
    shutil.copytree(ROOT / "policies", root / "policies")
    (root / ".gitignore").write_text(".governance/\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "generated governed repository")
    init_ledger(root, signing_key=keys / "jane", log_key=keys / "log")

    def events() -> Iterator[tuple[dict[str, Any], Path]]:
        for m in names:
            yield {"event_type": "model_registered", "model_name": m}, keys / "jane"
        for m in names:
            for k, rid in enumerate(releases_of(root, m)):
                yield ({"event_type": "release_registered", "model_name": m, "release_id": rid,
                        "model_version": f"1.0.{k}", "release_digest": DIGEST}, keys / "jane")
                for env in ("staging", "production"):
                    yield ({"event_type": "gate_evaluated", "model_name": m,
                            "release_id": rid, "environment": env, "release_digest": DIGEST,
                            "decision": {"decision_id": f"d-{rid}-{env}", "allow": True},
                            "actor_id": "governance-ci"}, keys / "ci")
                yield ({"event_type": "approval_granted", "model_name": m, "release_id": rid,
                        "actor_role": "risk_owner", "approval_state": "approved",
                        "release_digest": DIGEST}, keys / "jane")
                for env in ("staging", "production"):
                    yield ({"event_type": "deployment_promoted", "model_name": m,
                            "release_id": rid, "environment": env, "release_digest": DIGEST,
                            "actor_id": "governance-ci"}, keys / "ci")

    n = bulk_import(root, events(), log_key=keys / "log")
    return root, [f"{n + 1} ledger events"]


def build_gto(work: Path, model: str, versions: int) -> Path:
    """``versions`` commits, each with GTO's registration tag and a prod assignment tag (the
    tags ``gto register`` and ``gto assign`` write), in one ``git fast-import``."""
    root = work / "gto"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    lines: list[str] = []
    base = 1_767_225_600  # 2026-01-01
    for k in range(versions):
        when = base + 3600 * k
        msg = f"train {model} {k}\n"
        lines += ["commit refs/heads/main", f"mark :{k + 1}",
                  f"committer b <b@example.com> {when} +0000", f"data {len(msg)}", msg.rstrip()]
        if k:
            lines.append(f"from :{k}")
        content = f"{model} weights {k}\n"
        lines += [f"M 644 inline model-{model}.txt", f"data {len(content)}", content.rstrip(), ""]
    for k in range(versions):
        when = base + 3600 * k + 60
        for tag, text in ((f"{model}@v1.0.{k}", f"Registering artifact {model} version v1.0.{k}"),
                          (f"{model}#prod#{k + 1}",
                           f"Assigning stage prod to artifact {model} version v1.0.{k}")):
            lines += [f"tag {tag}", f"from :{k + 1}", f"tagger b <b@example.com> {when} +0000",
                      f"data {len(text.encode()) + 1}", text, ""]
    stream = "\n".join(lines) + "\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=stream.encode(),
                   check=True)
    _git(root, "checkout", "-q", "main")
    return root


MLFLOW_BUILD = """
import sys
from mlflow import MlflowClient
uri, model, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
client.create_registered_model(model)
for k in range(n):
    v = client.create_model_version(model, source=f"s3://models/{model}/{k}")
client.set_registered_model_alias(model, "prod", v.version)
"""
MLFLOW_ALIAS = ("import sys; from mlflow import MlflowClient; c = MlflowClient(tracking_uri="
                "sys.argv[1], registry_uri=sys.argv[1]); "
                "print(c.get_model_version_by_alias(sys.argv[2], 'prod').version)")
MLFLOW_SEARCH = ("import sys; from mlflow import MlflowClient; c = MlflowClient(tracking_uri="
                 "sys.argv[1], registry_uri=sys.argv[1]); "
                 "print(len(c.search_model_versions(f\"name='{sys.argv[2]}'\", "
                 "max_results=100000)))")


def installed_governance(venv: Path) -> Path | None:
    """``governance`` of a regular (non-editable) install of this checkout in ``venv``."""
    py = venv / "bin" / "python"
    try:
        if not py.exists():
            log(f"creating {venv} for a regular install (pip install .)")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", str(ROOT)], check=True)
        else:  # this checkout as it is now, over the dependencies already there
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps",
                            "--force-reinstall", str(ROOT)], check=True)
    except subprocess.CalledProcessError as err:
        log(f"could not install governance into {venv}: {err}")
        return None
    gov = venv / "bin" / "governance"
    return gov if gov.exists() else None


def tools_python(venv: Path) -> Path | None:
    py = venv / "bin" / "python"
    if not py.exists():
        log(f"creating {venv} for GTO and MLflow (pip install gto mlflow-skinny ...)")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "gto", "mlflow-skinny",
                            "sqlalchemy", "alembic"], check=True)
        except subprocess.CalledProcessError as err:
            log(f"could not install GTO and MLflow: {err}")
            return None
    return py


CPU: dict[str, list[float]] = {}  # user + system CPU seconds of each timed process


def timed(argv: list[str], cwd: Path, env: dict[str, str], name: str | None = None) -> float:
    """Wall time of one process; its CPU time (less moved by other jobs on a shared machine
    than the wall time) is kept under ``name``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace')[-400:]}")
    if name is not None:
        CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime
                                        + after.ru_stime - before.ru_stime)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=3)
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--slow-runs", type=int, default=5, help="runs of each GTO and MLflow command")
    ap.add_argument("--tools-venv", type=Path, default=Path(tempfile.gettempdir())
                    / "governance-bench-tools")
    ap.add_argument("--install-venv", type=Path, default=Path(tempfile.gettempdir())
                    / "governance-bench-install",
                    help="virtual environment for the regular install (pip install .)")
    ap.add_argument("--no-tools", action="store_true",
                    help="measure governance only (no GTO and MLflow rows: a short run)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "startup.md")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    load_start = os.getloadavg()
    t = time.perf_counter()
    governed, notes = build_governed(work, args.models, args.versions)
    model = sorted(p.name for p in (governed / "releases").iterdir())[0]
    log(f"governed repository: {args.models * args.versions} releases, {notes[0]} "
        f"({time.perf_counter() - t:.0f} s)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GOVERNANCE_") and k != "PYTHONDONTWRITEBYTECODE"}
    gov = [str(GOVERNANCE)]
    t = time.perf_counter()
    timed([*gov, "live", model, "--env", "production"], governed, env)  # cold: builds the index
    cold = time.perf_counter() - t
    log(f"first query (verify + index build): {cold:.2f} s")
    installs: list[tuple[str, list[str], str]] = [("editable", gov, sys.executable)]
    installed = installed_governance(args.install_venv)
    if installed is not None:
        installs.insert(0, ("installed", [str(installed)], str(installed.parent / "python")))
    cases: list[tuple[str, list[str], Path, dict[str, str]]] = []
    for kind, cmd, python in installs:
        tag = "" if kind == "installed" else " (editable)"
        cases += [
            (f"governance --help{tag}", [*cmd, "--help"], governed, env),
            (f"governance --version{tag}", [*cmd, "--version"], governed, env),
            (f"governance live {model} --env production{tag}",
             [*cmd, "live", model, "--env", "production"], governed, env),
            (f"governance status {model}{tag}", [*cmd, "status", model], governed, env),
            (f"governance history {model}{tag}", [*cmd, "history", model], governed, env),
            (f"python -c pass{tag}", [python, "-c", "pass"], governed, env),
        ]
    py = None if args.no_tools else tools_python(args.tools_venv)
    if py is not None:
        gto_root = build_gto(work, model, args.versions)
        gto = str(py.parent / "gto")
        cases += [(f"gto show {model}#prod", [gto, "show", f"{model}#prod"], gto_root, env),
                  (f"gto history {model}", [gto, "history", model], gto_root, env)]
        uri = f"sqlite:///{work / 'mlflow.db'}"
        t = time.perf_counter()
        subprocess.run([str(py), "-c", MLFLOW_BUILD, uri, model, str(args.versions)],
                       check=True, cwd=work, capture_output=True)
        log(f"MLflow registry: {args.versions} versions ({time.perf_counter() - t:.0f} s)")
        cases += [("mlflow get_model_version_by_alias", [str(py), "-c", MLFLOW_ALIAS, uri, model],
                   work, env),
                  ("mlflow search_model_versions", [str(py), "-c", MLFLOW_SEARCH, uri, model],
                   work, env)]
    for _, argv, cwd, e in cases:  # warm the page cache and each tool's own caches
        timed(argv, cwd, e)
    samples: dict[str, list[float]] = {name: [] for name, *_ in cases}
    slow = {name for name, *_ in cases if name.startswith(("gto", "mlflow"))}
    for k in range(args.runs):  # interleaved, so a burst of load hits every command alike
        for name, argv, cwd, e in cases:
            if name in slow and k >= args.slow_runs:
                continue
            samples[name].append(timed(argv, cwd, e, name))
    load_end = os.getloadavg()
    medians = {name: statistics.median(xs) for name, xs in samples.items()}
    for name, xs in samples.items():
        log(f"{name}: median {medians[name] * 1000:.0f} ms wall, "
            f"{statistics.median(CPU[name]) * 1000:.0f} ms CPU over {len(xs)} runs")
    write(args, medians, samples, cold, load_start, load_end, model,
          "installed" if installed is not None else "editable")


def write(args: argparse.Namespace, medians: dict[str, float], samples: dict[str, list[float]],
          cold: float, load_start: tuple[float, ...], load_end: tuple[float, ...],
          model: str, primary: str) -> None:
    tag = "" if primary == "installed" else " (editable)"

    def ms(name: str) -> str:
        name += tag
        return f"{medians[name] * 1000:,.0f} ms" if name in medians else "not measured"

    live = f"governance live {model} --env production{tag}"
    gto_show = f"gto show {model}#prod"
    rows = [(name, f"{medians[name] * 1000:,.0f}", f"{min(xs) * 1000:,.0f}",
             f"{statistics.median(CPU[name]) * 1000:,.0f}", str(len(xs)))
            for name, xs in samples.items()]
    ratio = (f"{medians[gto_show] / medians[live]:.0f}x" if gto_show in medians else
             "not measured")
    alias = "mlflow get_model_version_by_alias"
    mlflow_ratio = (f"{medians[alias] / medians[live]:.1f}x" if alias in medians else
                    "not measured")
    text = f"""# Start-up benchmark (issue 18)

Command: `.venv/bin/python bench/startup_bench.py --models {args.models} --versions \
{args.versions} --runs {args.runs} --slow-runs {args.slow_runs}\
{" --no-tools" if args.no_tools else ""}`

Installs: rows without a tag run a regular install (`pip install .` of this checkout into its
own virtual environment: what a user runs); rows tagged "(editable)" run the development
install (`pip install -e`), whose every start also pays setuptools' editable-install finder.
Bytecode caching on (`PYTHONDONTWRITEBYTECODE` removed from the measured processes'
environment), one warm-up run of each command first. The targets below are read on the
{"regular" if primary == "installed" else "editable"} install.

Machine: {machine()}. Load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in
load_start)}, at end {', '.join(f'{x:.2f}' for x in load_end)} (the 2 cores are shared by other
engineers' work: figures are whole-process wall times and move with the load).

History: {args.models} models x {args.versions} releases ({args.models * args.versions} releases,
bench/generate_repo.py) with a real signed ledger (every release registered, gated, approved and
promoted to staging and production); GTO and MLflow hold the same {args.versions} versions of
`{model}` (GTO: a commit, a registration tag and a prod assignment tag per version; MLflow: a
local SQLite registry, alias `prod` on the last version). Every figure is a fresh process,
stdout to /dev/null, median of the runs shown (interleaved); the query index is warm (the first
query on the fresh ledger, verification and index build, took {cold:.2f} s).

| command | median wall (ms) | best wall (ms) | median CPU, user + sys (ms) | runs |
| --- | ---: | ---: | ---: | ---: |
""" + "\n".join(f"| `{a}` | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows) + f"""

Targets (issue 18): `governance --help` <= 90 ms: {ms('governance --help')}; `live`, `status`,
`history` warm <= 120 ms: {ms(f'governance live {model} --env production')},
{ms(f'governance status {model}')}, {ms(f'governance history {model}')}; `gto show` / `live`
>= 60x: {ratio}; MLflow's alias lookup / `live`: {mlflow_ratio}.
"""
    args.out.write_text(text)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
