"""What every view and column means: the text of the DuckDB comments and of docs/warehouse.md.

One source for both, so ``COMMENT ON`` and the page cannot drift apart; a test checks that
every column DuckDB reports for a view is described here and listed on the page.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COLUMNS", "VIEW_COMMENTS"]

VIEW_COMMENTS: Mapping[str, str] = {
    "orders": "One row per order (its latest version) by business date.",
    "order_items": "One row per order line; voided lines included with status 'voided'.",
    "order_item_modifiers": "One row per modifier on an order line.",
    "payments": "One row per payment of an order: captured, refunded or failed.",
    "quarantine": "One row per order version that broke the contract: why, and its raw JSON.",
    "daily_sales": "One row per business date, store, channel and currency: orders, items, "
    "gross revenue, refunds, net revenue and average order value. On local tables it reads a "
    "summary (one Parquet file per month) that every land of a date of the month rebuilds "
    "with this view's SQL over orders and payments.",
    "product_sales": "One row per business date, store, product and currency: quantity sold "
    "and revenue of the active lines of revenue orders.",
    "payments_by_method": "One row per business date, store, currency and payment method: "
    "money captured, refunded and net, with payment counts.",
}

_ORDER_KEY = {
    "order_id": "Grafterr's order id.",
    "business_date": "The business date (store's clock, cut-off to cut-off); the partition.",
}
_MONEY = "In the order's currency, exact to the cent (DECIMAL(18,2))."
_EXTRA = "Fields Grafterr sent that the schema does not know, as JSON; NULL when none."

_TABLE_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "orders": {
        **_ORDER_KEY,
        "order_number": "The number the till or web shop showed the customer.",
        "store_id": "Grafterr's store id.",
        "store_name": "The store's name as sent with the order.",
        "store_timezone": "The store's IANA time zone, which fixes its business date.",
        "channel": "Where the order was placed: pos, web or selfkiosk.",
        "order_type": "dine_in, takeaway, delivery or collection.",
        "status": "open, completed, cancelled, refunded or partially_refunded.",
        "created_at": "When the order was placed (UTC).",
        "updated_at": "When this version was made (UTC); the latest version wins.",
        "currency": "ISO 4217 currency of every amount of the order.",
        "covers": "Guests at the table; NULL when not sent.",
        "table_number": "The table, for dine-in orders.",
        "customer_id": "Grafterr's customer id (kept unless GRAFTERR_PII=drop).",
        "customer_email_sha256": "Salted SHA-256 of the lower-cased email (GRAFTERR_PII=hash).",
        "customer_name": "Only with GRAFTERR_PII=keep.",
        "customer_email": "Only with GRAFTERR_PII=keep.",
        "customer_phone": "Only with GRAFTERR_PII=keep.",
        "subtotal": f"Sum of the active lines. {_MONEY}",
        "discount": f"Order-level discount. {_MONEY}",
        "service_charge": f"Service charge. {_MONEY}",
        "tax": f"Tax included in the lines. {_MONEY}",
        "tip": f"Tip. {_MONEY}",
        "total": f"What the customer owes: subtotal - discount + service charge + tip. {_MONEY}",
        "line_count": "Order lines, voided ones included.",
        "item_count": "Sum of the quantities of the lines that are not voided.",
        "payment_count": "Payment entries (captured, refunded or failed).",
        "source": "How the pipeline learnt this version: api, webhook or both.",
        "extra_json": _EXTRA,
    },
    "order_items": {
        **_ORDER_KEY,
        "line_id": "Grafterr's id of the line.",
        "line_number": "Position of the line in the order, from 1.",
        "store_id": "The order's store.",
        "created_at": "The order's created_at (UTC); rows are sorted by it.",
        "product_id": "Grafterr's product id.",
        "name": "The product's name on the line.",
        "category": "The product's menu category.",
        "quantity": "Units on the line.",
        "unit_price": f"Price of one unit. {_MONEY}",
        "discount": f"Line discount. {_MONEY}",
        "tax": f"Tax included in the line. {_MONEY}",
        "line_total": f"What the line costs after its discount. {_MONEY}",
        "status": "active or voided.",
        "modifier_count": "Modifiers on the line.",
        "extra_json": _EXTRA,
    },
    "order_item_modifiers": {
        **_ORDER_KEY,
        "line_id": "The line the modifier belongs to.",
        "modifier_number": "Position of the modifier on the line, from 1.",
        "modifier_id": "Grafterr's modifier id.",
        "created_at": "The order's created_at (UTC).",
        "name": "The modifier's name.",
        "quantity": "Units of the modifier.",
        "unit_price": f"Price of one unit. {_MONEY}",
        "extra_json": _EXTRA,
    },
    "payments": {
        **_ORDER_KEY,
        "payment_id": "Grafterr's payment id.",
        "store_id": "The order's store.",
        "created_at": "The order's created_at (UTC).",
        "method": "card, cash, voucher, gift_card or online.",
        "amount": f"Amount taken (captured) or given back (refunded), tip included. {_MONEY}",
        "tip": f"Tip included in the amount. {_MONEY}",
        "status": "captured, refunded or failed.",
        "paid_at": "When the payment was made (UTC).",
        "extra_json": _EXTRA,
    },
    "quarantine": {
        "business_date": "The business date whose pull held the version.",
        "source": "Where the version came from: api or webhook.",
        "order_id": "The order's id, when it could be read.",
        "store_id": "The store's id from the raw JSON, when it could be read.",
        "reason": "Which contract rule the version broke, and where.",
        "quarantined_at": "When the pipeline set it aside (UTC).",
        "raw_json": "The version exactly as received, as JSON text.",
    },
}

_SALES_KEY = {
    "business_date": "The business date.",
    "store_id": "Grafterr's store id.",
}

_ANALYST_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "daily_sales": {
        **_SALES_KEY,
        "store_name": "The store's name.",
        "channel": "pos, web or selfkiosk.",
        "currency": "Currency of the money columns.",
        "orders": "Every order of the date, open and cancelled ones included.",
        "cancelled_orders": "Orders with status cancelled.",
        "revenue_orders": "Orders completed, refunded or partially refunded.",
        "items": "Units on the lines that are not voided, of every order (cancelled included).",
        "gross_revenue": "Sum of total over revenue orders (tips included).",
        "refunds": "Sum of refunded payments of revenue orders.",
        "net_revenue": "gross_revenue - refunds: what the revenue orders finally brought in.",
        "average_order_value": "gross_revenue / revenue_orders, to the cent; NULL without any.",
    },
    "product_sales": {
        **_SALES_KEY,
        "product_id": "Grafterr's product id.",
        "product_name": "The product's name (the last one seen that day).",
        "category": "The product's menu category.",
        "currency": "Currency of revenue.",
        "orders": "Revenue orders with at least one active line of the product.",
        "quantity": "Units sold on active lines of revenue orders.",
        "revenue": "Sum of line_total of those lines (order-level discounts, service and "
        "tips are not spread over products; refunds are not either).",
    },
    "payments_by_method": {
        **_SALES_KEY,
        "currency": "Currency of the money columns.",
        "method": "card, cash, voucher, gift_card or online.",
        "captured_payments": "Payments captured.",
        "captured": "Sum captured, tips included.",
        "tips": "Tips within captured.",
        "refund_payments": "Refund entries.",
        "refunded": "Sum given back.",
        "failed_payments": "Attempts that failed (no money moved).",
        "amount": "captured - refunded: what the method finally brought in. Summed over "
        "methods it equals daily_sales.net_revenue when cancelled orders were fully refunded.",
    },
}

COLUMNS: Mapping[str, Mapping[str, str]] = {**_TABLE_COLUMNS, **_ANALYST_COLUMNS}
