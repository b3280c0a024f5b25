"""The Dagster UI, opened in headless Chromium, shows the assets and a landed partition.

Needs Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it when
missing). Screenshots are kept in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, pipeline_environment
from tests.defs.test_definitions import ASSET_NAMES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DAY = "2026-11-18"
CHROME_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "dagster-webserver exited early"
        try:
            if requests.get(f"{url}/server_info", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise TimeoutError(f"dagster-webserver did not answer at {url} within {timeout}s")


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run should have installed it")
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    home = tmp_path_factory.mktemp("dagster_home")
    config = SandboxConfig(seed=7, now=None)
    data = str(tmp_path_factory.mktemp("data"))
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    bin_dir = Path(sys.executable).parent
    with SandboxServer(config) as sandbox:
        told = pipeline_environment(config, sandbox.base_url, data_dir=data, rate_limit=100)
        env = {**os.environ, **told, "DAGSTER_HOME": str(home), "GRAFTERR_PII_SALT": "ui-salt"}
        subprocess.run(
            [bin_dir / "grafterr-pipeline", "run", "--start", DAY, "--end", DAY],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            timeout=300,
        )
    port = _free_port()
    process = subprocess.Popen(
        [
            bin_dir / "dagster-webserver",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            str(ROOT / "workspace.yaml"),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def page(webserver: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROME_FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.goto(f"{webserver}/assets")
        skip = tab.get_by_role("button", name="Skip")  # Dagster's first-visit dialog
        skip.click(timeout=30_000)
        yield tab
        browser.close()


def test_catalog_lists_every_asset(page, webserver: str) -> None:
    page.goto(f"{webserver}/assets")
    page.get_by_text("duckdb_views").first.wait_for(timeout=60_000)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dagster-catalog.png"))
    body = page.inner_text("body")

    for name in ASSET_NAMES:
        assert name in body, name


def test_materialised_partition_shows_as_materialised(page, webserver: str) -> None:
    page.goto(f"{webserver}/assets/orders?view=partitions")
    page.get_by_text("Materialized (1)").wait_for(timeout=60_000)

    page.get_by_text(DAY).first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "dagster-orders-partitions.png"))

    assert "Failed (0)" in page.inner_text("body")


def test_lineage_shows_ingest_feeding_the_warehouse(page, webserver: str) -> None:
    page.goto(f"{webserver}/asset-groups")
    page.get_by_text("warehouse").first.wait_for(timeout=60_000)

    page.screenshot(path=str(ARTIFACTS / "dagster-lineage.png"))
    body = page.inner_text("body")

    assert "ingest" in body
    assert "warehouse" in body
