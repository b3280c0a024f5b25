"""The liberties the contract allows Grafterr to take when it serves an order.

The contract ("The order object") says money may come as a JSON number, new fields may appear at
any level at any time, and ``customer``, ``covers`` and ``table_number`` may be absent rather
than null. A sandbox takes each liberty with an order by its configured share. Which orders get
which liberty is decided from the seed and the order id, so the same order looks the same on
every request. The stored bodies are never changed: a liberty works on a copy.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from grafterr_pipeline.sandbox.config import SandboxConfig

__all__ = ["MONEY_FIELDS", "Liberties", "as_number"]

Json = dict[str, Any]

MONEY_FIELDS = {
    "totals": ("subtotal", "discount", "service_charge", "tax", "tip", "total"),
    "items": ("unit_price", "discount", "tax", "line_total"),
    "modifiers": ("unit_price",),
    "payments": ("amount", "tip"),
}
_OPTIONAL = ("customer", "covers", "table_number")

# Unknown fields, one per level, of different JSON types, so a loader that breaks on any of them
# shows it.
_EXTRAS: dict[str, Json] = {
    "order": {"loyalty_points": 12, "x_sandbox": {"note": "a field no contract names"}},
    "store": {"region": "north"},
    "customer": {"marketing_opt_in": True},
    "totals": {"rounding": "0.00"},
    "items": {"course": "main", "allergens": ["gluten", "milk"]},
    "modifiers": {"group": "extras"},
    "payments": {"card_brand": None},
    "envelope": {"links": {"self": None}},
    "meta": {"generated_by": "grafterr-sandbox"},
}


def as_number(text: str) -> int | float:
    """Return the money string ``text`` as a JSON number: whole amounts as integers."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


class Liberties:
    """Applies a config's liberties to orders and listing envelopes as they are served."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._envelope_rng = random.Random(f"{config.seed}|envelope")

    def order(self, body: Json) -> Json:
        """Return ``body`` as served: unchanged, or a copy with the liberties drawn for it."""
        config = self.config
        if not (config.money_as_numbers or config.extra_fields or config.absent_optional):
            return body
        rng = random.Random(f"{config.seed}|liberty|{body['order_id']}")
        numbers, extras, absent = (rng.random() < share for share in self._shares())
        if not (numbers or extras or absent):
            return body
        served = _copy(body)
        if numbers:
            _money_as_numbers(served)
        if extras:
            _add_extras(served)
        if absent:
            for key in [k for k in _OPTIONAL if k in served and served[k] is None]:
                del served[key]
        return served

    def envelope(self, body: Json) -> Json:
        """Return a listing response, with unknown fields in it and its meta by the share."""
        if not self.config.extra_fields or self._envelope_rng.random() >= self.config.extra_fields:
            return body
        meta = {**body["meta"], **_EXTRAS["meta"]}
        return {**body, "meta": meta, **_EXTRAS["envelope"]}

    def _shares(self) -> tuple[float, float, float]:
        return (self.config.money_as_numbers, self.config.extra_fields, self.config.absent_optional)


def _copy(body: Json) -> Json:
    served = dict(body)
    for key in ("store", "totals"):
        served[key] = dict(body[key])
    if isinstance(body.get("customer"), dict):
        served["customer"] = dict(body["customer"])
    served["items"] = [
        {**line, "modifiers": [dict(m) for m in line["modifiers"]]} for line in body["items"]
    ]
    served["payments"] = [dict(p) for p in body["payments"]]
    return served


def _money_as_numbers(order: Json) -> None:
    _convert(order["totals"], MONEY_FIELDS["totals"])
    for line in order["items"]:
        _convert(line, MONEY_FIELDS["items"])
        for modifier in line["modifiers"]:
            _convert(modifier, MONEY_FIELDS["modifiers"])
    for payment in order["payments"]:
        _convert(payment, MONEY_FIELDS["payments"])


def _convert(record: Json, names: tuple[str, ...]) -> None:
    for name in names:
        record[name] = as_number(record[name])


def _add_extras(order: Json) -> None:
    order.update(_EXTRAS["order"])
    order["store"].update(_EXTRAS["store"])
    order["totals"].update(_EXTRAS["totals"])
    if isinstance(order.get("customer"), dict):
        order["customer"].update(_EXTRAS["customer"])
    for line in order["items"]:
        line.update(_EXTRAS["items"])
        for modifier in line["modifiers"]:
            modifier.update(_EXTRAS["modifiers"])
    for payment in order["payments"]:
        payment.update(_EXTRAS["payments"])
