"""The memory the pipeline's stack takes before it handles a single order.

``python -m bench.peers.floor OUT``: one Dagster asset, materialised in process on the SQLite
instance in ``DAGSTER_HOME``, as ``grafterr-pipeline run`` materialises its job, in a process
set up as ``run`` sets up its own (``prepare_run_process``). The asset does once
what the pipeline's parts cannot do without: it opens an in-memory DuckDB database, reads a
small query's result as Arrow, and writes it to a Parquet file in ``OUT`` with pyarrow. It pulls,
normalises and lands no order, so what the pipeline's peak stands above this floor is what its
orders cost; the peers report puts the two side by side.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grafterr_pipeline.cli.process import prepare_run_process, use_system_allocator

__all__ = ["main"]

PARTITION = "2026-11-13"


def main(argv: list[str]) -> int:
    """Materialise the one asset, writing its Parquet file under ``argv[0]``; 0 on success."""
    out = Path(argv[0])
    use_system_allocator()  # as main() does for every command
    prepare_run_process(os.environ)

    import duckdb
    import pyarrow.parquet as pq
    import requests  # noqa: F401  (the pipeline's client: part of what every run loads)
    from dagster import (
        DagsterInstance,
        DailyPartitionsDefinition,
        Definitions,
        asset,
        define_asset_job,
    )

    days = DailyPartitionsDefinition(start_date="2026-11-01")

    @asset(partitions_def=days)
    def no_orders() -> int:
        """One small DuckDB query, its result written as Parquet."""
        with duckdb.connect() as con:
            rows = con.sql("SELECT range AS n, range::VARCHAR AS label FROM range(1000)")
            table = rows.to_arrow_table()
        pq.write_table(table, out / "no_orders.parquet", compression="zstd")
        return table.num_rows

    job = Definitions(
        assets=[no_orders], jobs=[define_asset_job("floor", partitions_def=days)]
    ).resolve_job_def("floor")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, partition_key=PARTITION)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
