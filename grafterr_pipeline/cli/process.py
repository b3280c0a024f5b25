"""How the command's own process is set up before it imports the pipeline's heavy libraries.

Only the command line calls these: they change process-wide state (environment variables read
once by Arrow's and DuckDB's C++ libraries, the import system), which a library must leave to
its host.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.abc
import logging
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

from grafterr_pipeline.settings import is_local_uri

__all__ = [
    "ARROW_POOL_VARIABLE",
    "CLOUD_FILESYSTEMS",
    "DUCKDB_ALLOCATOR_VARIABLE",
    "DUCKDB_RETURNS_FREED_PAGES",
    "MALLOC_ARENAS",
    "UNUSED_BY_RUN",
    "RefusedImports",
    "limit_malloc_arenas",
    "prepare_run_process",
    "refuse_imports",
    "return_duckdb_pages",
    "unused_by_run",
    "use_system_allocator",
]

logger = logging.getLogger(__name__)

ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
# DuckDB's Linux builds allocate query memory with a jemalloc of their own, which takes its
# options from this variable (jemalloc's MALLOC_CONF under DuckDB's symbol prefix) once, when
# duckdb is imported; builds without jemalloc ignore it.
DUCKDB_ALLOCATOR_VARIABLE = "DUCKDB_JE_MALLOC_CONF"
# DuckDB tells jemalloc to keep freed pages for a second (dirty_decay_ms 1000), and jemalloc
# only lets them go on later allocations: a date's normalising connection held its query's
# pages (~14 MiB for 2,400 orders) through the Arrow work after the query, until it closed.
DUCKDB_RETURNS_FREED_PAGES = "dirty_decay_ms:0"
# Installed but never used by a run, and imported only where the importer falls back when they
# are missing: pyarrow imports pandas on its first ``pa.array`` call only to ask whether the
# value is a pandas object (~30 MiB for a no), and both pyarrow and DuckDB then take pandas as
# not installed; Dagster's storage loads structlog, which loads rich for pretty tracebacks on a
# terminal, and Alembic's templates (Mako) load pygments to colour their HTML error pages
# (~7 MiB for both); each falls back to plain text.
UNUSED_BY_RUN = ("pandas", "rich", "pygments")
# pyarrow.fs loads its object-store filesystems when they are there and goes on without them;
# a warehouse in a local folder needs none (~5 MiB, the AWS SDK's start-up included).
CLOUD_FILESYSTEMS = ("pyarrow._s3fs", "pyarrow._gcsfs", "pyarrow._azurefs")
# glibc gives each thread that allocates an arena of its own, up to 8 per core, and frees
# within an arena only: a run's page threads, DuckDB's and Arrow's workers each keep some.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def use_system_allocator() -> None:
    """Have Arrow's C++ library allocate with the system allocator, unless the user chose.

    Arrow reads ``ARROW_DEFAULT_MEMORY_POOL`` once, when pyarrow is first imported, and its
    C++ code (Parquet writer, compute kernels) keeps using that pool whatever
    ``pyarrow.set_memory_pool`` says later. Its default, mimalloc, keeps the pages of freed
    tables: over the peers bench's 5 dates ``run`` peaked 15-20 MiB higher with it.
    """
    if "pyarrow" not in sys.modules:
        os.environ.setdefault(ARROW_POOL_VARIABLE, "system")


def return_duckdb_pages() -> bool:
    """Have DuckDB's allocator hand pages back to the system as soon as a query frees them,
    unless the user set :data:`DUCKDB_ALLOCATOR_VARIABLE`; return whether it was set here.

    Only before duckdb is imported: its allocator reads the variable once. Over the peers
    bench's 5 dates ``run`` then peaked 4-9 MiB lower, in the same time.
    """
    if "duckdb" in sys.modules or DUCKDB_ALLOCATOR_VARIABLE in os.environ:
        return False
    os.environ[DUCKDB_ALLOCATOR_VARIABLE] = DUCKDB_RETURNS_FREED_PAGES
    return True


def unused_by_run(env: Mapping[str, str]) -> tuple[str, ...]:
    """What a ``run`` process refuses: :data:`UNUSED_BY_RUN`, and :data:`CLOUD_FILESYSTEMS`
    unless ``GRAFTERR_WAREHOUSE_URI`` names an object store."""
    if is_local_uri(env.get("GRAFTERR_WAREHOUSE_URI") or ""):
        return UNUSED_BY_RUN + CLOUD_FILESYSTEMS
    return UNUSED_BY_RUN


class RefusedImports(importlib.abc.MetaPathFinder):
    """An import finder that fails the import of the named packages or modules (with their
    submodules), as if not installed."""

    def __init__(self, packages: Iterable[str]) -> None:
        self.packages = frozenset(packages)

    def __repr__(self) -> str:
        return f"RefusedImports({sorted(self.packages)!r})"

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """Raise :class:`ModuleNotFoundError` for a refused package; ``None`` (look on) else."""
        parts = fullname.split(".")
        if any(".".join(parts[:n]) in self.packages for n in range(1, len(parts) + 1)):
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: grafterr-pipeline run does not load it "
                "(grafterr_pipeline.cli.process.UNUSED_BY_RUN)",
                name=fullname,
            )
        return None


def refuse_imports(packages: Iterable[str] = UNUSED_BY_RUN) -> RefusedImports | None:
    """Make this process fail every later import of ``packages``; None if all are loaded.

    For the ``run`` command's own process only: a package already imported is left alone
    rather than half refused.
    """
    packages = tuple(name for name in packages if name not in sys.modules)
    if not packages:
        return None
    finder = RefusedImports(packages)
    sys.meta_path.insert(0, finder)
    return finder


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas``, unless the environment sets the cap itself.

    Only threads started afterwards are affected, so call it first. Returns whether the cap
    was set: not on a C library other than glibc, which has no such arenas.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or "arena_max" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(_M_ARENA_MAX, arenas))
    logger.debug("malloc arenas capped at %d: %s", arenas, done)
    return done


def prepare_run_process(env: Mapping[str, str]) -> None:
    """Set up a process for ``grafterr-pipeline run`` before it loads the job's libraries.

    Refuses what a run never uses (:func:`unused_by_run`), caps glibc's arenas before the run
    starts its page, DuckDB and Arrow threads, and has DuckDB hand freed pages back before
    duckdb is imported. The peers bench's floor (``bench/peers/floor.py``) calls it too, so
    it measures a process set up exactly as a run's.
    """
    refuse_imports(unused_by_run(env))
    limit_malloc_arenas()
    return_duckdb_pages()
