"""The ``GRAFTERR_*`` variables that point the pipeline at a running sandbox.

The demo, the end-to-end tests and the benchmarks all need the same few variables; building them
here keeps the sandbox's credentials in one place. They are the sandbox's public fixtures, not
secrets.
"""

from __future__ import annotations

from grafterr_pipeline.sandbox.config import SandboxConfig

__all__ = ["pipeline_environment"]


def pipeline_environment(
    config: SandboxConfig, base_url: str, *, data_dir: str, rate_limit: float | None = None
) -> dict[str, str]:
    """Variables for a pipeline that talks to the sandbox at ``base_url``.

    ``rate_limit`` is what the client is told (``GRAFTERR_RATE_LIMIT``); by default the
    sandbox's own limit, or none, in which case the client discovers it.
    """
    told = config.rate_limit if rate_limit is None else rate_limit
    env = {
        "GRAFTERR_ENVIRONMENT": "local",
        "GRAFTERR_BASE_URL": base_url,
        "GRAFTERR_CLIENT_ID": config.client_id,
        "GRAFTERR_CLIENT_SECRET": config.client_secret,
        "GRAFTERR_API_KEY": config.api_key,
        "GRAFTERR_DATA_DIR": data_dir,
    }
    if told is not None:
        env["GRAFTERR_RATE_LIMIT"] = str(told)
    return env
