"""The sandbox's arithmetic, stated once; every generated order obeys it exactly.

All money is :class:`decimal.Decimal` rounded to two places with ROUND_HALF_UP, and is sent as a
string with two decimals (``"25.85"``) unless a liberty turns it into a JSON number.

Per line::

    unit_with_modifiers = unit_price + Σ modifier.quantity × modifier.unit_price
    line_total          = quantity × unit_with_modifiers − discount

A modifier's quantity is *per unit* of its line (two burgers "with cheese" pay for two
cheeses); the line ``discount`` is an amount already taken off the whole line, never more than
the line before discount. A voided line keeps its own ``line_total`` but counts nowhere else.

Per order::

    subtotal = Σ line_total of active lines
    total    = subtotal − discount + service_charge + tip

``discount`` is the order-level discount (a voucher or a percentage of the subtotal). Prices
include tax: a line's ``tax`` is the share of its ``line_total`` that is tax,
``line_total × rate / (1 + rate)``, and ``totals.tax`` is the sum over active lines. Tax is
informational and is never added to a total.

Payments: ``amount`` includes the payment's ``tip``. A refund is its own payment entry with
status ``refunded`` and a positive ``amount``; a ``failed`` payment moved no money. For every
order that is not open or cancelled without payment::

    Σ amount of captured payments − Σ amount of refunded payments
        = total                       for a completed order
        = total − refunded amount     for a partially refunded order
        = 0                           for a refunded or cancelled one

and Σ tip of captured payments = ``totals.tip``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CENT", "ZERO", "line_total", "money", "order_total", "percent_of", "tax_included"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal) -> Decimal:
    """Round ``value`` to whole cents, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, rate: Decimal) -> Decimal:
    """Return ``amount × rate`` rounded to cents (``rate`` 0.125 means 12.5 %)."""
    return money(amount * rate)


def line_total(
    quantity: int,
    unit_price: Decimal,
    modifiers: Iterable[tuple[int, Decimal]],
    discount: Decimal,
) -> Decimal:
    """Return a line's total from its quantity, prices and ``(quantity, unit_price)`` modifiers."""
    per_unit = unit_price + sum((q * price for q, price in modifiers), ZERO)
    return money(quantity * per_unit - discount)


def tax_included(amount: Decimal, rate: Decimal) -> Decimal:
    """Return the tax contained in a tax-inclusive ``amount`` at ``rate``."""
    return money(amount * rate / (1 + rate))


def order_total(
    subtotal: Decimal, discount: Decimal, service_charge: Decimal, tip: Decimal
) -> Decimal:
    """Return ``subtotal − discount + service_charge + tip``."""
    return money(subtotal - discount + service_charge + tip)
