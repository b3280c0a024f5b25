"""A write killed midway leaves every partition whole, and the next land cleans up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.warehouse.files import RETIRED_SUFFIX, TEMP_SUFFIX
from tests.warehouse.helpers import DATES, normalised, sandbox_day, sandbox_orders
from tests.warehouse.procs import save

REPO = Path(__file__).parents[2]
DAY = DATES[0]
KILLS = 2


def _leftovers(warehouse: Warehouse) -> list[Path]:
    tables = Path(warehouse.location.local_path)
    return [
        entry
        for table in tables.iterdir()
        if table.is_dir()
        for entry in table.iterdir()
        if entry.name.endswith((TEMP_SUFFIX, RETIRED_SUFFIX))
    ]


def _kill_while_staging(root: Path, warehouse: Warehouse, source: Path, delay: float) -> bool:
    """Start a writer landing ``source`` in a loop; SIGKILL it once it is mid-write."""
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.warehouse.procs", "writer", str(root), str(DAY), str(source)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "landing"
    deadline = time.monotonic() + 30
    while not _leftovers(warehouse) and time.monotonic() < deadline:
        time.sleep(0.0005)
    time.sleep(delay)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    return bool(_leftovers(warehouse))


def test_a_write_killed_midway_leaves_old_or_new_partitions_whole_and_the_rerun_clean(
    tmp_path: Path,
) -> None:
    orders = list(sandbox_orders(DAY).values())
    old, new = normalised(DAY, orders[:200]), sandbox_day(DAY)
    sizes = {
        table: {old.tables[table].num_rows, new.tables[table].num_rows}
        for table in ("orders", "order_items", "payments")
    }
    save(new, tmp_path / "new")
    warehouse = Warehouse(tmp_path / "data")
    warehouse.land(old)
    warehouse.refresh_views()

    interrupted = []
    for n in range(KILLS):
        interrupted.append(
            _kill_while_staging(warehouse.root, warehouse, tmp_path / "new", n * 0.002)
        )
        for table, allowed in sizes.items():
            assert warehouse.read_partition(table, DAY).num_rows in allowed
            count = warehouse.query(f"SELECT count(*) FROM {table}").rows[0][0]
            assert count in allowed
        sales = warehouse.query("SELECT sum(orders) FROM daily_sales").rows[0][0]
        assert sales in sizes["orders"]  # the old month summary or the new one, whole

    warehouse.land(old)

    assert any(interrupted)  # at least one kill left a write half done
    assert _leftovers(warehouse) == []
    assert warehouse.read_partition("orders", DAY).equals(old.tables["orders"])
    assert warehouse.query("SELECT count(*) FROM orders").rows == [(200,)]
    assert warehouse.query("SELECT sum(orders) FROM daily_sales").rows == [(200,)]
