"""The warehouse's schema contract: one explicit pyarrow schema per table, defined only here.

Every partition of a table is written with exactly its schema, whatever the day held, so a
column never turns into a null type, a float or another integer width between days. Column
names keep the contract's field names, flattened (``store.store_id`` becomes ``store_id``,
``totals.total`` becomes ``total``). Children carry ``order_id`` and ``business_date`` so any
join is one equality.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "MONEY",
    "ORDERS",
    "ORDER_ITEMS",
    "ORDER_ITEM_MODIFIERS",
    "PAYMENTS",
    "QUARANTINE",
    "TABLES",
    "TIMESTAMP",
    "WAREHOUSE_TABLES",
]

MONEY = pa.decimal128(18, 2)
TIMESTAMP = pa.timestamp("us", tz="UTC")


def _schema(name: str, fields: list[tuple[str, pa.DataType, bool]]) -> pa.Schema:
    return pa.schema(
        [pa.field(n, t, nullable=nullable) for n, t, nullable in fields],
        metadata={"table": name},
    )


ORDERS = _schema(
    "orders",
    [
        ("order_id", pa.string(), False),
        ("business_date", pa.date32(), False),
        ("order_number", pa.int64(), True),
        ("store_id", pa.string(), False),
        ("store_name", pa.string(), True),
        ("store_timezone", pa.string(), False),
        ("channel", pa.string(), True),
        ("order_type", pa.string(), True),
        ("status", pa.string(), True),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
        ("currency", pa.string(), True),
        ("covers", pa.int32(), True),
        ("table_number", pa.string(), True),
        ("customer_id", pa.string(), True),
        ("customer_email_sha256", pa.string(), True),
        ("customer_name", pa.string(), True),
        ("customer_email", pa.string(), True),
        ("customer_phone", pa.string(), True),
        ("subtotal", MONEY, True),
        ("discount", MONEY, True),
        ("service_charge", MONEY, True),
        ("tax", MONEY, True),
        ("tip", MONEY, True),
        ("total", MONEY, True),
        ("line_count", pa.int32(), False),
        ("item_count", pa.int64(), False),
        ("payment_count", pa.int32(), False),
        ("source", pa.string(), False),
        ("extra_json", pa.string(), True),
    ],
)

ORDER_ITEMS = _schema(
    "order_items",
    [
        ("order_id", pa.string(), False),
        ("business_date", pa.date32(), False),
        ("line_id", pa.string(), False),
        ("line_number", pa.int32(), False),
        ("store_id", pa.string(), False),
        ("created_at", TIMESTAMP, False),
        ("product_id", pa.string(), True),
        ("name", pa.string(), True),
        ("category", pa.string(), True),
        ("quantity", pa.int64(), False),
        ("unit_price", MONEY, True),
        ("discount", MONEY, True),
        ("tax", MONEY, True),
        ("line_total", MONEY, True),
        ("status", pa.string(), True),
        ("modifier_count", pa.int32(), False),
        ("extra_json", pa.string(), True),
    ],
)

ORDER_ITEM_MODIFIERS = _schema(
    "order_item_modifiers",
    [
        ("order_id", pa.string(), False),
        ("business_date", pa.date32(), False),
        ("line_id", pa.string(), False),
        ("modifier_number", pa.int32(), False),
        ("modifier_id", pa.string(), True),
        ("created_at", TIMESTAMP, False),
        ("name", pa.string(), True),
        ("quantity", pa.int64(), False),
        ("unit_price", MONEY, True),
        ("extra_json", pa.string(), True),
    ],
)

PAYMENTS = _schema(
    "payments",
    [
        ("order_id", pa.string(), False),
        ("business_date", pa.date32(), False),
        ("payment_id", pa.string(), False),
        ("store_id", pa.string(), False),
        ("created_at", TIMESTAMP, False),
        ("method", pa.string(), True),
        ("amount", MONEY, True),
        ("tip", MONEY, True),
        ("status", pa.string(), True),
        ("paid_at", TIMESTAMP, True),
        ("extra_json", pa.string(), True),
    ],
)

QUARANTINE = _schema(
    "quarantine",
    [
        ("source", pa.string(), False),
        ("order_id", pa.string(), True),
        ("business_date", pa.date32(), False),
        ("reason", pa.string(), False),
        ("raw_json", pa.string(), False),
        ("quarantined_at", TIMESTAMP, False),
    ],
)

# The four tables an order normalises into, in write order.
TABLES: dict[str, pa.Schema] = {
    "orders": ORDERS,
    "order_items": ORDER_ITEMS,
    "order_item_modifiers": ORDER_ITEM_MODIFIERS,
    "payments": PAYMENTS,
}

# Everything landed under warehouse/, quarantine included.
WAREHOUSE_TABLES: dict[str, pa.Schema] = {**TABLES, "quarantine": QUARANTINE}
