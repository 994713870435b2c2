"""Regenerate this repository's policies/ from the default gates the package ships.

The one copy of the default Rego gates is ``governance/scaffold/policies/``: it ships in the
package and is what ``governance init`` writes into a new governed repository's policies/. This
repository governs itself with the same gates, so its policies/ is that copy, produced here (every
``*.rego`` file byte for byte; stale ``*.rego`` files removed). Edit the gates under
``governance/scaffold/policies/`` and run this tool; ``--check`` (run by ``.ci/run`` and the test
suite) fails when policies/ differs.

    python tools/sync_policies.py            # write policies/
    python tools/sync_policies.py --check    # exit 1 naming every difference
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = Path("governance") / "scaffold" / "policies"
DOGFOOD = Path("policies")


def _rego(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*.rego")) if p.is_file()}


def differences(root: Path) -> list[str]:
    """Every way policies/ differs from the packaged gates (empty: identical)."""
    packaged, ours = _rego(root / PACKAGED), _rego(root / DOGFOOD)
    if not packaged:
        return [f"{PACKAGED.as_posix()} holds no .rego files"]
    out = [f"{DOGFOOD.as_posix()}/{n}: missing" for n in sorted(set(packaged) - set(ours))]
    out += [f"{DOGFOOD.as_posix()}/{n}: not in {PACKAGED.as_posix()} (stale)"
            for n in sorted(set(ours) - set(packaged))]
    out += [f"{DOGFOOD.as_posix()}/{n}: differs from {PACKAGED.as_posix()}/{n}"
            for n in sorted(set(ours) & set(packaged)) if ours[n] != packaged[n]]
    return out


def sync(root: Path) -> list[str]:
    """Make policies/ equal the packaged gates; the files written or removed."""
    packaged, ours = _rego(root / PACKAGED), _rego(root / DOGFOOD)
    changed = []
    for name, data in packaged.items():
        if ours.get(name) != data:
            target = root / DOGFOOD / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            changed.append(f"wrote {DOGFOOD.as_posix()}/{name}")
    for name in sorted(set(ours) - set(packaged)):
        (root / DOGFOOD / name).unlink()
        changed.append(f"removed {DOGFOOD.as_posix()}/{name}")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 when policies/ differs")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this)")
    args = parser.parse_args(argv)
    if args.check:
        found = differences(args.root)
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(f"policies/ is generated from {PACKAGED.as_posix()}: edit the gates there, "
                  "then run python tools/sync_policies.py", file=sys.stderr)
        return 1 if found else 0
    if not _rego(args.root / PACKAGED):
        print(f"{PACKAGED.as_posix()} holds no .rego files; nothing to copy", file=sys.stderr)
        return 1
    for line in sync(args.root):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
