"""``grafterr-pipeline sql``: answers, DuckDB's errors, and a prompt that holds no lock."""

from __future__ import annotations

import builtins
import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from grafterr_pipeline.cli import main
from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.warehouse import RetryPolicy, Warehouse
from tests.warehouse.helpers import DATES, normalised, sandbox_orders


def _sql(warehouse: Warehouse, *args: str) -> int:
    return main(["sql", "--data-dir", str(warehouse.root), *args])


def test_a_query_prints_its_answer(landed: Warehouse, capsys: pytest.CaptureFixture) -> None:
    code = _sql(
        landed, "--format", "csv", "SELECT count(DISTINCT business_date) AS days FROM orders"
    )

    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["days", "2"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * FROM no_such_view", "Catalog Error"),
        ("SELEC 1", "Parser Error"),
        ("CREATE TABLE t (a INT)", "read-only"),
    ],
    ids=["unknown-view", "syntax", "write"],
)
def test_a_wrong_query_prints_duckdbs_message_and_fails(
    landed: Warehouse, capsys: pytest.CaptureFixture, query: str, message: str
) -> None:
    code = _sql(landed, query)

    assert code == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("query", ["", ";", "-- only a comment", "   ", " ; ;"])
def test_a_query_with_no_statement_runs_nothing_and_says_so(
    landed: Warehouse, capsys: pytest.CaptureFixture, query: str
) -> None:
    code = _sql(landed, query)
    out, err = capsys.readouterr()

    assert code == 0
    assert out == ""
    assert "nothing to run" in err


def test_every_statement_of_a_query_prints_its_result_in_order(
    landed: Warehouse, capsys: pytest.CaptureFixture
) -> None:
    code = _sql(landed, "--format", "csv", "SELECT 1 AS a; SELECT 'x;y' AS b; SELECT 3 AS c")

    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["a", "1", "b", "x;y", "c", "3"]


def test_statements_after_a_rejected_one_do_not_run(
    landed: Warehouse, capsys: pytest.CaptureFixture
) -> None:
    code = _sql(landed, "--format", "csv", "SELECT 1 AS a; SELECT oops; SELECT 3 AS c")
    out, err = capsys.readouterr()

    assert code == 1
    assert out.splitlines() == ["a", "1"]
    assert 'Referenced column "oops"' in err


@pytest.mark.parametrize(
    ("script", "code", "lines"),
    [
        ("SELECT 1 AS a;\n;\n-- a comment\nSELECT 3 AS c\n", 0, ["a", "1", "c", "3"]),
        ("SELECT 1 AS a;\nSELECT oops;\nSELECT 3 AS c;\n", 1, ["a", "1"]),
        ("SELEC 1;\n", 1, []),
        ("", 0, []),
    ],
    ids=["last-without-semicolon", "runtime-error", "syntax-error", "empty"],
)
def test_a_piped_script_prints_only_answers_and_fails_with_its_first_error(
    landed: Warehouse, script: str, code: int, lines: list[str]
) -> None:
    command = [str(Path(sys.executable).with_name("grafterr-pipeline")), "sql", "--format", "csv"]

    done = subprocess.run(
        [*command, "--data-dir", str(landed.root)],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == code, done.stderr
    assert done.stdout.splitlines() == lines
    assert ("error:" in done.stderr) == (code != 0)
    assert "Traceback" not in done.stderr


def test_a_missing_database_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["sql", "--data-dir", str(tmp_path), "SELECT 1"])

    assert code == 2
    assert "run `grafterr-pipeline demo` or `run` first" in capsys.readouterr().err


def test_the_prompt_runs_statements_and_lets_the_pipeline_refresh_between_them(
    landed: Warehouse, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed: list[bool] = []

    def lines() -> Iterator[str]:
        yield "SELECT count(*) AS n"
        yield "FROM orders;"
        yield "SELECT oops;"
        refreshed.append(_refresh_while_the_prompt_is_open(landed))
        yield ";"  # nothing to run, and the session goes on
        yield "SELECT 42 AS answer;"

    feed = lines()

    def fake_input(prompt: str = "") -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    monkeypatch.setattr(sys, "stdin", _Terminal())
    code = _sql(landed)
    out, err = capsys.readouterr()

    assert code == 0
    assert refreshed == [True]
    assert "answer" in out and "42" in out
    assert 'Binder Error: Referenced column "oops"' in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _refresh_while_the_prompt_is_open(warehouse: Warehouse) -> bool:
    with duckdb.connect(str(warehouse.database)) as con:  # would fail if the prompt held it
        con.execute("DROP TABLE _grafterr_views")
    return warehouse.refresh_views(policy=RetryPolicy(patience=0.0))


def test_sql_without_the_tables_uri_refuses_rather_than_take_a_lock_no_writer_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = tmp_path / "elsewhere"
    warehouse = Warehouse(tmp_path / "data", str(tables))
    warehouse.land(normalised(DATES[0], list(sandbox_orders(DATES[0]).values())[:50]))
    warehouse.refresh_views()
    monkeypatch.delenv("GRAFTERR_WAREHOUSE_URI", raising=False)
    query = ["sql", "--data-dir", str(warehouse.root), "SELECT count(*) FROM orders"]

    refused = main(query)
    message = capsys.readouterr().err
    monkeypatch.setenv("GRAFTERR_WAREHOUSE_URI", str(tables))
    answered = main([*query[:-1], "--format", "csv", query[-1]])

    assert refused != 0
    assert f"GRAFTERR_WAREHOUSE_URI={tables.as_uri()}" in message
    assert not (warehouse.root / "warehouse").exists()  # no stray lock file made
    assert answered == 0
    assert capsys.readouterr().out.splitlines()[1] == "50"


def test_a_copied_data_root_is_refused_until_its_views_are_refreshed_then_reads_its_own_tables(
    tmp_path: Path,
) -> None:
    original = Warehouse(tmp_path / "original")
    original.land(normalised(DATES[0], list(sandbox_orders(DATES[0]).values())[:50]))
    original.refresh_views()
    shutil.copytree(original.root, tmp_path / "copy")
    copy = Warehouse(tmp_path / "copy")
    shutil.rmtree(original.root)

    with pytest.raises(WarehouseError, match="refresh the views"):
        copy.query("SELECT count(*) FROM orders")
    refreshed = copy.refresh_views()

    assert refreshed is True
    assert copy.query("SELECT count(*) FROM orders").rows == [(50,)]


def test_the_reader_answers_a_text_without_a_statement_with_no_columns(landed: Warehouse) -> None:
    result = landed.query("-- only a comment")

    assert (result.columns, result.rows) == ([], [])
