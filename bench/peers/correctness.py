"""Each contender's Parquet against the sandbox's ground truth, per business date.

Every contender is read back into the same three lists -- its order rows, the order of each line
row, its payment rows -- and scored the same way, table by table, the way an analyst's query
over the files would count: an order landed twice counts twice. The peers land whole pull
windows, so their rows are first kept only when :func:`business_date_of` puts them on the
date, exactly as the pipeline decides; the pipeline's partitions are taken as landed.

The figures are those of :class:`~grafterr_pipeline.sandbox.Tally`: ``orders`` (every order of
the date), ``lines`` (rows of ``order_items``, voided lines included) and ``net`` (``total`` of
the completed and refunded orders less their refunded payments).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.sandbox import GroundTruth
from grafterr_pipeline.sandbox.truth import REVENUE_STATUSES

__all__ = [
    "DayScore",
    "OrderRow",
    "Tables",
    "read_dlt",
    "read_naive",
    "read_pipeline",
    "score",
]

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OrderRow:
    """One landed order row: enough to place it on a date and count its revenue."""

    order_id: str
    created_at: dt.datetime | None
    timezone: str | None
    status: str | None
    total: Decimal


@dataclass(frozen=True)
class Tables:
    """What a contender landed for one date (or one pull window)."""

    orders: list[OrderRow]
    line_order_ids: list[str]
    payments: list[tuple[str, str | None, Decimal]]  # order_id, status, amount

    def on_date(self, day: dt.date, cutoff: dt.time) -> Tables:
        """Only the rows whose order's business date is ``day``."""
        kept = [row for row in self.orders if _business_date(row, cutoff) == day]
        ids = {row.order_id for row in kept}
        return Tables(
            kept,
            [i for i in self.line_order_ids if i in ids],
            [p for p in self.payments if p[0] in ids],
        )


@dataclass(frozen=True)
class DayScore:
    """A contender's figures for one date next to the ground truth's."""

    business_date: dt.date
    orders: int
    lines: int
    net: Decimal
    duplicates: int
    missing: int
    unexpected: int
    truth_orders: int
    truth_lines: int
    truth_net: Decimal

    @property
    def exact(self) -> bool:
        """Every order of the date exactly once, and lines and net revenue to the penny."""
        return (
            (self.orders, self.lines, self.net) == (self.truth_orders, self.truth_lines,
                                                    self.truth_net)
            and not (self.duplicates or self.missing or self.unexpected)
        )  # fmt: skip

    def differences(self) -> list[str]:
        """What differs from the ground truth, in words; empty when exact."""
        found = []
        for name, ours, truth in (
            ("orders", self.orders, self.truth_orders),
            ("lines", self.lines, self.truth_lines),
            ("net", self.net, self.truth_net),
        ):
            if ours != truth:
                found.append(f"{name} {ours - truth:+}")
        for name, count in (
            ("duplicated", self.duplicates),
            ("missing", self.missing),
            ("not of the date", self.unexpected),
        ):
            if count:
                found.append(f"{count} {name}")
        return found


def score(tables: Tables, truth: GroundTruth) -> DayScore:
    """Score what landed for ``truth.business_date`` against ``truth``."""
    revenue = {row.order_id for row in tables.orders if row.status in REVENUE_STATUSES}
    gross = sum((row.total for row in tables.orders if row.order_id in revenue), ZERO)
    refunds = sum(
        (amount for oid, status, amount in tables.payments
         if oid in revenue and status == "refunded"),
        ZERO,
    )  # fmt: skip
    ids = {row.order_id for row in tables.orders}
    return DayScore(
        business_date=truth.business_date,
        orders=len(tables.orders),
        lines=len(tables.line_order_ids),
        net=gross - refunds,
        duplicates=len(tables.orders) - len(ids),
        missing=len(set(truth.orders) - ids),
        unexpected=len(ids - set(truth.orders)),
        truth_orders=truth.day.orders,
        truth_lines=truth.rows["order_items"],
        truth_net=truth.day.net,
    )


