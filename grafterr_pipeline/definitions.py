"""The Dagster code location: ``dagster dev -w workspace.yaml`` loads ``defs`` from here.

Non-secret settings are read from the environment when the code location loads (partitions
and the schedule depend on them); secrets are handed over as ``EnvVar`` and resolved only when
a run starts, so the UI loads even where no credentials are set.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from dagster import Definitions, EnvVar, define_asset_job

from grafterr_pipeline.businessdate import parse_cutoff
from grafterr_pipeline.defs.assets import MAX_DATES_PER_RUN, build_assets, inbox_kind
from grafterr_pipeline.defs.checks import build_table_checks
from grafterr_pipeline.defs.freshness import build_freshness_check, build_freshness_schedule
from grafterr_pipeline.defs.partitions import business_date_partitions
from grafterr_pipeline.defs.resources import GrafterrResource
from grafterr_pipeline.defs.schedules import build_daily_schedule
from grafterr_pipeline.defs.sensors import build_webhook_sensor
from grafterr_pipeline.errors import ConfigurationError
from grafterr_pipeline.settings import Secret, default_inbox_path

T = TypeVar("T")

__all__ = ["build_definitions", "defs"]

DEFAULT_START_DATE = "2026-01-01"


def _optional_env(env: Mapping[str, str], name: str) -> EnvVar | None:
    return EnvVar(name) if env.get(name) else None


def _optional_secret(env: Mapping[str, str], name: str) -> Secret | None:
    return Secret(env[name]) if env.get(name) else None


def _parsed(env: Mapping[str, str], name: str, default: str, parse: Callable[[str], T]) -> T:
    """``parse`` the variable ``name``; a bad value fails naming it, not as a traceback."""
    text = (env.get(name) or default).strip()
    try:
        return parse(text)
    except ValueError as err:
        raise ConfigurationError(f"{name}={text!r} is not valid: {err}") from err


def build_definitions(env: Mapping[str, str] | None = None) -> Definitions:
    """Build the definitions from ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    timezone = env.get("GRAFTERR_TIMEZONE") or "Europe/London"
    cutoff_text = env.get("GRAFTERR_BUSINESS_DAY_CUTOFF") or "04:00"
    cutoff = _parsed(env, "GRAFTERR_BUSINESS_DAY_CUTOFF", "04:00", parse_cutoff)
    lookback = _parsed(env, "GRAFTERR_LOOKBACK_DAYS", "3", int)
    start_date = _parsed(env, "GRAFTERR_START_DATE", DEFAULT_START_DATE, dt.date.fromisoformat)
    rate = _parsed(env, "GRAFTERR_RATE_LIMIT", "", lambda t: float(t) if t else None)
    page_size = _parsed(env, "GRAFTERR_PAGE_SIZE", "200", int)
    data_dir = env.get("GRAFTERR_DATA_DIR") or "data"
    inbox = env.get("GRAFTERR_WEBHOOK_INBOX") or str(default_inbox_path(Path(data_dir)))
    partitions = business_date_partitions(
        start_date=start_date.isoformat(),
        timezone=timezone,
        cutoff=cutoff,
    )
    assets = build_assets(partitions, inbox_kind=inbox_kind(env.get("GRAFTERR_INBOX_URL")))
    job = define_asset_job(
        "grafterr_orders_job",
        selection=assets,
        description=(
            "Pulls, merges, normalises and lands Grafterr orders for a range of business "
            f"dates: one date, or up to {MAX_DATES_PER_RUN} consecutive dates pulled as one."
        ),
    )
    grafterr = GrafterrResource(
        environment=env.get("GRAFTERR_ENVIRONMENT") or "local",
        base_url=env.get("GRAFTERR_BASE_URL") or None,
        client_id=EnvVar("GRAFTERR_CLIENT_ID"),
        client_secret=EnvVar("GRAFTERR_CLIENT_SECRET"),
        api_key=EnvVar("GRAFTERR_API_KEY"),
        rate_limit=rate,
        data_dir=data_dir,
        warehouse_uri=env.get("GRAFTERR_WAREHOUSE_URI") or None,
        webhook_inbox=inbox,
        inbox_url=_optional_env(env, "GRAFTERR_INBOX_URL"),
        timezone=timezone,
        business_day_cutoff=cutoff_text,
        lookback_days=lookback,
        page_size=page_size,
        pii=env.get("GRAFTERR_PII") or "hash",
        pii_salt=_optional_env(env, "GRAFTERR_PII_SALT"),
    )
    fresh = build_freshness_check(timezone=timezone, cutoff=cutoff)
    return Definitions(
        assets=assets,
        asset_checks=[fresh, *build_table_checks(partitions)],
        jobs=[job],
        schedules=[
            build_daily_schedule(job, timezone=timezone, cutoff=cutoff, lookback_days=lookback),
            build_freshness_schedule(fresh),
        ],
        sensors=[
            build_webhook_sensor(
                job,
                inbox_path=Path(inbox),
                inbox_url=_optional_secret(env, "GRAFTERR_INBOX_URL"),
                timezone=timezone,
                cutoff=cutoff,
                start_date=start_date,
            )
        ],
        resources={"grafterr": grafterr},
    )


defs = build_definitions()
