"""Durable, atomic file replacement on one filesystem.

A file is written under a hidden temporary name ending in ``.partial`` beside its final
path, flushed and fsynced, then moved over the final path with ``os.replace`` (atomic on
POSIX, rename(2)), and the directory is fsynced so the rename itself survives a power cut.
A reader therefore opens either the old file or the new one, never a partial one, and never
finds the path missing. Temporary files left by a crash are removed by
:func:`remove_leftovers` on the next run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from grafterr_pipeline.errors import WarehouseError

__all__ = ["TEMP_SUFFIX", "atomic_write", "fsync_dir", "remove_leftovers"]

logger = logging.getLogger(__name__)

# The temporary name must not end like the final one: DuckDB's glob ``*.parquet`` also matches
# hidden files, so a half-written ``.x.parquet`` would be read as part of the partition.
TEMP_SUFFIX = ".partial"


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (new names, renames) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _temporary_beside(final: Path) -> Iterator[Path]:
    temp = final.with_name(f".{final.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}")
    try:
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def atomic_write(final: Path, write: Callable[[Path], None]) -> int:
    """Write ``final`` atomically with ``write(temp_path)``; return the bytes written.

    Raises :class:`WarehouseError` naming the path when the disk refuses (full, read-only),
    leaving any previous version of ``final`` whole.
    """
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        with _temporary_beside(final) as temp:
            write(temp)
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
            size = temp.stat().st_size
            os.replace(temp, final)
        fsync_dir(final.parent)
    except OSError as err:
        raise WarehouseError(
            f"could not write {final}: {err.strerror or err}; the previous version, if any, "
            "is unchanged (check free space and permissions, then rerun)"
        ) from err
    logger.debug("wrote %s (%d bytes)", final, size)
    return size


def remove_leftovers(root: Path) -> int:
    """Delete temporary files a crashed write left under ``root``; return how many."""
    if not root.exists():
        return 0
    removed = 0
    for leftover in root.rglob(f"*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed += 1
    if removed:
        logger.warning(
            "removed %d temporary file(s) left by an interrupted write under %s", removed, root
        )
    return removed
