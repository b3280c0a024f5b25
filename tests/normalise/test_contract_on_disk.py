"""What lands on disk: one schema across a week, no salt anywhere, and checks that name orders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from grafterr_pipeline.normalise import NormaliseOptions, dumps
from grafterr_pipeline.normalise.audit import (
    arithmetic_breaks,
    quarantined_orders,
    repeated_order_ids,
)
from grafterr_pipeline.normalise.fast import normalise_staged
from grafterr_pipeline.normalise.schema import WAREHOUSE_TABLES
from grafterr_pipeline.warehouse import Warehouse
from tests.factories import make_order

SALT = "s3cret-salt-value"
OPTIONS = NormaliseOptions(pii="hash", pii_salt=SALT)
MONDAY = dt.date(2026, 11, 23)


def _stage(path: Path, orders: list[Any]) -> Path:
    path.write_text("".join(dumps({"source": "api", "order": o}) + "\n" for o in orders))
    return path


def _on(day: dt.date, n: int, **changes: Any) -> dict[str, Any]:
    created = f"{day.isoformat()}T12:00:0{n % 10}+00:00"
    return make_order(order_id=f"ord_{day:%d}_{n}", created_at=created, **changes)


def _land(root: Path, day: dt.date, orders: list[Any]) -> Warehouse:
    staged = _stage(root / f"{day}.jsonl", orders)
    warehouse = Warehouse(root)
    warehouse.land(normalise_staged([staged], business_date=day, options=OPTIONS))
    return warehouse


def _week(day: dt.date) -> list[Any]:
    match day.weekday():
        case 0:
            return []  # an empty day
        case 1:  # every customer and optional field null, no modifiers, no payments
            bare = {"customer": None, "covers": None, "table_number": None, "payments": []}
            orders = [_on(day, n, **bare) for n in range(3)]
            for order in orders:
                for line in order["items"]:
                    line["modifiers"] = []
            return orders
        case 2:  # every money field and every timestamp of a payment null
            return [_on(day, 0, totals={}, payments=[{"payment_id": "p", "amount": None}])]
        case _:
            return [_on(day, n) for n in range(day.weekday())]


def test_a_week_of_partitions_reads_with_one_schema_in_duckdb(tmp_path: Path) -> None:
    days = [MONDAY + dt.timedelta(days=n) for n in range(7)]
    for day in days:
        warehouse = _land(tmp_path, day, _week(day))

    for table, schema in WAREHOUSE_TABLES.items():
        for day in days:
            assert pq.read_schema(warehouse.partition_files(table, day)[0]).equals(schema), (
                table,
                day,
            )
        glob = str(warehouse.location.local_path / table / "*" / "*.parquet")
        with duckdb.connect() as con:
            types = con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                "read_parquet(?, hive_partitioning = false, union_by_name = false))",
                [glob],
            ).fetchall()
            count = con.execute("SELECT count(*) FROM read_parquet(?)", [glob]).fetchone()
        assert [name for name, _ in types] == schema.names
        assert not any(t in ("NULL", "DOUBLE", "FLOAT") for _, t in types)
        assert count is not None
    with duckdb.connect() as con:
        orders = con.execute(
            "SELECT count(*) FROM read_parquet(?)",
            [str(warehouse.location.local_path / "orders/*/*.parquet")],
        ).fetchone()
    assert orders == (3 + 1 + 3 + 4 + 5 + 6,)


@pytest.mark.parametrize("pii", ["hash", "keep", "drop"])
def test_the_salt_is_never_written_to_any_file(tmp_path: Path, pii: str) -> None:
    options = NormaliseOptions(pii=pii, pii_salt=SALT)
    staged = _stage(tmp_path / "staged.jsonl", [make_order(), make_order(order_id=None)])
    day = normalise_staged([staged], business_date=dt.date(2026, 11, 30), options=options)

    Warehouse(tmp_path).land(day)

    assert SALT not in repr(options)
    for path in (tmp_path / "warehouse").rglob("*.parquet"):
        assert SALT.encode() not in pq.read_table(path).to_pandas().to_csv().encode(), path
        assert SALT.encode() not in path.read_bytes(), path


def test_default_privacy_keeps_a_hash_that_counts_repeat_customers_but_no_contact(
    tmp_path: Path,
) -> None:
    one = make_order(customer={"customer_id": "c", "email": " A@B.com", "name": "N", "phone": "7"})
    two = make_order(order_id="ord_2", customer={"customer_id": "c", "email": "a@b.COM "})
    staged = _stage(tmp_path / "staged.jsonl", [one, two])

    day = normalise_staged([staged], business_date=dt.date(2026, 11, 30), options=OPTIONS)

    rows = day.tables["orders"].to_pylist()
    assert rows[0]["customer_email_sha256"] == rows[1]["customer_email_sha256"] is not None
    assert {rows[0][k] for k in ("customer_name", "customer_email", "customer_phone")} == {None}
    text = day.tables["orders"].to_pandas().to_csv()
    assert "A@B" not in text and "a@b" not in text


def test_checks_name_quarantined_repeated_and_miscounted_orders(tmp_path: Path) -> None:
    day = dt.date(2026, 11, 30)
    broken = make_order(order_id="ord_bad", totals={"total": "1.005"})
    wrong_total = make_order(order_id="ord_sum", totals={**make_order()["totals"], "total": "9"})
    warehouse = _land(tmp_path, day, [make_order(), broken, wrong_total])

    quarantined = quarantined_orders(warehouse.location, day)
    repeated = repeated_order_ids(warehouse.location, day)
    arithmetic = arithmetic_breaks(warehouse.location, day)

    assert [f.order_id for f in quarantined] == ["ord_bad"]
    assert "two decimals" in quarantined[0].problem
    assert repeated == []
    assert {f.order_id for f in arithmetic} == {"ord_sum"}
    assert any("total 9.00" in f.problem for f in arithmetic)


def test_arithmetic_check_passes_on_the_sandbox_orders(tmp_path: Path) -> None:
    from grafterr_pipeline.sandbox import SandboxConfig, ground_truth

    day = dt.date(2026, 11, 18)
    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    truth = ground_truth(SandboxConfig(seed=7, scale=10, now=now), day)
    warehouse = _land(tmp_path, day, list(truth.orders.values()))

    assert arithmetic_breaks(warehouse.location, day) == []
    assert quarantined_orders(warehouse.location, day) == []


def test_repeated_order_ids_are_named(tmp_path: Path) -> None:
    import pyarrow as pa

    day = dt.date(2026, 11, 30)
    warehouse = _land(tmp_path, day, [make_order()])
    path = warehouse.partition_files("orders", day)[0]
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table]), path)

    assert [f.order_id for f in repeated_order_ids(warehouse.location, day)] == ["ord_1"]
