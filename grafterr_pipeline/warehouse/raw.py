"""The raw pull of a partition, kept so later steps rerun without calling the API again.

``<root>/raw/orders/business_date=YYYY-MM-DD/pages.jsonl.gz`` holds the response bodies of the
pages exactly as Grafterr sent them, one page per line, gzip-compressed; ``manifest.json``
beside it records the window and the pull's statistics. Both are replaced atomically.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.normalise.values import loads
from grafterr_pipeline.warehouse.files import atomic_write

__all__ = ["RawPull", "raw_dir", "read_raw_manifest", "read_raw_orders", "write_raw_pull"]

PAGES_FILE = "pages.jsonl.gz"
MANIFEST_FILE = "manifest.json"


class RawPull:
    """Names of the files of one partition's raw pull."""

    def __init__(self, root: Path, business_date: dt.date) -> None:
        self.directory = raw_dir(root, business_date)
        self.pages = self.directory / PAGES_FILE
        self.manifest = self.directory / MANIFEST_FILE


def raw_dir(root: Path, business_date: dt.date) -> Path:
    """The folder of ``business_date``'s raw pull under the data root ``root``."""
    return root / "raw" / "orders" / f"business_date={business_date.isoformat()}"


def _one_line(body: bytes) -> bytes:
    # A newline outside a JSON string is only whitespace between tokens, and one inside a
    # string is escaped as \n by any JSON encoder, so joining lines keeps the body's meaning.
    return body.replace(b"\r", b" ").replace(b"\n", b" ").strip()


def write_raw_pull(
    root: Path, business_date: dt.date, pages: Sequence[bytes], manifest: dict[str, Any]
) -> int:
    """Store ``pages`` and ``manifest`` for ``business_date``; return the bytes written."""
    files = RawPull(root, business_date)

    def write_pages(temp: Path) -> None:
        with gzip.open(temp, "wb", compresslevel=6) as out:
            for body in pages:
                out.write(_one_line(body) + b"\n")

    def write_manifest(temp: Path) -> None:
        temp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))

    size = atomic_write(files.pages, write_pages)
    return size + atomic_write(files.manifest, write_manifest)


def read_raw_manifest(root: Path, business_date: dt.date) -> dict[str, Any]:
    """The manifest of ``business_date``'s raw pull."""
    path = RawPull(root, business_date).manifest
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as err:
        raise WarehouseError(
            f"no raw pull for {business_date} at {path}: materialise raw_orders first"
        ) from err


def read_raw_orders(root: Path, business_date: dt.date, *, data_key: str) -> Iterator[Any]:
    """Yield every order of every stored page, parsed with exact decimals."""
    path = RawPull(root, business_date).pages
    try:
        with gzip.open(path, "rb") as pages:
            for line in pages:
                if line.strip():
                    yield from loads(line)[data_key]
    except FileNotFoundError as err:
        raise WarehouseError(
            f"no raw pull for {business_date} at {path}: materialise raw_orders first"
        ) from err
