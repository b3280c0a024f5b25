"""JSON-lines files into Arrow string arrays, a bounded chunk at a time, without Python strings.

A chunk is cut at the last newline of a block of ``chunk_bytes``; the bytes become the data
buffer of an Arrow string array whose offsets are the newline positions, so no per-line Python
object is made and memory stays at a few blocks whatever the file's size.
"""

from __future__ import annotations

import gzip
import logging
import mmap
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DEFAULT_CHUNK_BYTES", "LineChunk", "read_ahead", "read_line_chunks"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# 64 MiB of JSON is about 45,000 orders: DuckDB then works on a few hundred MB at most.
DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class LineChunk:
    """Consecutive non-empty lines; ``first`` is the number of the first, counted from 0."""

    first: int
    lines: pa.StringArray

    def table(self, *, batches: int = 8, **columns: pa.Array) -> pa.Table:
        """``cand`` (line number), ``line`` and ``columns`` (one value per line), in several
        batches so DuckDB scans in parallel."""
        cand = pa.array(np.arange(self.first, self.first + len(self.lines), dtype=np.int64))
        table = pa.table({"cand": cand, "line": self.lines, **columns})
        size = max(1, -(-table.num_rows // batches))
        return pa.Table.from_batches(table.to_batches(max_chunksize=size), table.schema)


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _split(block: bytes | mmap.mmap, size: int) -> pa.StringArray:
    """The lines of ``block[:size]`` (which ends with a newline), each with its newline, blanks
    left out.

    The block itself is the data buffer and the offsets point just past each newline, so the
    text is not copied (unless a blank line has to be left out); JSON readers take the trailing
    newline as whitespace. Newlines are found with ``find`` (memchr), a line at a time: a few
    tens of thousands of calls cost less than a byte-wide comparison of the whole block.
    """
    ends = [0]
    at = block.find(b"\n", 0, size)
    while at >= 0:
        ends.append(at + 1)
        at = block.find(b"\n", at + 1, size)
    offsets = np.array(ends, dtype=np.int32)
    lines = pa.StringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(memoryview(block)[:size])
    )
    if (np.diff(offsets) > 1).all():
        return lines
    return lines.filter(pc.greater(pc.binary_length(lines), 1))


def read_line_chunks(
    paths: Iterable[Path], *, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> Iterator[LineChunk]:
    """Yield the non-empty lines of ``paths`` (plain or ``.gz``), numbered across all files."""
    first = 0
    for path in paths:
        with _open(path) as source:
            for block, size in _blocks(source, chunk_bytes):
                lines = _split(block, size)
                if len(lines):
                    yield LineChunk(first, lines)
                    first += len(lines)
    logger.debug("read %d lines", first)


def read_ahead(chunks: Iterator[T]) -> Iterator[T]:
    """``chunks``, each next one made in a background thread while the caller works on this one.

    Reading and splitting release the GIL (file reads, gzip, numpy, Arrow compute), as DuckDB
    does while it works, so the two overlap; one chunk more is held in memory.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="staged-lines") as pool:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk


def _blocks(source: BinaryIO, chunk_bytes: int) -> Iterator[tuple[mmap.mmap | bytes, int]]:
    """Blocks of about ``chunk_bytes`` and the length of their part that ends with a newline.

    Each block is a new buffer that the file is read into after the previous block's unfinished
    line, so no block is copied whole; Arrow keeps the buffers as the lines' data. The buffer is
    an anonymous mapping, not a ``bytearray``: its pages are only taken as the file fills them,
    so a date's few megabytes of staged orders cost a few megabytes, not ``chunk_bytes`` (a
    zero-filled ``bytearray`` touched all 64 MiB of it, twice with the read-ahead).
    """
    rest = b""
    while True:
        block = mmap.mmap(-1, len(rest) + chunk_bytes)
        block[: len(rest)] = rest
        end = len(rest) + _read_into(source, memoryview(block)[len(rest) :])
        if end == len(rest):
            break
        cut = block.rfind(b"\n", 0, end) + 1
        rest = bytes(block[cut:end])
        if cut:
            yield block, cut
    if rest.strip():
        yield rest + b"\n", len(rest) + 1


def _read_into(source: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``source`` as far as it goes (gzip may hand back less per call)."""
    filled = 0
    while filled < len(view) and (got := source.readinto(view[filled:])):
        filled += got
    return filled
