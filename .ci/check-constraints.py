"""Check that the virtual environment holds exactly the versions pinned in constraints.txt.

Run by ``make setup`` and ``make test`` (so by CI): a package installed at another version than
its pin, or a pinned package missing, fails with one line per difference.

    python .ci/check-constraints.py constraints.txt
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(path: str = "constraints.txt") -> int:
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()
                 if d.metadata["Name"]}
    wrong = [f"{name}: pinned {version}, installed {installed.get(name, 'nothing')}"
             for name, version in sorted(pins.items()) if installed.get(name) != version]
    if wrong:
        print(f"{path}: the environment does not match its pins:", file=sys.stderr)
        for line in wrong:
            print(f"  {line}", file=sys.stderr)
        print("run 'make setup' (or 'make constraints' after a deliberate upgrade)",
              file=sys.stderr)
        return 1
    print(f"{path}: {len(pins)} pinned versions installed")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
