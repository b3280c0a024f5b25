"""``python -m bench``: run every benchmark part in turn; add a part by adding it to PARTS."""

from __future__ import annotations

from collections.abc import Callable

from bench import client_bench, normalise_bench

PARTS: list[tuple[str, Callable[[], None]]] = [
    ("client", client_bench.main),
    ("normalise", normalise_bench.main),
]


def main() -> None:
    for name, run in PARTS:
        print(f"== {name} ==", flush=True)
        run()


if __name__ == "__main__":
    main()
