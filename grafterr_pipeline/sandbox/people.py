"""Fake customers: the personal data an order may carry, present, null or absent.

The contract lets ``customer`` be an object, ``null`` or missing altogether. Web orders always
name their customer; at the till most do not; kiosk orders split three ways. Names, e-mails and
phone numbers are invented (phone numbers come from ranges reserved for drama).
"""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from grafterr_pipeline.sandbox.catalogue import Store

__all__ = ["attach_customer"]

_FIRST = (
    "Zoë", "José", "Siobhán", "Aarav", "Chloé", "Oliver", "Amélie", "Mohammed", "Priya",
    "Søren", "Nuala", "Ethan", "Léa", "Kwame", "Ines", "Björn", "Ananya", "Grace",
)  # fmt: skip
_LAST = (
    "Brontë", "Álvarez", "O'Neill", "Sharma", "Dubois", "Smith", "Nguyen", "Müller",
    "Okafor", "Kowalski", "Fernández", "Patel", "MacLeod", "Łukasiewicz", "Jones",
)  # fmt: skip
_PHONE_PREFIX = {
    "GBP": "+44 7700 900",
    "EUR": "+353 85 555",
    "INR": "+91 98200 00",
    "USD": "+1 212 555 0",
}
_POOL = 400  # regulars per store: the same customer comes back on other days


def attach_customer(rng: random.Random, order: dict[str, Any], store: Store, channel: str) -> None:
    """Set ``order["customer"]`` to a customer or ``None``, or leave the key out."""
    draw = rng.random()
    if (
        channel == "web"
        or (channel == "pos" and draw < 0.2)
        or (channel == "selfkiosk" and draw < 0.4)
    ):
        order["customer"] = _customer(rng.randrange(_POOL), rng, store)
    elif channel == "selfkiosk" and draw < 0.7:
        return  # the kiosk sent no customer field at all
    else:
        order["customer"] = None


def _customer(number: int, rng: random.Random, store: Store) -> dict[str, Any]:
    first = _FIRST[number % len(_FIRST)]
    last = _LAST[number // len(_FIRST) % len(_LAST)]
    has_phone = rng.random() < 0.7
    return {
        "customer_id": f"cus_{store.store_id.removeprefix('st_')}{number:04d}",
        "name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}{number}@example.com",
        "phone": f"{_PHONE_PREFIX[store.currency]}{number % 1000:03d}" if has_phone else None,
    }


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.replace("Ł", "L").replace("ø", "o"))
    return "".join(c for c in folded if c.isalnum() and c.isascii()).lower()
