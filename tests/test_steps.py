"""How landing reads a staged file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from grafterr_pipeline.normalise.lines import DEFAULT_CHUNK_BYTES
from grafterr_pipeline.steps import _chunk_bytes

MIB = 1 << 20


def _staged(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "orders.jsonl.gz"
    line = b'{"order": {}}\n'
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(line * (size // len(line)))
    return path


@pytest.mark.parametrize(
    ("size", "whole"),
    [(0, False), (100_000, False), (3 * MIB, True)],
    ids=["empty-gets-the-floor", "small-gets-the-floor", "whole-file-in-one-chunk"],
)
def test_landing_reads_a_staged_day_in_one_chunk_of_about_its_size(
    tmp_path: Path, size: int, whole: bool
) -> None:
    path = _staged(tmp_path, size)
    text = len(gzip.decompress(path.read_bytes()))

    chunk = _chunk_bytes(path)

    assert chunk == (text + 1 if whole else MIB)


def test_landing_reads_a_large_staged_day_in_default_chunks(tmp_path: Path) -> None:
    path = _staged(tmp_path, DEFAULT_CHUNK_BYTES + MIB)

    assert _chunk_bytes(path) == DEFAULT_CHUNK_BYTES
