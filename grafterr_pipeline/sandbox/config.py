"""How one sandbox behaves: its data, its credentials, its limits and the faults it injects.

Every knob has a named default, and every fault and liberty defaults to *off*, so
``SandboxConfig()`` is a well-behaved Grafterr with deterministic data. Shares are
probabilities in ``[0, 1]`` drawn independently per request (faults) or per order (liberties).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, fields, replace
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["RETRY_AFTER_STYLES", "SandboxConfig"]

RetryAfterStyle = Literal["seconds", "http-date", "none"]
RETRY_AFTER_STYLES: tuple[RetryAfterStyle, ...] = ("seconds", "http-date", "none")

# Twelve stores at 60 orders a day each: about 700 orders a day across the group.
DEFAULT_SCALE = 60
MAX_SCALE = 5000

_SHARES = (
    "fail_500",
    "fail_504",
    "fail_408",
    "reset_share",
    "truncate_share",
    "drift_share",
    "money_as_numbers",
    "extra_fields",
    "absent_optional",
    "webhook_duplicates",
    "webhook_out_of_order",
)
# A sandbox is for tests and demos on one machine: it never posts anywhere else.
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_NON_NEGATIVE = ("delay_504", "latency", "latency_jitter", "webhook_backoff")


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of one simulated Grafterr API; immutable, compare and hash by value.

    Data:
        seed, scale: the data are a pure function of these (``scale`` is orders per store per
        day on an average weekday).
        now: the sandbox clock. ``None`` follows real UTC time. Orders created after it do not
        exist yet, and each order is served in its latest version with ``updated_at <= now``.

    Access:
        client_id, client_secret, api_key: the only credentials accepted (fake, sandbox only).
        token_ttl: seconds a bearer token lives (``expires_in``).
        rate_limit, burst: token bucket per API key in requests per second (``None`` means
        unlimited) and its capacity; past it the answer is 429.
        retry_after: how a 429 says when to come back: ``"seconds"``, ``"http-date"`` or
        ``"none"`` (no header).
        base_path: serve the API under this prefix (e.g. ``"/dev"``) as the hosted ones do.

    Faults (shares of requests, contract "Other errors"):
        fail_500, fail_504 (answered after ``delay_504`` seconds), fail_408, reset_share
        (connection reset before any answer; needs :class:`SandboxServer`), truncate_share
        (body cut short after the headers promised more), latency + a uniform random
        ``latency_jitter`` added to every answer.

    Drift while paging (contract, "Orders"):
        drift_share of the orders of a listing arrive late: while the same query is paged, each
        page request reveals more of them (new orders, and newer versions of updated ones) until
        ``drift_pages`` requests have been made; afterwards the listing is complete.

    Liberties the contract allows (shares of served orders):
        money_as_numbers (money as JSON numbers), extra_fields (unknown fields at every level),
        absent_optional (null ``customer``, ``covers``, ``table_number`` left out instead).

    Webhooks (contract, "Webhooks"):
        webhook_url (loopback only) to deliver the six order events to, from webhook_since
        (default: the clock at start-up) as the clock passes; webhook_rate deliveries per second;
        webhook_duplicates and webhook_out_of_order shares; webhook_max_attempts and
        webhook_backoff (seconds, doubled per retry) when the receiver does not answer 2xx
        within webhook_timeout seconds.
    """

    seed: int = 7
    scale: int = DEFAULT_SCALE
    now: dt.datetime | None = None

    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    api_key: str = "sandbox-key"
    token_ttl: float = 3600.0
    rate_limit: float | None = None
    burst: int = 5
    retry_after: RetryAfterStyle = "seconds"
    base_path: str = ""

    fail_500: float = 0.0
    fail_504: float = 0.0
    delay_504: float = 0.0
    fail_408: float = 0.0
    reset_share: float = 0.0
    truncate_share: float = 0.0
    latency: float = 0.0
    latency_jitter: float = 0.0

    drift_share: float = 0.0
    drift_pages: int = 3

    money_as_numbers: float = 0.0
    extra_fields: float = 0.0
    absent_optional: float = 0.0

    webhook_url: str | None = None
    webhook_since: dt.datetime | None = None
    webhook_rate: float = 20.0
    webhook_duplicates: float = 0.0
    webhook_out_of_order: float = 0.0
    webhook_max_attempts: int = 5
    webhook_backoff: float = 0.5
    webhook_timeout: float = 10.0

    def __post_init__(self) -> None:
        _check_data(self)
        _check_access(self)
        for name in _SHARES:
            _check_share(name, getattr(self, name))
        for name in _NON_NEGATIVE:
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be zero or more seconds")
        _check_webhooks(self)

    def with_changes(self, **changes: object) -> SandboxConfig:
        """Return a copy with ``changes`` applied (a config is immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def clock(self) -> dt.datetime:
        """Return the sandbox's current instant: ``now`` if fixed, else real UTC time."""
        return self.now if self.now is not None else dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        # Only what differs from the defaults, so a failing test names the knobs it turned. The
        # webhook URL ends in the receiver's token, a real secret: its path is masked.
        changed = [
            f"{f.name}={_masked_url(value) if f.name == 'webhook_url' else repr(value)}"
            for f in fields(self)
            if (value := getattr(self, f.name)) != f.default and f.name != "client_secret"
        ]
        return f"SandboxConfig({', '.join(changed)})"


