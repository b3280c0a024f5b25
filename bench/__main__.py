"""``python -m bench [part [options]]``: run one named benchmark part, or every part.

``python -m bench`` runs every part with its defaults; ``python -m bench peers --dates 3``
runs one part and hands it the remaining arguments.
"""

from __future__ import annotations

import importlib
import sys

# One line per part: its name and the module whose ``main(argv) -> int`` runs it.
PARTS: dict[str, str] = {
    "client": "bench.client_bench",
    "backfill": "bench.backfill_bench",
    "warehouse": "bench.warehouse_bench",
    "peers": "bench.peers.harness",
}


def run_part(name: str, argv: list[str]) -> int:
    """Import the part ``name`` only now, so a part's extra dependencies stay its own."""
    module = importlib.import_module(PARTS[name])
    print(f"== {name} ==", flush=True)
    return int(module.main(argv) or 0)


def main(argv: list[str]) -> int:
    """Run the part named by ``argv[0]`` with the rest of ``argv``, or every part."""
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: python -m bench [{' | '.join(PARTS)}] [options of the part]")
        return 0
    if argv and argv[0] not in PARTS:
        print(f"unknown part {argv[0]!r}; the parts are: {', '.join(PARTS)}", file=sys.stderr)
        return 2
    if argv:
        return run_part(argv[0], argv[1:])
    failures = [name for name in PARTS if run_part(name, []) != 0]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
