"""The ``grafterr-pipeline`` command line: demo, run, sql, sandbox and webhooks.

This package is the only place that prints: its output is the command's answer. Everything else
logs through module loggers, shown here on standard error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from grafterr_pipeline.cli.process import prepare_run_process, use_system_allocator
from grafterr_pipeline.errors import GrafterrError

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)


def _add_demo(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the whole pipeline for the last 7 business dates against a local sandbox",
        description="Starts the sandbox simulator on a free loopback port, materialises every "
        "asset for the last 7 business dates through the Dagster instance in DAGSTER_HOME, "
        "then prints orders and revenue per business date and channel.",
    )
    demo.add_argument("--days", type=int, default=7, help="business dates to run (default 7)")
    demo.add_argument("--seed", type=int, default=7, help="the sandbox's data seed (default 7)")
    demo.add_argument(
        "--data-dir", default=None, help="data root (default $GRAFTERR_DATA_DIR or data)"
    )
    demo.set_defaults(handler=_demo)


def _add_run(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="materialise every asset for a range of business dates",
        description="Materialises every asset for the business dates from --start to --end "
        "(both included) against the API the environment configures (GRAFTERR_*).",
    )
    run.add_argument("--start", required=True, help="first business date, YYYY-MM-DD")
    run.add_argument("--end", required=True, help="last business date, YYYY-MM-DD")
    run.set_defaults(handler=_run)


def _add_sql(commands: argparse._SubParsersAction) -> None:
    sql = commands.add_parser(
        "sql",
        help="query the DuckDB views (read-only)",
        description="Runs SQL on the warehouse's DuckDB views, read-only; without a query, "
        "starts an interactive prompt.",
    )
    sql.add_argument("query", nargs="?", help="the SQL to run; omit for a prompt")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument(
        "--data-dir", default=None, help="data root (default $GRAFTERR_DATA_DIR or data)"
    )
    sql.set_defaults(handler=_sql)


def _add_sandbox(commands: argparse._SubParsersAction) -> None:
    from grafterr_pipeline.sandbox import cli as sandbox_cli

    sandbox = commands.add_parser("sandbox", help="the local Grafterr API simulator")
    actions = sandbox.add_subparsers(dest="action", required=True)
    serve = actions.add_parser(
        "serve",
        help="serve the simulator on loopback until interrupted",
        description="Serves a simulator of the Grafterr API contract on loopback.",
    )
    sandbox_cli.add_arguments(serve)
    serve.set_defaults(handler=sandbox_cli.serve)


def _add_webhooks(commands: argparse._SubParsersAction) -> None:
    from grafterr_pipeline.webhooks import cli as webhooks_cli

    webhooks = commands.add_parser("webhooks", help="the webhook receiver and its inbox")
    actions = webhooks.add_subparsers(dest="action", required=True)
    serve = actions.add_parser(
        "serve",
        help="receive Grafterr's webhook deliveries into the durable inbox until interrupted",
        description="Serves POST /webhooks/grafterr/<GRAFTERR_WEBHOOK_TOKEN> and GET /healthz.",
    )
    webhooks_cli.add_arguments(serve)
    serve.set_defaults(handler=webhooks_cli.serve)


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    parser = argparse.ArgumentParser(
        prog="grafterr-pipeline",
        description="Grafterr orders into partitioned Parquet and DuckDB, run by Dagster.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_demo, _add_run, _add_sql, _add_sandbox, _add_webhooks):
        add(commands)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from grafterr_pipeline.cli.demo import run_demo

    return run_demo(days=args.days, seed=args.seed, data_dir=args.data_dir)


def _run(args: argparse.Namespace) -> int:
    prepare_run_process(os.environ)
    from grafterr_pipeline.cli.run import run_range

    return run_range(start=args.start, end=args.end)


def _sql(args: argparse.Namespace) -> int:
    from grafterr_pipeline.cli.sql import run_sql

    return run_sql(args.query, output=args.format, data_dir=args.data_dir)


def _configure_logging(*, verbose: bool) -> None:
    # Our own loggers speak at INFO (one line per pull or landed day); libraries underneath
    # (Dagster's storage migrations, uvicorn) only when something is wrong.
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("grafterr_pipeline").setLevel(logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grafterr-pipeline`` console script."""
    use_system_allocator()  # before the parser's imports load pyarrow
    args = build_parser().parse_args(argv)
    _configure_logging(verbose=args.verbose)
    try:
        return int(args.handler(args) or 0)
    except GrafterrError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