def _masked_url(url: str) -> str:
    parts = urlsplit(url)
    return repr(f"{parts.scheme}://{parts.netloc}/***")


def _check_share(name: str, value: float) -> None:
    if not (0.0 <= value <= 1.0) or math.isnan(value):
        raise ValueError(f"{name}={value} is a share of requests or orders: use 0.0 to 1.0")


def _check_data(config: SandboxConfig) -> None:
    if not 1 <= config.scale <= MAX_SCALE:
        raise ValueError(f"scale={config.scale} orders per store per day: use 1 to {MAX_SCALE}")
    if config.now is not None and config.now.utcoffset() is None:
        raise ValueError(f"now={config.now.isoformat()} needs a UTC offset, e.g. tzinfo=UTC")


def _check_access(config: SandboxConfig) -> None:
    if config.token_ttl <= 0:
        raise ValueError(f"token_ttl={config.token_ttl} must be above zero seconds")
    if config.rate_limit is not None and config.rate_limit <= 0:
        raise ValueError(f"rate_limit={config.rate_limit} must be above zero, or None")
    if config.burst < 1:
        raise ValueError(f"burst={config.burst} must be at least 1 request")
    if config.retry_after not in RETRY_AFTER_STYLES:
        allowed = ", ".join(RETRY_AFTER_STYLES)
        raise ValueError(f"retry_after={config.retry_after!r} is not one of: {allowed}")
    if config.base_path and not (config.base_path.startswith("/") and config.base_path[-1] != "/"):
        raise ValueError(f"base_path={config.base_path!r}: use a leading '/' only, e.g. '/dev'")
    if config.drift_pages < 1:
        raise ValueError(f"drift_pages={config.drift_pages} must be at least 1")


def _check_webhooks(config: SandboxConfig) -> None:
    if config.webhook_url is not None:
        host = urlsplit(config.webhook_url).hostname
        if host not in _LOOPBACK_HOSTS:
            raise ValueError(
                f"webhook_url={_masked_url(config.webhook_url)}: the sandbox only delivers to "
                f"loopback ({', '.join(_LOOPBACK_HOSTS)}), e.g. http://127.0.0.1:9000/hook"
            )
    if config.webhook_since is not None and config.webhook_since.utcoffset() is None:
        raise ValueError("webhook_since needs a UTC offset, e.g. tzinfo=UTC")
    if config.webhook_rate <= 0:
        raise ValueError(f"webhook_rate={config.webhook_rate} must be above zero per second")
    if config.webhook_max_attempts < 1:
        raise ValueError(f"webhook_max_attempts={config.webhook_max_attempts} must be >= 1")
    if config.webhook_timeout <= 0:
        raise ValueError(f"webhook_timeout={config.webhook_timeout} must be above zero")
