"""Dagster resources: the pipeline's settings, handed to assets as one configurable object.

Secrets reach the resource only through ``EnvVar`` (see :mod:`grafterr_pipeline.definitions`),
so Dagster resolves them when a run starts and never stores their values in run config.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.settings import Settings

__all__ = ["GrafterrResource"]


class GrafterrResource(ConfigurableResource):
    """The Grafterr API account and the data root the pipeline writes to."""

    environment: str = "local"
    base_url: str | None = None
    client_id: str
    client_secret: str
    api_key: str
    rate_limit: float | None = None
    data_dir: str = "data"
    warehouse_uri: str | None = None
    webhook_inbox: str | None = None
    inbox_url: str | None = None
    timezone: str = "Europe/London"
    business_day_cutoff: str = "04:00"
    lookback_days: int = 3
    page_size: int = 200
    pii: str = "hash"
    pii_salt: str | None = None

    def settings(self) -> Settings:
        """Validate the configuration into :class:`Settings`, with the same rules as the CLI."""
        env = {
            "GRAFTERR_ENVIRONMENT": self.environment,
            "GRAFTERR_BASE_URL": self.base_url or "",
            "GRAFTERR_CLIENT_ID": self.client_id,
            "GRAFTERR_CLIENT_SECRET": self.client_secret,
            "GRAFTERR_API_KEY": self.api_key,
            "GRAFTERR_RATE_LIMIT": "" if self.rate_limit is None else str(self.rate_limit),
            "GRAFTERR_DATA_DIR": self.data_dir,
            "GRAFTERR_WAREHOUSE_URI": self.warehouse_uri or "",
            "GRAFTERR_WEBHOOK_INBOX": self.webhook_inbox or "",
            "GRAFTERR_INBOX_URL": self.inbox_url or "",
            "GRAFTERR_TIMEZONE": self.timezone,
            "GRAFTERR_BUSINESS_DAY_CUTOFF": self.business_day_cutoff,
            "GRAFTERR_LOOKBACK_DAYS": str(self.lookback_days),
            "GRAFTERR_PAGE_SIZE": str(self.page_size),
            "GRAFTERR_PII": self.pii,
            "GRAFTERR_PII_SALT": self.pii_salt or "",
        }
        return Settings.from_env(env)

    def client(self) -> GrafterrClient:
        """A client for one run; close it when done (it is a context manager)."""
        return GrafterrClient(self.settings())
