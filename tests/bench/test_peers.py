"""The benchmarks' own parts: scoring, the date filter, counting at the sandbox, measuring."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from dagster import DagsterInstance, DagsterRunStatus

from bench.__main__ import main as bench_main
from bench.peers.contenders import CONTENDERS
from bench.peers.correctness import OrderRow, Tables, score
from bench.peers.floor import FLOORS, floor_of
from bench.peers.harness import Run, measure_floor, parse_args, report_path
from bench.peers.measure import Outcome, run_measured, settled_pss_kib
from bench.peers.report import render
from bench.peers.sandbox import CountingSandbox, Traffic
from bench.peers.scenarios import SCENARIOS
from grafterr_pipeline.sandbox import SandboxConfig, ground_truth
from tests.processes import run_python

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 17)
CONFIG = SandboxConfig(seed=7, scale=5, now=NOW)


def _landed_exactly(day: dt.date) -> Tables:
    truth = ground_truth(CONFIG, day, as_of=NOW)
    orders = [
        OrderRow(
            o["order_id"],
            dt.datetime.fromisoformat(o["created_at"]),
            o["store"]["timezone"],
            o["status"],
            Decimal(o["totals"]["total"]),
        )
        for o in truth.orders.values()
    ]
    lines = [o["order_id"] for o in truth.orders.values() for _ in o["items"]]
    payments = [
        (o["order_id"], p["status"], Decimal(p["amount"]))
        for o in truth.orders.values()
        for p in o["payments"]
    ]
    return Tables(orders, lines, payments)


def test_score_of_exactly_the_ground_truth_is_exact() -> None:
    result = score(_landed_exactly(DAY), ground_truth(CONFIG, DAY, as_of=NOW))

    assert result.exact
    assert result.differences() == []


def test_score_counts_an_order_landed_twice_and_names_it() -> None:
    landed = _landed_exactly(DAY)
    twice = Tables([*landed.orders, landed.orders[0]], landed.line_order_ids, landed.payments)

    result = score(twice, ground_truth(CONFIG, DAY, as_of=NOW))

    assert not result.exact
    assert result.duplicates == 1
    assert "orders +1" in result.differences()


def test_a_window_keeps_only_the_orders_of_its_business_date() -> None:
    window = Tables(
        [*_landed_exactly(DAY).orders, *_landed_exactly(DAY - dt.timedelta(days=1)).orders],
        [],
        [],
    )

    kept = window.on_date(DAY, dt.time(4, 0))

    assert {row.order_id for row in kept.orders} == set(ground_truth(CONFIG, DAY, as_of=NOW).orders)


def test_counting_sandbox_counts_every_answer_and_the_429s() -> None:
    config = CONFIG.with_changes(rate_limit=0.5, burst=1)

    with CountingSandbox(config) as sandbox:
        for _ in range(3):
            requests.get(sandbox.base_url + "orders", headers={"x-api-key": config.api_key},
                         timeout=5)  # fmt: skip
        traffic = sandbox.log.traffic()

    assert traffic.requests == 3
    assert traffic.throttled == 2
    assert traffic.statuses == {401: 1, 429: 2}


@pytest.mark.parametrize("argv", [["nope"], ["--bogus"]], ids=["unknown part", "unknown flag"])
def test_bench_refuses_a_part_it_does_not_know(argv: list[str]) -> None:
    assert bench_main(argv) == 2


@pytest.mark.parametrize(
    ("times", "expected"),
    [((), 0.0), ((0.0, 1.0, 2.0), 0.3), ((0.0, 0.5, 20.0, 20.1, 20.2, 29.0), 0.4)],
    ids=["none", "all in one window", "busiest window later"],
)
def test_peak_rate_is_the_busiest_window(times: tuple[float, ...], expected: float) -> None:
    traffic = Traffic({200: len(times)}, 0, 0.0, times)

    assert traffic.peak_rate(10.0) == pytest.approx(expected)


# A parent holding 60 MiB starts two children that each hold 80 MiB of their own at once.
_FORKING = """
import os, time
held = bytearray(60 * 2**20)
children = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        mine = bytearray(80 * 2**20)
        time.sleep(1.0)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""


def test_peak_memory_adds_up_every_process_of_the_contender(tmp_path: Path) -> None:
    outcome = run_measured(
        [sys.executable, "-c", _FORKING], env={}, cwd=tmp_path, timeout=30, log=tmp_path / "log"
    )

    # ru_maxrss alone says about 150 MiB: the largest one process, shared pages included.
    assert outcome.ok
    assert outcome.processes == 3
    assert outcome.peak_rss_mib > 60 + 2 * 80


