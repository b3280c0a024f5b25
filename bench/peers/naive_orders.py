"""Contender 3: the script a team writes in an afternoon with ``requests`` and pandas.

One token at the start, a page loop until ``meta.total_pages``, three tries on a 429, a 5xx or
a dropped connection with a one-second pause, then ``pandas.json_normalize`` into an orders, an
items and a payments file per date. Deliberately no more than that: it is the baseline.

Run as ``python -m bench.peers.naive_orders --start D1 --end D2 --out DIR`` with the same
``GRAFTERR_*`` variables as the pipeline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from grafterr_pipeline.businessdate import pull_window

__all__ = ["main"]

PAGE_SIZE = 200
CUTOFF = dt.time(4, 0)
TRIES = 3


def get_json(session: requests.Session, url: str, **kwargs: Any) -> Any:
    """GET ``url``; on a 429, a 5xx or a dropped connection wait a second and try again."""
    for attempt in range(1, TRIES + 1):
        try:
            response = session.get(url, timeout=60, **kwargs)
        except requests.ConnectionError:
            if attempt == TRIES:
                raise
            time.sleep(1)
            continue
        if (response.status_code == 429 or response.status_code >= 500) and attempt < TRIES:
            time.sleep(1)
            continue
        response.raise_for_status()
        return response.json()
    raise AssertionError("unreachable")


def pull(session: requests.Session, base: str, headers: dict[str, str], day: dt.date) -> list:
    """Every order of ``day``'s pull window, page after page."""
    start, end = pull_window(day, CUTOFF)
    orders: list[dict[str, Any]] = []
    page = 1
    while True:
        params = {"from": start.isoformat(), "to": end.isoformat(), "page": page,
                  "page_size": PAGE_SIZE}  # fmt: skip
        body = get_json(session, base + "orders", params=params, headers=headers)
        orders += body["data"]
        if page >= body["meta"]["total_pages"]:
            return orders
        page += 1


def save(orders: list[dict[str, Any]], out: Path, day: dt.date) -> None:
    """Flatten ``orders`` into three Parquet files under ``out``."""
    tables = {
        "orders": pd.json_normalize(orders).drop(columns=["items", "payments"], errors="ignore"),
        "items": pd.json_normalize(orders, record_path="items", meta=["order_id"]),
        "payments": pd.json_normalize(orders, record_path="payments", meta=["order_id"]),
    }
    for name, frame in tables.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        frame.drop(columns=["modifiers"], errors="ignore").to_parquet(
            out / name / f"{day.isoformat()}.parquet"
        )


def main(argv: list[str] | None = None) -> int:
    """Pull and save every date from ``--start`` to ``--end``; 0 when all are saved."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers.naive_orders")
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    base, key = os.environ["GRAFTERR_BASE_URL"], os.environ["GRAFTERR_API_KEY"]
    session = requests.Session()
    credentials = {k: os.environ[f"GRAFTERR_{k.upper()}"] for k in ("client_id", "client_secret")}
    token = session.post(base + "auth/token", json=credentials, headers={"x-api-key": key},
                         timeout=60).json()["access_token"]  # fmt: skip
    headers = {"x-api-key": key, "Authorization": f"Bearer {token}"}
    day = args.start
    while day <= args.end:
        orders = pull(session, base, headers, day)
        save(orders, args.out, day)
        print(f"{day}: {len(orders)} orders", flush=True)
        day += dt.timedelta(days=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
