"""The work every contender does, and the two sandboxes it is done against.

Every run shares the seed, the frozen sandbox clock, the scale, the rate limit and the latency;
only the faults differ between scenarios. The fault mix is the one of the adversarial suite
(issue #9) as far as the sandbox supports it; each knob and its value is listed in the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from grafterr_pipeline.sandbox import SandboxConfig

__all__ = [
    "BASE",
    "CUTOFF",
    "LAST_DATE",
    "NOW",
    "PAGE_SIZE",
    "SCENARIOS",
    "Scenario",
    "business_dates",
]

# A frozen clock a few days after the dates, so late refunds have happened and the ground truth
# of every date is final and the same for every contender.
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
LAST_DATE = dt.date(2026, 11, 17)
CUTOFF = dt.time(4, 0)
PAGE_SIZE = 200  # the contract's maximum, and the pipeline's default: every contender uses it

# Twelve stores at 150 orders a day: about 3,100 orders in each 50-hour pull window.
BASE = SandboxConfig(
    seed=7,
    scale=150,
    now=NOW,
    rate_limit=5.0,
    burst=10,
    latency=0.02,
    latency_jitter=0.02,
)

_FAULTS = {
    "fail_500": 0.05,
    "fail_504": 0.05,
    "delay_504": 0.5,
    "reset_share": 0.02,
    "truncate_share": 0.02,
    "retry_after": "http-date",
    "token_ttl": 5.0,
    "drift_share": 0.05,
    # A window's first pages hold the evening before the date (the window opens 14 hours
    # early), which every contender filters out; with the default of 3 the drift would end
    # before the pages that hold the date, and test nobody.
    "drift_pages": 10,
}


@dataclass(frozen=True)
class Scenario:
    """A named sandbox configuration that every contender runs against."""

    name: str
    title: str
    config: SandboxConfig

    def knobs(self) -> list[str]:
        """Every setting that differs from ``SandboxConfig()``, as ``name=value``."""
        default = SandboxConfig()
        return [
            f"{f.name}={getattr(self.config, f.name)!r}"
            for f in fields(self.config)
            if getattr(self.config, f.name) != getattr(default, f.name)
            and f.name != "client_secret"
        ]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("clean", "No faults", BASE),
    Scenario("faults", "Fault mix of the adversarial suite", BASE.with_changes(**_FAULTS)),
)


def business_dates(count: int) -> list[dt.date]:
    """The ``count`` business dates ending on :data:`LAST_DATE`, oldest first."""
    return [LAST_DATE - dt.timedelta(days=back) for back in range(count - 1, -1, -1)]
