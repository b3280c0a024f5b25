"""The command's process set-up: Arrow's allocator chosen before pyarrow loads."""

from __future__ import annotations

import os
import sys

import pytest

from grafterr_pipeline.cli.process import (
    CLOUD_FILESYSTEMS,
    UNUSED_BY_RUN,
    RefusedImports,
    refuse_imports,
    return_duckdb_pages,
    unused_by_run,
)
from tests.processes import run_python

# What the console script does before it parses its arguments, then the pool Arrow's C++ code
# ended up with once the parser (which imports the webhook and sandbox commands) was built.
_PROBE = """
import sys
from grafterr_pipeline.cli import build_parser
from grafterr_pipeline.cli.process import use_system_allocator
loaded_early = "pyarrow" in sys.modules
use_system_allocator()
build_parser()
import pyarrow
print(loaded_early, pyarrow.default_memory_pool().backend_name)
"""


def _probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    return run_python(_PROBE, env={**clean, **env}).stdout.strip()


def test_the_command_gives_arrow_the_system_allocator_before_pyarrow_loads() -> None:
    assert _probe() == "False system"


@pytest.mark.parametrize("pool", ["mimalloc", "system"], ids=["mimalloc", "system"])
def test_the_command_keeps_the_arrow_pool_the_user_chose(pool: str) -> None:
    assert _probe(ARROW_DEFAULT_MEMORY_POOL=pool) == f"False {pool}"


# The calls the pipeline makes that reach for pandas when it is importable: pyarrow's array
# and table builders, DuckDB binding Python values and returning Arrow.
_REFUSED = """
import datetime as dt, sys
from decimal import Decimal
from grafterr_pipeline.cli.process import refuse_imports
refuse_imports()
import duckdb, pyarrow as pa, pyarrow.compute as pc
landed = pa.Table.from_pylist([{"d": dt.date(2026, 11, 17), "x": Decimal("1.10")}])
total = pc.sum(pa.array([Decimal("1.10"), Decimal("2.05")], pa.decimal128(18, 2))).as_py()
con = duckdb.connect()
rows = con.execute("SELECT ?::DATE, sum(x) FROM landed GROUP BY 1", [dt.date(2026, 11, 17)])
print(rows.fetchall(), con.sql("SELECT * FROM landed").to_arrow_table().num_rows, total)
try:
    import pandas
except ModuleNotFoundError as err:
    print("refused", "pandas" in sys.modules, "UNUSED_BY_RUN" in str(err))
"""


def test_refused_pandas_leaves_pyarrow_and_duckdb_working_without_it() -> None:
    assert run_python(_REFUSED).stdout.splitlines() == [
        "[(datetime.date(2026, 11, 17), Decimal('1.10'))] 1 3.15",
        "refused False True",
    ]


def test_refusing_a_package_already_loaded_changes_nothing() -> None:
    assert "pytest" in sys.modules

    finder = refuse_imports(["pytest"])

    assert finder is None
    assert not any(isinstance(f, RefusedImports) for f in sys.meta_path)


def _capped(**env: str) -> str:
    code = "from grafterr_pipeline.cli.process import limit_malloc_arenas as f; print(f())"
    clean = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")}
    return run_python(code, env={**clean, **env}).stdout.strip()


@pytest.mark.skipif(sys.platform != "linux", reason="malloc arenas are glibc's")
def test_the_run_caps_malloc_arenas_unless_the_environment_does() -> None:
    assert _capped() == "True"
    assert _capped(MALLOC_ARENA_MAX="4") == "False"
    assert _capped(GLIBC_TUNABLES="glibc.malloc.arena_max=4") == "False"


# What a `run` process loads before its first step: the parser, the job and a SQLite instance,
# with the command's refusals in place; then a failing op, whose error Dagster records without
# the refused pretty-printers.
_RUN_IMPORTS = """
import sys, tempfile
from grafterr_pipeline.cli.process import refuse_imports
refuse_imports()
from grafterr_pipeline.cli import build_parser
build_parser()
from grafterr_pipeline.definitions import build_definitions
build_definitions().resolve_job_def("grafterr_orders_job")
import dagster as dg

@dg.op
def broken():
    raise ValueError("the op's own message")

@dg.job
def failing():
    broken()

with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.local_temp(home) as instance:
    result = failing.execute_in_process(instance=instance, raise_on_error=False)
    error = [e for e in result.all_events if e.is_step_failure][0].step_failure_data.error
    print(result.success, error.cause.message.strip())
    print(instance.get_run_by_id(result.run_id).is_failure)
heavy = ("starlette", "uvicorn", "rich", "pygments", "pandas", "pyarrow.dataset")
print(sorted(name for name in heavy if name in sys.modules))
"""


