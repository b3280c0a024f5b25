"""The sandbox's fixed world: stores, their trading hours, and the menu they sell.

Twelve stores in six time zones: nine on UK or Irish clocks, one in Paris, one in Mumbai
(``Asia/Kolkata``, a half-hour offset far from London) and one in New York. Several trade past
local midnight and two past the 04:00 business-day cut-off, so that their late orders belong to
the next business date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

__all__ = [
    "MENU",
    "STORES",
    "STORES_BY_ID",
    "Modifier",
    "Product",
    "Store",
    "price_in",
]


@dataclass(frozen=True)
class Store:
    """One restaurant: where it is, when it trades and how it sells.

    ``opens`` is the local time of day trading starts and ``trading_hours`` how long it lasts,
    so a store opening at 17:00 for 12 hours closes at 05:00 the next morning. ``channels``
    weighs the share of ``pos``, ``web`` and ``selfkiosk`` orders. ``local_offsets`` makes its
    timestamps carry the store's own UTC offset rather than ``+00:00``.
    """

    store_id: str
    name: str
    timezone: str
    currency: str
    opens: dt.time
    trading_hours: float
    channels: tuple[float, float, float]
    vat_rate: Decimal
    service_rate: Decimal
    local_offsets: bool = False

    def as_json(self) -> dict[str, str]:
        """Return the ``store`` object an order carries."""
        return {"store_id": self.store_id, "name": self.name, "timezone": self.timezone}


@dataclass(frozen=True)
class Modifier:
    """An option added to a product line; its price is in GBP before conversion."""

    modifier_id: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class Product:
    """A menu item with its category, GBP price and the modifiers it may carry."""

    product_id: str
    name: str
    category: str
    price: Decimal
    modifiers: tuple[Modifier, ...] = ()


_UK_VAT = Decimal("0.20")
_POS_HEAVY = (0.65, 0.25, 0.10)
_KIOSK_HEAVY = (0.40, 0.25, 0.35)
_WEB_HEAVY = (0.35, 0.65, 0.0)


def _store(
    number: int,
    name: str,
    tz: str,
    opens: str,
    hours: float,
    channels: tuple[float, float, float] = _POS_HEAVY,
    *,
    currency: str = "GBP",
    vat: Decimal = _UK_VAT,
    service: str = "0.125",
    local_offsets: bool = False,
) -> Store:
    return Store(
        store_id=f"st_{number:03d}",
        name=name,
        timezone=tz,
        currency=currency,
        opens=dt.time.fromisoformat(opens),
        trading_hours=hours,
        channels=channels,
        vat_rate=vat,
        service_rate=Decimal(service),
        local_offsets=local_offsets,
    )


STORES: tuple[Store, ...] = (
    _store(1, "London Soho", "Europe/London", "11:00", 13.0),
    _store(2, "Leeds Briggate", "Europe/London", "11:30", 12.0, _KIOSK_HEAVY),
    _store(3, "Manchester Deansgate", "Europe/London", "11:00", 14.5),
    _store(4, "Edinburgh Rose Street", "Europe/London", "12:00", 12.0),
    _store(5, "Bristol Harbourside", "Europe/London", "08:00", 14.0, _KIOSK_HEAVY),
    _store(6, "Brighton Lanes", "Europe/London", "10:00", 13.0, _WEB_HEAVY),
    _store(7, "Glasgow Merchant City", "Europe/London", "16:00", 12.5),
    _store(8, "London Shoreditch", "Europe/London", "17:00", 12.0, _WEB_HEAVY),
    _store(9, "Dublin Temple Bar", "Europe/Dublin", "12:00", 13.5, currency="EUR",
           vat=Decimal("0.135"), service="0.10"),
    _store(10, "Paris Marais", "Europe/Paris", "11:30", 12.0, currency="EUR",
           vat=Decimal("0.10"), service="0"),
    _store(11, "Mumbai Bandra", "Asia/Kolkata", "12:00", 12.5, _KIOSK_HEAVY, currency="INR",
           vat=Decimal("0.05"), service="0.10", local_offsets=True),
    _store(12, "New York SoHo", "America/New_York", "11:00", 15.0, _WEB_HEAVY, currency="USD",
           vat=Decimal("0.08875"), service="0", local_offsets=True),
)  # fmt: skip

STORES_BY_ID: dict[str, Store] = {store.store_id: store for store in STORES}

_EXTRA_CREAM = Modifier("mod_cream", "Extra cream", Decimal("0.50"))
_EXTRA_SHOT = Modifier("mod_shot", "Extra shot", Decimal("0.40"))
_OAT_MILK = Modifier("mod_oat", "Oat milk", Decimal("0.35"))
_CHEESE = Modifier("mod_cheese", "Add cheese", Decimal("1.00"))
_BACON = Modifier("mod_bacon", "Add smoked bacon", Decimal("1.50"))
_NO_ONION = Modifier("mod_no_onion", "No onions", Decimal("0.00"))
_GF_BUN = Modifier("mod_gf", "Gluten-free bun", Decimal("1.20"))
_LARGE = Modifier("mod_large", "Large", Decimal("1.00"))
_SPICY = Modifier("mod_spicy", "Extra spicy — jalapeños", Decimal("0.60"))
_DIP = Modifier("mod_aioli", "Garlic aïoli", Decimal("0.80"))

_BURGER_MODS = (_CHEESE, _BACON, _NO_ONION, _GF_BUN, _SPICY)

MENU: tuple[Product, ...] = (
    Product("prd_101", "Pâté de campagne", "Starters", Decimal("6.50")),
    Product("prd_102", "Jalapeño poppers", "Starters", Decimal("5.75"), (_DIP,)),
    Product("prd_103", "Soupe à l'oignon", "Starters", Decimal("5.95"), (_CHEESE,)),
    Product("prd_104", "Paneer tikka", "Starters", Decimal("6.25"), (_SPICY,)),
    Product("prd_201", "Classic burger", "Mains", Decimal("12.50"), _BURGER_MODS),
    Product("prd_202", "Smoky jackfruit burger", "Mains", Decimal("11.95"), _BURGER_MODS),
    Product("prd_203", "Croque-monsieur", "Mains", Decimal("9.50"), (_NO_ONION,)),
    Product("prd_204", "Fish & chips", "Mains", Decimal("14.00"), (_DIP,)),
    Product("prd_205", "Butter chicken", "Mains", Decimal("13.25"), (_SPICY, _LARGE)),
    Product("prd_206", "Açaí bowl", "Mains", Decimal("8.95")),
    Product("prd_301", "Skinny fries", "Sides", Decimal("3.75"), (_CHEESE, _DIP, _LARGE)),
    Product("prd_302", "Halloumi fries", "Sides", Decimal("5.25"), (_DIP,)),
    Product("prd_303", "Garlic naan", "Sides", Decimal("2.95")),
    Product("prd_401", "Crème brûlée", "Desserts", Decimal("6.50"), (_EXTRA_CREAM,)),
    Product("prd_402", "Tarte tatin", "Desserts", Decimal("6.95"), (_EXTRA_CREAM,)),
    Product("prd_403", "Gulab jamun", "Desserts", Decimal("4.75")),
    Product("prd_501", "Flat white", "Hot drinks", Decimal("3.40"), (_EXTRA_SHOT, _OAT_MILK)),
    Product("prd_502", "Café au lait", "Hot drinks", Decimal("3.20"), (_OAT_MILK, _LARGE)),
    Product("prd_503", "Masala chai", "Hot drinks", Decimal("3.10"), (_OAT_MILK,)),
    Product("prd_601", "Piña colada", "Cocktails", Decimal("9.50")),
    Product("prd_602", "Negroni", "Cocktails", Decimal("10.00")),
    Product("prd_701", "Sparkling water", "Soft drinks", Decimal("2.50"), (_LARGE,)),
    Product("prd_702", "Mango lassi", "Soft drinks", Decimal("3.95")),
)

# Rough exchange rates, with the step prices are rounded to in that currency.
_PRICE_RULES: dict[str, tuple[Decimal, Decimal]] = {
    "GBP": (Decimal("1"), Decimal("0.01")),
    "EUR": (Decimal("1.15"), Decimal("0.10")),
    "USD": (Decimal("1.27"), Decimal("0.25")),
    "INR": (Decimal("55"), Decimal("5")),
}


@lru_cache(maxsize=1024)
def price_in(gbp: Decimal, currency: str) -> Decimal:
    """Return the menu price ``gbp`` in ``currency``, rounded to that currency's price step."""
    rate, step = _PRICE_RULES[currency]
    if not gbp:
        return Decimal("0.00")
    steps = max(1, round(gbp * rate / step))
    return (step * steps).quantize(Decimal("0.01"))