# Holds 150 MiB and starts commands, as Dagster's run starts its log tailers. subprocess starts
# each child with vfork: until it execs, the child shares all of its parent's memory. Each here
# looks for its command along a long PATH first, which keeps it in that state for a while.
_SPAWNING = """
import os, subprocess, time
held = bytearray(150 * 2**20)
held[::4096] = b"x" * len(held[::4096])
path = os.pathsep.join(f"/nonexistent/{n}" for n in range(20000))
ends = time.monotonic() + 3
while time.monotonic() < ends:
    try:
        subprocess.run(["no-such-command"], env={"PATH": path})
    except FileNotFoundError:
        pass
"""


def test_a_child_caught_as_it_starts_is_not_counted_twice(tmp_path: Path) -> None:
    outcome = run_measured(
        [sys.executable, "-c", _SPAWNING], env={}, cwd=tmp_path, timeout=30, log=tmp_path / "log"
    )

    assert outcome.ok
    assert 150 < outcome.peak_rss_mib < 200


@pytest.mark.parametrize(
    ("previous", "current", "counted"),
    [
        ({}, {10: 500}, {}),  # the contender's first sample
        ({10: 500}, {10: 300, 11: 250}, {10: 300}),  # 11 just forked: not yet
        ({10: 300, 11: 250}, {10: 300, 11: 8}, {10: 300, 11: 8}),  # 11 has run on
        ({10: 300, 11: 8}, {10: 310}, {10: 310}),  # 11 ended
    ],
)
def test_a_process_counts_from_its_second_sample(
    previous: dict[int, int], current: dict[int, int], counted: dict[int, int]
) -> None:
    assert settled_pss_kib(previous, current) == counted


# A harness that once held 400 MiB (as `make bench` does after making the normalise input)
# measures a contender that holds little.
_BIG_HARNESS = """
import sys
from pathlib import Path
from bench.peers.measure import run_measured
held = bytearray(400 * 1024 * 1024)
held[::4096] = b"x" * len(held[::4096])
del held
out = Path(sys.argv[1])
outcome = run_measured(
    [sys.executable, "-c", "print('small')"], env={}, cwd=out, timeout=30, log=out / "log"
)
print(outcome.ok, round(outcome.peak_rss_mib), (out / "log").read_text().strip())
"""


def test_a_contender_is_not_charged_with_the_harness_own_peak(tmp_path: Path) -> None:
    # Linux starts a spawned process's ru_maxrss at its parent's peak.
    ok, peak, said = run_python(_BIG_HARNESS, str(tmp_path)).stdout.split()

    assert (ok, said) == ("True", "small")
    assert int(peak) < 100


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "bench/results.md"),
        (["--scenario", "clean"], "bench/out/peers-results.md"),
        (["--contender", "pipeline"], "bench/out/peers-results.md"),
        (["--dates", "2"], "bench/out/peers-results.md"),
    ],
    ids=["full", "one-scenario", "one-contender", "other-dates"],
)
def test_only_a_full_peers_run_replaces_the_committed_report(
    argv: list[str], expected: str
) -> None:
    repo = Path(__file__).resolve().parents[2]

    path = report_path(parse_args(argv))
    chosen = report_path(parse_args([*argv, "--output", "mine.md"]))

    assert path == repo / expected
    assert chosen == Path("mine.md")


_BIG_PARENT = """
import subprocess, sys
held = bytearray(400 * 1024 * 1024)
held[::4096] = b"x" * len(held[::4096])
del held
code = "from bench.normalise_bench import own_peak_bytes; print(own_peak_bytes() >> 20)"
print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
"""


def test_the_normalise_bench_measures_a_childs_own_peak() -> None:
    # Its contenders run in children of the bench's process, which make bench has grown.
    peak = run_python(_BIG_PARENT).stdout

    assert 0 < int(peak) < 100


_NO_DLT = pytest.mark.skipif(
    importlib.util.find_spec("dlt") is None,
    reason="dlt comes with the bench extra, which make bench installs and make test does not",
)


@pytest.mark.parametrize(
    "kind", [pytest.param(f.key, marks=[_NO_DLT] if f.key == "dlt" else []) for f in FLOORS]
)
def test_each_floor_writes_its_files_and_is_measured(kind: str, tmp_path: Path) -> None:
    outcome = measure_floor(tmp_path / "floor", kind, timeout=120)

    log = (tmp_path / "floor" / "floor.log").read_text()
    assert outcome.ok, log
    written = list((tmp_path / "floor" / "out").rglob("*.parquet"))
    assert written if kind != "dagster" else not written
    assert all(path.stat().st_size > 0 for path in written)
    assert 50 < outcome.peak_rss_mib < 1000


