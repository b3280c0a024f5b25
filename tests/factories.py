"""Hand-made orders in the contract's shape, and the settings and raw pull a pipeline step
reads, for unit tests that need no sandbox."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from grafterr_pipeline.settings import Secret, Settings
from grafterr_pipeline.warehouse.raw import write_raw_pull

_ORDER: dict[str, Any] = {
    "order_id": "ord_1",
    "order_number": 101,
    "store": {"store_id": "st_1", "name": "Leeds Briggate", "timezone": "Europe/London"},
    "channel": "pos",
    "order_type": "dine_in",
    "status": "completed",
    "created_at": "2026-11-30T19:42:11.123+00:00",
    "updated_at": "2026-11-30T19:58:40+00:00",
    "currency": "GBP",
    "covers": 2,
    "table_number": "12",
    "customer": {"customer_id": "c_1", "name": "Zoë", "email": "Zoe@Example.com", "phone": "1"},
    "totals": {
        "subtotal": "10.00",
        "discount": "0.00",
        "service_charge": "1.00",
        "tax": "1.67",
        "tip": "0.50",
        "total": "11.50",
    },
    "items": [
        {
            "line_id": "l_1",
            "product_id": "p_1",
            "name": "Crème brûlée",
            "category": "Desserts",
            "quantity": 2,
            "unit_price": "4.50",
            "discount": "0.00",
            "tax": "1.50",
            "line_total": "10.00",
            "status": "active",
            "modifiers": [
                {"modifier_id": "m_1", "name": "Extra cream", "quantity": 1, "unit_price": "0.50"}
            ],
        },
        {
            "line_id": "l_2",
            "product_id": "p_2",
            "name": "Tea",
            "category": "Drinks",
            "quantity": 1,
            "unit_price": "2.00",
            "discount": "0.00",
            "tax": "0.33",
            "line_total": "2.00",
            "status": "voided",
            "modifiers": [],
        },
    ],
    "payments": [
        {
            "payment_id": "pay_1",
            "method": "card",
            "amount": "11.50",
            "tip": "0.50",
            "status": "captured",
            "paid_at": "2026-11-30T19:58:40+00:00",
        }
    ],
}


def make_order(**changes: Any) -> dict[str, Any]:
    """A valid order, with top-level ``changes`` applied."""
    order = copy.deepcopy(_ORDER)
    order.update(changes)
    return order


def offline_settings(data_dir: Path) -> Settings:
    """Settings for steps that read only what is on disk: the API is never called."""
    return Settings(
        environment="local",
        base_url="http://127.0.0.1:9/",
        client_id="unused",
        client_secret=Secret("unused"),
        api_key=Secret("unused"),
        data_dir=data_dir,
        pii="drop",
    )


def write_pull(
    data_dir: Path, day: dt.date, orders: list[Any], *, pulled_at: dt.datetime | None = None
) -> None:
    """Store ``orders`` as ``day``'s raw pull, one page, as the pull step would."""
    page = json.dumps({"data": orders, "meta": {"total": len(orders)}}).encode()
    manifest = {"business_date": day.isoformat()}
    if pulled_at is not None:
        manifest["pulled_at"] = pulled_at.isoformat()
    write_raw_pull(data_dir, day, [page], manifest)
