"""Durable, atomic replacement of files and folders on one local filesystem.

:func:`atomic_write` writes a file under a hidden temporary name ending in ``.partial`` beside
its final path, fsyncs it, moves it over the final path with ``os.replace`` (rename(2)) and
fsyncs the folder, so the rename itself survives a power cut. That suits files a process reads
with one ``open`` (raw pulls, staging). It does *not* suit Parquet read by DuckDB, which opens
a file more than once per query: a path whose content changes between those opens yields a
query mixing two versions (we saw "Prefetch registered for bytes outside file"). Partitions
therefore never reuse a file name; :func:`swap_dir` replaces the folder holding them.

:func:`swap_dir` exchanges a staged folder with the live one in one ``renameat2(2)`` call with
``RENAME_EXCHANGE`` (Linux 3.15+, ext4, xfs, btrfs, tmpfs), so a reader lists either the old
files or the new ones; the old folder, now under the staged name, is deleted afterwards.
Where the exchange is not supported, two renames do it (live folder aside as ``.retired``,
staged folder in), leaving an instant in which the partition is absent, never mixed.
:func:`remove_leftovers` undoes what a crash at any point left: ``.partial`` names are deleted,
and a ``.retired`` folder whose live folder is missing is put back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.warehouse.swaplock import partition_lock

__all__ = [
    "RETIRED_SUFFIX",
    "TEMP_SUFFIX",
    "atomic_write",
    "fsync_dir",
    "remove_leftovers",
    "staging_name",
    "swap_dir",
]

logger = logging.getLogger(__name__)

# The temporary name must not end like the final one: DuckDB's glob ``*.parquet`` also matches
# hidden files, so a half-written ``.x.parquet`` would be read as part of the partition.
TEMP_SUFFIX = ".partial"
RETIRED_SUFFIX = ".retired"

# renameat2(2) flags and the "current directory" descriptor, from <linux/fs.h> and <fcntl.h>.
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


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


def staging_name(final: Path, suffix: str = TEMP_SUFFIX) -> Path:
    """A hidden, unique name beside ``final`` that no reader's glob matches."""
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}{suffix}")


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    return getattr(libc, "renameat2", None)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step; ``False`` when this system or filesystem cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def swap_dir(staged: Path, final: Path) -> None:
    """Make the complete folder ``staged`` live as ``final``, then delete the old ``final``.

    ``staged`` must be durable already (files and folder fsynced) and on ``final``'s
    filesystem. At no instant does ``final`` hold a mix of the two versions.
    """
    parent = final.parent
    if not final.exists():
        os.rename(staged, final)
        fsync_dir(parent)
        return
    if _exchange(staged, final):
        fsync_dir(parent)
        shutil.rmtree(staged)  # the old version, now under the staged name
        return
    retired = staging_name(final, RETIRED_SUFFIX)
    os.rename(final, retired)
    os.rename(staged, final)
    fsync_dir(parent)
    shutil.rmtree(retired)


def _live_name(leftover: str) -> str:
    """``.business_date=D.<hex>.partial`` -> ``business_date=D``."""
    return leftover[1:].rsplit(".", 2)[0]


def remove_leftovers(root: Path, *, live: str | None = None) -> int:
    """Undo what interrupted writes left under ``root``'s table folders; return how many.

    With ``live`` (a partition folder's name, ``business_date=D``, or a prefix of such names)
    only those leftovers are touched, and the caller must hold their lock (the date's
    :func:`~grafterr_pipeline.warehouse.swaplock.partition_lock`, or the summary build lock
    for ``business_month=`` names). Without it, a date's leftovers are removed only while its
    lock is free, so a land in progress keeps its staged folders; summary months are left to
    :func:`grafterr_pipeline.warehouse.summary.remove_leftovers`, which holds their lock.
    """
    if not root.exists():
        return 0
    removed = 0
    for table in (p for p in root.iterdir() if p.is_dir()):
        for entry in sorted(table.glob(f".{live or ''}*")):
            if not entry.name.endswith((TEMP_SUFFIX, RETIRED_SUFFIX)):
                continue
            removed += _undo(entry) if live is not None else _undo_unowned(root, entry)
    if removed:
        logger.warning("cleaned %d leftover(s) of an interrupted write under %s", removed, root)
    return removed


def _undo_unowned(root: Path, leftover: Path) -> int:
    name = _live_name(leftover.name)
    if not name.startswith("business_date="):
        return 0
    with partition_lock(root, name, wait=False) as taken:
        return _undo(leftover) if taken else 0


def _undo(leftover: Path) -> int:
    final = leftover.with_name(_live_name(leftover.name))
    if leftover.name.endswith(RETIRED_SUFFIX) and not final.exists():
        os.rename(leftover, final)  # the crash fell between the two renames: put the old back
        fsync_dir(final.parent)
        return 1
    if leftover.is_dir():
        shutil.rmtree(leftover, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    return 1
