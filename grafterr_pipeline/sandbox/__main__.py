"""``python -m grafterr_pipeline.sandbox``: the same as ``grafterr-pipeline sandbox serve``."""

from __future__ import annotations

import argparse
import sys

from grafterr_pipeline.sandbox.cli import add_arguments, serve


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and serve a sandbox until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m grafterr_pipeline.sandbox",
        description="Serve a simulated Grafterr API on 127.0.0.1.",
    )
    add_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
