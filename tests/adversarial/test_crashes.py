"""Crashes: a run killed while it writes a partition, and a disk that fills up mid-landing.

Either way the partition that was there stays whole and readable, readers meanwhile see it and
no error, and the next run lands the new one. The webhook receiver's SIGKILL test lives with
the receiver (webhooks branch); see docs/reliability.md.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import DagsterInstance

from grafterr_pipeline import steps
from grafterr_pipeline.cli.run import materialise_dates
from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, ground_truth
from grafterr_pipeline.sandbox.environment import pipeline_environment
from grafterr_pipeline.settings import Settings
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.warehouse.files import TEMP_SUFFIX

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 11, 17)
# Two different days of trade for the same date: the partition a rerun replaces is not the same.
BEFORE = SandboxConfig(seed=31, scale=3, now=dt.datetime(2026, 11, 18, 12, tzinfo=dt.UTC))
AFTER = BEFORE.with_changes(seed=32)
SUMMARY = "SELECT count(*), sum(total), count(*) FILTER (WHERE status = 'refunded') FROM orders"
PAUSED_RUN = Path(__file__).with_name("paused_run.py")
COMMAND = Path(sys.executable).with_name("grafterr-pipeline")


def environment(config: SandboxConfig, server: SandboxServer, root: Path) -> dict[str, str]:
    told = pipeline_environment(config, server.base_url, data_dir=str(root), rate_limit=200.0)
    return {**told, "GRAFTERR_PII_SALT": "crash-salt"}


def summary(warehouse: Warehouse) -> tuple[object, ...]:
    return warehouse.query(SUMMARY + " WHERE business_date = ?", [DAY]).rows[0]


def expected(config: SandboxConfig) -> tuple[object, ...]:
    truth = ground_truth(config, DAY)
    refunded = sum(1 for o in truth.orders.values() if o["status"] == "refunded")
    total = sum(float(o["totals"]["total"]) for o in truth.orders.values())
    return (len(truth.orders), round(total, 2), refunded)


def as_expected(row: tuple[object, ...]) -> tuple[object, ...]:
    count, total, refunded = row
    return (count, round(float(total), 2), refunded)  # type: ignore[arg-type]


def land_in_process(config: SandboxConfig, root: Path) -> None:
    with pytest.MonkeyPatch.context() as env, SandboxServer(config) as server:
        for name, value in environment(config, server, root).items():
            env.setenv(name, value)
        with DagsterInstance.ephemeral() as instance:
            assert [r.success for r in materialise_dates([DAY], instance=instance)] == [True]


@contextmanager
def reader(warehouse: Warehouse) -> Iterator[list[object]]:
    """Query the day in a loop on another thread; yields what each query gave (or raised)."""
    seen: list[object] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set() and len(seen) < 10_000:
            try:
                seen.append(as_expected(summary(warehouse)))
            except Exception as err:  # the test asserts there were none
                seen.append(err)
            time.sleep(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=10)


def wait_for(marker: Path, run: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 120
    while not marker.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the run never reached the orders partition"
    return Path(marker.read_text())


def test_sigkill_while_writing_a_partition_leaves_the_old_one_for_readers(tmp_path: Path) -> None:
    root, marker = tmp_path / "data", tmp_path / "paused"
    land_in_process(BEFORE, root)
    warehouse = Warehouse(root)
    old = as_expected(summary(warehouse))
    assert old == expected(BEFORE) != expected(AFTER)

    with SandboxServer(AFTER) as server:
        env = {**os.environ, **environment(AFTER, server, root), "DAGSTER_HOME": str(tmp_path)}
        args = ["run", "--start", DAY.isoformat(), "--end", DAY.isoformat()]
        with reader(warehouse) as seen:
            run = subprocess.Popen(
                [sys.executable, str(PAUSED_RUN), *args],
                env={**env, "PAUSED_MARKER": str(marker)}, cwd=tmp_path,
            )  # fmt: skip
            try:
                half_written = wait_for(marker, run)
                time.sleep(0.5)  # readers query while the write is half done
            finally:
                run.send_signal(signal.SIGKILL)
                run.wait(timeout=30)
            time.sleep(0.3)  # and after the writer died
        rerun = subprocess.run(
            [str(COMMAND), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip

    assert TEMP_SUFFIX in str(half_written)  # a staged file no reader's glob matches
    assert run.returncode == -signal.SIGKILL
    assert seen and set(seen) == {old}, [s for s in seen if s != old][:3]
    assert rerun.returncode == 0, rerun.stderr
    assert as_expected(summary(warehouse)) == expected(AFTER)
    assert list(root.rglob(f"*{TEMP_SUFFIX}")) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of our own, unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("making a small filesystem needs root and mount(8)")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_fails_the_landing_clearly_and_keeps_the_old_partition(
    small_disk: Path,
) -> None:
    root = small_disk / "data"
    land_in_process(BEFORE, root)
    warehouse = Warehouse(root)
    old = as_expected(summary(warehouse))
    with SandboxServer(AFTER) as server:
        settings = Settings.from_env(environment(AFTER, server, root))
        with GrafterrClient(settings) as client:
            steps.pull_raw(settings, client, DAY)
        steps.merge_orders(settings, DAY)
    filler = fill(small_disk)

    with pytest.raises(WarehouseError) as caught:
        steps.land_tables(settings, DAY)

    message = str(caught.value)
    assert "No space left on device" in message and "could not write" in message
    assert "previous version" in message and str(root) in message
    assert as_expected(summary(warehouse)) == old
    filler.unlink()
    steps.land_tables(settings, DAY)
    assert as_expected(summary(warehouse)) == expected(AFTER)
