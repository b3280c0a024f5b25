"""Staged files are cut into chunks of whole lines, numbered across files, blanks left out; the
fast path tells the lines in the canonical layout from the others before DuckDB reads them."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from grafterr_pipeline.normalise import dumps
from grafterr_pipeline.normalise.fast import in_canonical_layout
from grafterr_pipeline.normalise.lines import LineChunk, read_line_chunks
from tests.factories import make_order

TEXT = "first\n\nsecond line, longer than a small chunk\n \nthird \u00e9\nlast without newline"
LINES = [
    "first\n",
    "second line, longer than a small chunk\n",
    " \n",
    "third \u00e9\n",
    "last without newline\n",
]


def _write(path: Path, text: str) -> Path:
    data = text.encode()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as out:
            out.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("chunk_bytes", [1, 5, 64, 1 << 20], ids=["1B", "5B", "64B", "1MiB"])
@pytest.mark.parametrize("name", ["staged.jsonl", "staged.jsonl.gz"], ids=["plain", "gzip"])
def test_chunks_hold_every_non_blank_line_once_numbered_across_files(
    tmp_path: Path, name: str, chunk_bytes: int
) -> None:
    path = _write(tmp_path / name, TEXT)

    chunks = list(read_line_chunks([path, path], chunk_bytes=chunk_bytes))

    lines = [line for chunk in chunks for line in chunk.lines.to_pylist()]
    assert lines == LINES + LINES
    assert [c.first for c in chunks] == [
        sum(len(c.lines) for c in chunks[:n]) for n in range(len(chunks))
    ]


def test_an_empty_file_gives_no_chunk(tmp_path: Path) -> None:
    path = _write(tmp_path / "staged.jsonl", "\n\n")

    assert list(read_line_chunks([path])) == []


def _chunk(*lines: str) -> LineChunk:
    return LineChunk(0, pa.array([line + "\n" for line in lines], pa.string()))


def test_lines_as_merge_orders_writes_them_are_in_the_canonical_layout() -> None:
    record = {"source": "api", "event_kind": None, "occurred_at": None}
    line = dumps({**record, "order": make_order()})
    without_customer = {k: v for k, v in make_order().items() if k != "customer"}

    canonical = in_canonical_layout(
        _chunk(line, dumps({**record, "order": without_customer}))
    ).to_pylist()

    assert canonical == [True, True]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"line_id":"l_1"', '"line_id":"l_1","allergens":null'),
        ('"order_id":"ord_1"', '"order_id": "ord_1"'),
        ('"total":"11.50"', '"total":"11.505"'),
        ('"name":"Tea"', '"name":"T\\u00e9a"'),
        ('"quantity":2', '"quantity":"2"'),
    ],
    ids=["unknown-field", "blank-between-tokens", "three-decimals", "escape", "quoted-number"],
)
def test_lines_out_of_the_canonical_layout_are_told_apart(old: str, new: str) -> None:
    record = {"source": "api", "event_kind": None, "occurred_at": None}
    line = dumps({**record, "order": make_order()})
    assert old in line

    canonical = in_canonical_layout(_chunk(line.replace(old, new))).to_pylist()

    assert canonical == [False]