def read_pipeline(data_dir: Path, dates: Iterable[dt.date]) -> dict[dt.date, Tables]:
    """The pipeline's warehouse partitions, one :class:`Tables` per business date."""
    root = data_dir / "warehouse"
    con = _connect()
    landed = {}
    for day in dates:
        part = f"business_date={day.isoformat()}/*.parquet"
        orders = _rows(con, root / "orders" / part,
                       "order_id, NULL, NULL, status, CAST(total AS VARCHAR)")  # fmt: skip
        lines = _rows(con, root / "order_items" / part, "order_id")
        payments = _rows(con, root / "payments" / part, "order_id, status, CAST(amount AS VARCHAR)")
        landed[day] = _tables(orders, lines, payments)
    return landed


def read_naive(out: Path, dates: Iterable[dt.date], cutoff: dt.time) -> dict[dt.date, Tables]:
    """The afternoon script's files, one pull window per date, kept to the date."""
    con = _connect()
    landed = {}
    for day in dates:
        name = f"{day.isoformat()}.parquet"
        orders = _rows(
            con,
            out / "orders" / name,
            'order_id, CAST(created_at AS VARCHAR), "store.timezone", status, "totals.total"',
        )
        lines = _rows(con, out / "items" / name, "order_id")
        payments = _rows(con, out / "payments" / name, "order_id, status, amount")
        landed[day] = _tables(orders, lines, payments).on_date(day, cutoff)
    return landed


def read_dlt(out: Path, dates: Iterable[dt.date], cutoff: dt.time) -> dict[dt.date, Tables]:
    """dlt's loads, one per date (``loads.json`` maps them), kept to the date."""
    loads_file = out / "loads.json"
    loads = json.loads(loads_file.read_text()) if loads_file.exists() else {}
    lake = out / "lake" / "grafterr"
    con = _connect()
    landed = {}
    for day in dates:
        load_id = loads.get(day.isoformat())
        if load_id is None:
            landed[day] = Tables([], [], [])
            continue
        orders = _rows(
            con,
            lake / "orders" / f"{load_id}.*.parquet",
            "order_id, CAST(created_at AS VARCHAR), store__timezone, status, totals__total",
        )
        parents = dict(_rows(con, lake / "orders" / f"{load_id}.*.parquet", "_dlt_id, order_id"))
        lines = [
            (parents.get(p),)
            for (p,) in _rows(
                con, lake / "orders__items" / f"{load_id}.*.parquet", "_dlt_parent_id"
            )
        ]
        payments = [
            (parents.get(p), status, amount)
            for p, status, amount in _rows(
                con, lake / "orders__payments" / f"{load_id}.*.parquet",
                "_dlt_parent_id, status, amount",
            )
        ]  # fmt: skip
        landed[day] = _tables(orders, lines, payments).on_date(day, cutoff)
    return landed


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _rows(con: duckdb.DuckDBPyConnection, glob: Path, columns: str) -> list[tuple]:
    """``columns`` (constants of this module) of the Parquet files matching ``glob``."""
    if not list(glob.parent.glob(glob.name)):
        return []
    query = f"SELECT {columns} FROM read_parquet($1, union_by_name = true)"
    return con.execute(query, [str(glob)]).fetchall()


def _tables(orders: list[tuple], lines: list[tuple], payments: list[tuple]) -> Tables:
    return Tables(
        [OrderRow(str(o), _instant(c), tz, st, _money(t)) for o, c, tz, st, t in orders],
        [str(line[0]) for line in lines],
        [(str(o), st, _money(a)) for o, st, a in payments],
    )


def _instant(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _money(value: object) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def _business_date(row: OrderRow, cutoff: dt.time) -> dt.date | None:
    if row.created_at is None or row.timezone is None:
        return None
    return business_date_of(row.created_at, row.timezone, cutoff)
