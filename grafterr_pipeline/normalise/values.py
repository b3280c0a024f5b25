"""Strict readers for the values inside an order: money, timestamps, ids and quantities.

Each reader returns the value in the warehouse's type or raises :class:`InvalidOrderError`
with a reason that names the field and the bad value, so the order can be quarantined.
Raw JSON is parsed with ``parse_float=Decimal`` (see :func:`loads`), so money sent as a JSON
number keeps its decimal text and is never rounded through a float.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from grafterr_pipeline.errors import InvalidOrderError

__all__ = [
    "MAX_INT",
    "MAX_INT32",
    "dumps",
    "loads",
    "read_id",
    "read_int",
    "read_money",
    "read_text",
    "read_timestamp",
]

# Money as text: an optional sign, digits, and at most two decimals (contract, "order object").
_MONEY_TEXT = re.compile(r"-?\d{1,16}(\.\d{1,2})?")
_MAX_ID_LENGTH = 128
# Whole numbers land as int64; below 2**62 so sums of a few of them still fit.
MAX_INT = 2**62 - 1
# Columns such as covers land as int32.
MAX_INT32 = 2**31 - 1
# Instants this close to the calendar's ends cannot be moved to a store's zone or back past a
# cut-off without OverflowError, so they are refused with a reason rather than crash the day.
_EARLIEST = dt.datetime(1, 1, 3, tzinfo=dt.UTC)
_LATEST = dt.datetime(9999, 12, 29, tzinfo=dt.UTC)


def loads(raw: str | bytes) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal``."""
    return json.loads(raw, parse_float=Decimal)


def _default(value: object) -> object:
    # A number stays a number: written as a string it would be judged by the stricter rules for
    # money text when read back, and a valid 1e3 or 25.850 would be quarantined at landing.
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        if value.is_finite() and Decimal(repr(float(value))) == value:
            return float(value)
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Serialise ``value`` as compact JSON, writing Decimals as their exact text.

    Text that is not valid Unicode (a lone surrogate, from an escape such as ``"\\ud83c"``)
    cannot be stored as UTF-8; it is written escaped, as ASCII, so the JSON stays exact.
    """
    text = json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))
    if _is_unicode(text):
        return text
    return json.dumps(value, default=_default, ensure_ascii=True, separators=(",", ":"))


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked_text(value: str, field: str) -> str:
    if not value.isascii() and not _is_unicode(value):
        raise InvalidOrderError(
            f"{field}: {value!r} is not valid Unicode text (a lone UTF-16 surrogate)"
        )
    return value


def read_money(value: object, field: str) -> Decimal | None:
    """Read money given as a JSON string or number; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidOrderError(f"{field}: {value!r} is not an amount of money")
    if isinstance(value, str):
        if not _MONEY_TEXT.fullmatch(value.strip()):
            raise InvalidOrderError(
                f"{field}: {value!r} is not money with at most two decimals, e.g. '12.50'"
            )
        return Decimal(value.strip())
    if isinstance(value, int | Decimal):
        return _exact_number(Decimal(value), field)
    raise InvalidOrderError(f"{field}: {type(value).__name__} is not an amount of money")


def _exact_number(amount: Decimal, field: str) -> Decimal:
    try:
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            raise InvalidOrderError(f"{field}: {amount} has more than two decimals")
    except InvalidOperation as err:
        raise InvalidOrderError(f"{field}: {amount} is too large for money") from err
    if abs(amount) >= Decimal(10) ** 16:
        raise InvalidOrderError(f"{field}: {amount} is too large for money")
    return amount


def read_timestamp(value: object, field: str, *, required: bool = True) -> dt.datetime | None:
    """Read an ISO-8601 timestamp that carries an offset, returned in UTC."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidOrderError(f"{field}: {value!r} is not an ISO-8601 timestamp")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as err:
        raise InvalidOrderError(f"{field}: {value!r} is not an ISO-8601 timestamp") from err
    if parsed.tzinfo is None:
        raise InvalidOrderError(
            f"{field}: {value!r} has no UTC offset; naive timestamps are invalid, not local time"
        )
    try:
        instant = parsed.astimezone(dt.UTC)
    except OverflowError as err:
        raise InvalidOrderError(f"{field}: {value!r} is outside the calendar") from err
    if not _EARLIEST <= instant <= _LATEST:
        raise InvalidOrderError(f"{field}: {value!r} is too near the calendar's ends to use")
    return instant


def read_id(value: object, field: str, *, required: bool = True) -> str | None:
    """Read an identifier; integers become their decimal text so ids are always strings."""
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= _MAX_ID_LENGTH:
        return _checked_text(value, field)
    raise InvalidOrderError(f"{field}: {value!r} is not an identifier")


def read_int(
    value: object,
    field: str,
    *,
    minimum: int | None = 0,
    maximum: int = MAX_INT,
    required: bool = False,
) -> int | None:
    """Read a whole number in ``minimum..maximum``; ``None`` stays ``None`` unless required."""
    if value is None:
        if required:
            raise InvalidOrderError(f"{field} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidOrderError(f"{field}: {value!r} is not a whole number")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise InvalidOrderError(f"{field}: {value} is not a whole number")
    number = int(value)
    if minimum is not None and number < minimum:
        raise InvalidOrderError(f"{field}: {number} is below {minimum}")
    if abs(number) > maximum:
        raise InvalidOrderError(f"{field}: {number} is too large (at most {maximum})")
    return number


def read_text(value: object, field: str) -> str | None:
    """Read optional text; numbers are accepted as their text, other types are invalid."""
    if value is None:
        return value
    if isinstance(value, str):
        return _checked_text(value, field)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise InvalidOrderError(f"{field}: {type(value).__name__} is not text")
