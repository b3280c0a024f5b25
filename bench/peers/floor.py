"""The memory each contender's stack takes before it handles the work: its floor.

``python -m bench.peers.floor OUT KIND`` runs one floor, writing under ``OUT``:

- ``pipeline``: one Dagster asset, materialised in process on the SQLite instance in
  ``DAGSTER_HOME``, as ``grafterr-pipeline run`` materialises its job, in a process set up as
  ``run`` sets up its own (``prepare_run_process``). The asset does once what the pipeline's
  parts cannot do without: it opens an in-memory DuckDB database, reads a small query's result
  as Arrow, and writes it to a Parquet file with pyarrow. It pulls, normalises and lands no
  order.
- ``dagster`` and ``dagster+duckdb``: the same run, its asset doing nothing, or writing the
  query's result with DuckDB's own ``COPY``, never loading pyarrow: the pipeline's floor part by
  part, which says what each part of its stack costs.
- ``naive`` and ``dlt``: the peers' own code saving one order, read from the JSON file
  ``ORDER`` (``python -m bench.peers.floor OUT KIND ORDER``), as each saves a date's orders,
  without the network.

What a contender's peak stands above its own floor is what its orders cost; the peers report
puts each floor beside its contender. Imports are made inside each floor, so that none loads
another's libraries.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FLOORS", "Floor", "floor_of", "main"]

PARTITION = "2026-11-13"
DAY = dt.date.fromisoformat(PARTITION)
# A query of a thousand small rows: what the pipeline's floor writes as Parquet.
_QUERY = "SELECT range AS n, range::VARCHAR AS label FROM range(1000)"


@dataclass(frozen=True)
class Floor:
    """One floor: what it runs, and whose floor it is (a ``Contender.key``)."""

    key: str
    contender: str
    label: str
    does: str


FLOORS: tuple[Floor, ...] = (
    Floor(
        "dagster",
        "pipeline",
        "grafterr-pipeline's Dagster alone",
        "a Dagster run of one asset that does nothing",
    ),
    Floor(
        "dagster+duckdb",
        "pipeline",
        "grafterr-pipeline's Dagster + DuckDB",
        "a Dagster run of one asset that opens DuckDB and writes a 1,000-row query as Parquet "
        "with DuckDB's `COPY` (no pyarrow)",
    ),
    Floor(
        "pipeline",
        "pipeline",
        "grafterr-pipeline",
        "a Dagster run of one asset that opens DuckDB, reads a 1,000-row query as Arrow and "
        "writes it as Parquet with pyarrow: what `grafterr-pipeline run` cannot run without",
    ),
    Floor(
        "dlt", "dlt", "dlt", "the dlt contender's pipeline loading one order to its Parquet lake"
    ),
    Floor("naive", "naive", "requests + pandas", "the pandas script's `save` of one order"),
)


def floor_of(key: str) -> Floor:
    """The floor called ``key``."""
    for floor in FLOORS:
        if floor.key == key:
            return floor
    raise KeyError(f"no floor called {key!r}; the floors are {[f.key for f in FLOORS]}")


def main(argv: list[str]) -> int:
    """Run the floor ``argv[1]`` (``pipeline`` when not given), writing under ``argv[0]``; the
    peers' floors save the order in the JSON file ``argv[2]``."""
    out = Path(argv[0])
    kind = floor_of(argv[1] if len(argv) > 1 else "pipeline").key
    if kind in ("dlt", "naive"):
        order = json.loads(Path(argv[2]).read_text())
        return 0 if (_dlt if kind == "dlt" else _naive)(out, order) else 1
    return 0 if _dagster(out, kind) else 1


def _dagster(out: Path, kind: str) -> bool:
    from grafterr_pipeline.cli.process import prepare_run_process, use_system_allocator

    use_system_allocator()  # as main() does for every command
    prepare_run_process(os.environ)

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
        """Nothing, or one small DuckDB query written as Parquet, as the floor asks."""
        if kind == "dagster":
            return 0
        import duckdb

        path = out / "no_orders.parquet"
        with duckdb.connect() as con:
            if kind == "dagster+duckdb":
                con.execute(f"COPY ({_QUERY}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
                return 1000
            table = con.sql(_QUERY).to_arrow_table()
        import pyarrow.parquet as pq

        pq.write_table(table, path, compression="zstd")
        return table.num_rows

    job = Definitions(assets=[no_orders], jobs=[define_asset_job("floor")]).resolve_job_def("floor")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, partition_key=PARTITION)
    return result.success


def _naive(out: Path, order: dict[str, Any]) -> bool:
    from bench.peers.naive_orders import save

    save([order], out, DAY)
    return True


def _dlt(out: Path, order: dict[str, Any]) -> bool:
    import dlt

    from bench.peers.dlt_orders import lake

    resource = dlt.resource([order], name="orders", write_disposition="append")
    lake(out).run(resource, loader_file_format="parquet")
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
