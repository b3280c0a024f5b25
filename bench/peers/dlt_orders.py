"""Contender 2: the orders of each business date's window through dlt into Parquet.

Written the way dlt's documentation shows for a REST API: a ``RESTClient`` with a
``PageNumberPaginator`` reading ``meta.total_pages``, the rows under ``data``, the ``x-api-key``
as a default header, and OAuth2 client credentials subclassed for a token endpoint that wants
JSON (the documented way for "flavours" of OAuth2). Retries are dlt's own defaults. Each date
is one ``pipeline.run`` into the filesystem destination as Parquet, appended; the load id of
each date is written to ``loads.json`` so the harness can tell the windows apart.

Run as ``python -m bench.peers.dlt_orders --start D1 --end D2 --out DIR`` with
``GRAFTERR_BASE_URL``, ``GRAFTERR_CLIENT_ID``, ``GRAFTERR_CLIENT_SECRET`` and
``GRAFTERR_API_KEY`` set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.sources.helpers import requests as dlt_requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from grafterr_pipeline.businessdate import pull_window

__all__ = ["DATASET", "JsonClientCredentials", "lake", "main"]

DATASET = "grafterr"
PAGE_SIZE = 200
CUTOFF = dt.time(4, 0)


class JsonClientCredentials(OAuth2ClientCredentials):
    """Grafterr's ``POST /auth/token`` takes the credentials as JSON, not as a form."""

    def build_access_token_request(self) -> dict[str, Any]:
        return {"json": {"client_id": self.client_id, "client_secret": self.client_secret}}


def rest_client(env: dict[str, str]) -> RESTClient:
    """A ``RESTClient`` for the API at ``GRAFTERR_BASE_URL``, authenticated as documented."""
    base_url, api_key = env["GRAFTERR_BASE_URL"], env["GRAFTERR_API_KEY"]
    # The token request needs the API key too; a dlt requests client carries it, with dlt's
    # default retries.
    token_session = dlt_requests.Client(session_attrs={"headers": {"x-api-key": api_key}}).session
    auth = JsonClientCredentials(
        access_token_url=base_url + "auth/token",
        client_id=env["GRAFTERR_CLIENT_ID"],
        client_secret=env["GRAFTERR_CLIENT_SECRET"],
        session=token_session,
    )
    return RESTClient(
        base_url=base_url,
        headers={"x-api-key": api_key},
        auth=auth,
        paginator=PageNumberPaginator(base_page=1, total_path="meta.total_pages"),
        data_selector="data",
    )


def orders_of(client: RESTClient, business_date: dt.date) -> Any:
    """The dlt resource of every order created in ``business_date``'s pull window."""
    start, end = pull_window(business_date, CUTOFF)
    params = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "date_field": "created_at",
        "page_size": PAGE_SIZE,
    }

    @dlt.resource(name="orders", write_disposition="append")
    def orders() -> Iterator[Any]:
        yield from client.paginate("orders", params=params)

    return orders


def lake(out: Path) -> dlt.Pipeline:
    """The dlt pipeline into the filesystem destination under ``out``, its state beside it."""
    return dlt.pipeline(
        pipeline_name="grafterr_orders",
        pipelines_dir=str(out / "pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=str(out / "lake")),
        dataset_name=DATASET,
    )


def main(argv: list[str] | None = None) -> int:
    """Load every date from ``--start`` to ``--end`` into ``--out``; 0 when all loaded."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers.dlt_orders")
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    client = rest_client(dict(os.environ))
    pipeline = lake(args.out)
    loads: dict[str, str] = {}
    day = args.start
    while day <= args.end:
        info = pipeline.run(orders_of(client, day), loader_file_format="parquet")
        loads[day.isoformat()] = info.loads_ids[-1]
        (args.out / "loads.json").write_text(json.dumps(loads, indent=1))
        print(f"{day}: load {loads[day.isoformat()]}", flush=True)
        day += dt.timedelta(days=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