def test_a_run_process_loads_no_web_server_pretty_printer_or_arrow_dataset() -> None:
    assert run_python(_RUN_IMPORTS).stdout.splitlines() == [
        "False ValueError: the op's own message",
        "True",
        "[]",
    ]


@pytest.mark.parametrize(
    ("uri", "cloud_refused"),
    [("", True), ("data/warehouse", True), ("file:///srv/warehouse", True), ("s3://b/p", False)],
    ids=["default", "path", "file-uri", "s3"],
)
def test_a_run_refuses_arrows_object_stores_only_for_a_local_warehouse(
    uri: str, cloud_refused: bool
) -> None:
    refused = unused_by_run({"GRAFTERR_WAREHOUSE_URI": uri})

    assert set(UNUSED_BY_RUN) <= set(refused)
    assert (set(CLOUD_FILESYSTEMS) <= set(refused)) is cloud_refused


# A module refused by its dotted name: pyarrow.fs goes on without it, local files still work.
_CLOUD_REFUSED = """
import sys, tempfile
from grafterr_pipeline.cli.process import CLOUD_FILESYSTEMS, refuse_imports
refuse_imports(CLOUD_FILESYSTEMS)
import pyarrow.fs as fs
with tempfile.TemporaryDirectory() as root:
    local, path = fs.FileSystem.from_uri("file://" + root)
    print(type(local).__name__, [m for m in CLOUD_FILESYSTEMS if m in sys.modules])
try:
    import pyarrow._s3fs
except ModuleNotFoundError as err:
    print("refused", err.name)
"""


def test_refusing_arrows_object_stores_leaves_local_files_working() -> None:
    assert run_python(_CLOUD_REFUSED).stdout.splitlines() == [
        "LocalFileSystem []",
        "refused pyarrow._s3fs",
    ]


# A sort of ~200 MB in DuckDB after the run's set-up, then the anonymous memory the process
# still holds once the query is done: jemalloc kept all of it with DuckDB's own options.
_DUCKDB_PAGES = """
from grafterr_pipeline.cli.process import return_duckdb_pages
print(return_duckdb_pages())
import duckdb

def anon_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssAnon")) >> 10

con = duckdb.connect(config={"threads": 1})
before = anon_mib()
con.sql(
    "SELECT max(s) FROM (SELECT repeat('x', 1000) || i AS s FROM range(200000) t(i) ORDER BY s)"
).fetchall()
print(anon_mib() - before)
"""


def _duckdb_pages(**env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k != "DUCKDB_JE_MALLOC_CONF"}
    done = run_python(_DUCKDB_PAGES, env={**clean, **env})
    assert done.stderr == ""  # jemalloc warns there about an option it does not take
    set_here, held = done.stdout.split()
    return set_here, int(held)


@pytest.mark.skipif(sys.platform != "linux", reason="DuckDB bundles jemalloc on Linux")
def test_the_run_has_duckdb_return_a_finished_querys_pages() -> None:
    set_here, held = _duckdb_pages()

    assert set_here == "True"
    assert held < 40, f"{held} MiB still held after the query"


@pytest.mark.skipif(sys.platform != "linux", reason="DuckDB bundles jemalloc on Linux")
def test_the_run_keeps_the_duckdb_allocator_options_the_user_chose() -> None:
    set_here, held = _duckdb_pages(DUCKDB_JE_MALLOC_CONF="dirty_decay_ms:1000")

    assert set_here == "False"
    assert held > 100, f"only {held} MiB held: the user's options were overridden"


def test_duckdb_already_loaded_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb  # noqa: F401  (loaded, as by any earlier import of the pipeline)

    monkeypatch.delenv("DUCKDB_JE_MALLOC_CONF", raising=False)

    assert return_duckdb_pages() is False
    assert "DUCKDB_JE_MALLOC_CONF" not in os.environ
