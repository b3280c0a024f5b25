"""JSON-lines files into Arrow string arrays, a bounded chunk at a time, without Python strings.

A chunk is cut at the last newline of a block of ``chunk_bytes``; the bytes become the data
buffer of an Arrow string array whose offsets are the newline positions, so no per-line Python
object is made and memory stays at a few blocks whatever the file's size.
"""

from __future__ import annotations

import gzip
import logging
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


def _split(block: memoryview) -> pa.StringArray:
    """The lines of ``block`` (which ends with a newline), each with its newline, blanks left out.

    The block itself is the data buffer and the offsets point just past each newline, so the
    text is not copied (unless a blank line has to be left out); JSON readers take the trailing
    newline as whitespace.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    offsets = np.concatenate(([0], np.flatnonzero(data == 10) + 1)).astype(np.int32)
    lines = pa.StringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(block)
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
            for block in _blocks(source, chunk_bytes):
                lines = _split(block)
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


def _blocks(source: BinaryIO, chunk_bytes: int) -> Iterator[memoryview]:
    rest = b""
    while block := source.read(chunk_bytes):
        data = rest + block if rest else block
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield memoryview(data)[:cut]
    if rest.strip():
        yield memoryview(rest + b"\n")