def test_the_pipeline_s_floors_are_recorded_as_dagster_runs(tmp_path: Path) -> None:
    outcome = measure_floor(tmp_path / "floor", "pipeline", timeout=120)

    assert outcome.ok
    with DagsterInstance.from_config(str(tmp_path / "floor" / "dagster_home")) as instance:
        runs = instance.get_runs()
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS]  # recorded, as a run's are


def test_the_duckdb_floor_never_loads_arrow(tmp_path: Path) -> None:
    # The report says so: the step from this floor to the pipeline's is what Arrow costs.
    code = (
        "import sys; from bench.peers.floor import main; "
        "code = main([sys.argv[1], 'dagster+duckdb']); "
        "print(code, sorted(m for m in ('pyarrow', 'numpy', 'pandas') if m in sys.modules))"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {"DAGSTER_HOME": str(home)}

    done = run_python(code, str(tmp_path), env=env)

    assert done.stdout.split()[-2:] == ["0", "[]"], done.stdout
    assert (tmp_path / "no_orders.parquet").stat().st_size > 0


def test_an_unknown_floor_is_refused_with_the_floors_named() -> None:
    with pytest.raises(KeyError, match="dagster\\+duckdb"):
        floor_of("spark")


def _run(contender: int, scenario: int, peak: float, *, ok: bool = True) -> Run:
    outcome = Outcome(0 if ok else 1, 17.5, peak, timed_out=False, last_line="", processes=1)
    traffic = Traffic({200: 59}, token_requests=1, span_seconds=12.0)
    return Run(SCENARIOS[scenario], CONTENDERS[contender], outcome, traffic, [], load_average=0.4)


def _floor(peak: float) -> Outcome:
    return Outcome(0, 1.8, peak, timed_out=False, last_line="")


def test_the_report_sets_each_contender_s_peak_against_its_own_floor() -> None:
    pipeline, dlt, naive = (c.key for c in CONTENDERS)
    runs = [
        _run(0, 0, 233.0), _run(1, 0, 260.0), _run(2, 0, 221.0),
        _run(0, 1, 236.0), _run(1, 1, 250.0, ok=False), _run(2, 1, 200.0, ok=False),
    ]  # fmt: skip
    floors = {"dagster": _floor(108.0), "dagster+duckdb": _floor(162.0), pipeline: _floor(191.0),
              dlt: _floor(170.0), naive: _floor(141.0)}  # fmt: skip
    dates = [dt.date(2026, 11, 13), dt.date(2026, 11, 14)]

    text = render(runs, dates, argv=[], floors=floors)
    without = render(runs, dates, argv=[])

    clean, faults = (s.name for s in SCENARIOS[:2])
    assert f"| `{clean}` above it | `{faults}` above it |" in text
    section = text.split("## The floor under each contender's memory")[1].split("\n## ")[0]
    rows = {line.split(" | ")[0]: line for line in section.splitlines() if line.startswith("| ")}
    assert rows["| grafterr-pipeline's Dagster alone"].endswith("| 108 | 1.8 | - | - |")
    assert rows["| grafterr-pipeline's Dagster + DuckDB"].endswith("| 162 | 1.8 | - | - |")
    assert rows["| grafterr-pipeline"].endswith("| 191 | 1.8 | +42 | +45 |")
    assert rows["| dlt"].endswith("| 170 | 1.8 | +90 | did not finish |")
    assert rows["| requests + pandas"].endswith("| 141 | 1.8 | +80 | did not finish |")
    assert (
        f"- `{clean}`: memory above each contender's own floor, what its orders cost: "
        "grafterr-pipeline +42 MiB, dlt +90 MiB, requests + pandas +80 MiB." in text
    )
    assert (
        f"- `{faults}`: memory above each contender's own floor, what its orders cost: "
        "grafterr-pipeline +45 MiB." in text
    )
    assert (
        f"- `{faults}`: of those that finished, fastest: **grafterr-pipeline** (17.5 s), "
        "lowest peak memory: **grafterr-pipeline** (236 MiB); exact: **grafterr-pipeline**." in text
    )
    assert "floor" not in without


def test_the_report_says_when_a_floor_did_not_finish() -> None:
    failed = Outcome(1, 0.5, 12.0, timed_out=False, last_line="ImportError: no dagster")

    text = render(
        [_run(0, 0, 233.0)], [dt.date(2026, 11, 13)], argv=[], floors={"pipeline": failed}
    )

    assert "**did not finish** (exit 1): `ImportError: no dagster`" in text
    assert "memory above each contender's own floor" not in text


@pytest.mark.parametrize(
    ("code", "timed_out", "state"),
    [(0, False, "ok"), (3, False, "exit 3"), (-9, True, "timed out"), (0, True, "timed out")],
)
def test_an_outcome_says_how_it_ended(code: int, timed_out: bool, state: str) -> None:
    assert Outcome(code, 1.0, 10.0, timed_out=timed_out, last_line="").state == state
