"""One typed settings object, read from the environment.

Secrets are only ever read from the environment and are wrapped in :class:`Secret`, whose
``repr`` and ``str`` hide the value, so a settings object can be logged or shown in Dagster
without leaking anything. A missing credential fails when settings are built, naming the
variable, rather than later as a 401.

Everything the contract (``docs/grafterr-api.md``) marks *assumed* -- paths, query parameter
names, envelope keys -- lives in :class:`ApiNames`, the one place to change when Grafterr
publishes the real names.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfoNotFoundError

from grafterr_pipeline.businessdate import parse_cutoff, zone
from grafterr_pipeline.errors import ConfigurationError

__all__ = [
    "ENVIRONMENTS",
    "PII_MODES",
    "ApiNames",
    "Secret",
    "Settings",
    "Timeouts",
    "WebhookSettings",
    "default_inbox_path",
]

# Documented environments (contract, "Environments"). "local" is the project's own simulator.
ENVIRONMENTS: Mapping[str, str | None] = {
    "local": None,
    "sandbox": "https://cuo453tsfc.execute-api.ap-south-1.amazonaws.com/dev/",
    "production": "https://ytns6rfbt6.execute-api.eu-west-1.amazonaws.com/prod/",
}

# What the warehouse keeps of a customer (project brief, normalisation issue "Privacy").
PII_MODES = ("hash", "keep", "drop")


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself: only for building the request that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class ApiNames:
    """The contract's assumed names: endpoint paths, parameters and envelope keys."""

    token_path: str = "auth/token"
    orders_path: str = "orders"
    order_path: str = "orders/{order_id}"
    param_from: str = "from"
    param_to: str = "to"
    param_date_field: str = "date_field"
    param_channel: str = "channel"
    param_store_id: str = "store_id"
    param_page: str = "page"
    param_page_size: str = "page_size"
    key_data: str = "data"
    key_meta: str = "meta"
    key_total: str = "total"
    key_total_pages: str = "total_pages"
    key_access_token: str = "access_token"
    key_expires_in: str = "expires_in"
    field_order_id: str = "order_id"
    field_created_at: str = "created_at"
    field_updated_at: str = "updated_at"
    max_page_size: int = 200


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts in seconds, passed on every request, and ``answer``, the
    longest one answer may take from sending the request to its body's last byte.

    The read timeout sits above API Gateway's 29 s limit (contract, "Other errors"), so a slow
    answer arrives as Grafterr's own 504 rather than as our timeout. It bounds each read from
    the socket; ``answer`` bounds them all, against a body that arrives a byte at a time.
    """

    connect: float = 5.0
    read: float = 35.0
    answer: float = 60.0

    def as_requests(self) -> tuple[float, float]:
        """Return the ``(connect, read)`` pair that ``requests`` takes."""
        return (self.connect, self.read)


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline needs to know, built once from the environment."""

    environment: str
    base_url: str
    client_id: str
    client_secret: Secret
    api_key: Secret
    rate_limit: float | None = None
    data_dir: Path = Path("data")
    warehouse_uri: str | None = None
    timezone: str = "Europe/London"
    business_day_cutoff: dt.time = dt.time(4, 0)
    lookback_days: int = 3
    page_size: int = 200
    pii: str = "hash"
    pii_salt: Secret | None = None
    webhook_inbox: Path | None = None
    inbox_url: Secret | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    api: ApiNames = field(default_factory=ApiNames)

    @property
    def inbox_path(self) -> Path:
        """The webhook inbox the pipeline reads: ``GRAFTERR_WEBHOOK_INBOX`` or the default."""
        return self.webhook_inbox or default_inbox_path(self.data_dir)

    def __post_init__(self) -> None:
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
        if not 1 <= self.page_size <= self.api.max_page_size:
            raise ConfigurationError(
                f"GRAFTERR_PAGE_SIZE={self.page_size} is outside 1..{self.api.max_page_size}, "
                "the most the API serves per page"
            )
        if self.warehouse_uri is not None:
            # Imported here: the warehouse package loads pyarrow and DuckDB, which a command
            # that only reads its settings (or sets pyarrow's allocator first) must not pay for.
            from grafterr_pipeline.warehouse.location import Location

            Location.parse(self.warehouse_uri)  # an unsupported scheme fails here, named
        if self.pii not in PII_MODES:
            raise ConfigurationError(f"GRAFTERR_PII={self.pii!r} is not one of: hash, keep, drop")
        if self.pii == "hash" and self.pii_salt is None:
            raise ConfigurationError(
                "GRAFTERR_PII_SALT is not set: customer emails are stored as a salted hash; "
                "export a long random value (or set GRAFTERR_PII=drop to keep no email at all)"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); see the README for each name."""
        env = os.environ if env is None else env
        environment = env.get("GRAFTERR_ENVIRONMENT", "local").strip().lower()
        return cls(
            environment=environment,
            base_url=_base_url(environment, env.get("GRAFTERR_BASE_URL")),
            client_id=_required(env, "GRAFTERR_CLIENT_ID"),
            client_secret=Secret(_required(env, "GRAFTERR_CLIENT_SECRET")),
            api_key=Secret(_required(env, "GRAFTERR_API_KEY")),
            rate_limit=_rate_limit(env.get("GRAFTERR_RATE_LIMIT")),
            data_dir=Path(env.get("GRAFTERR_DATA_DIR") or "data"),
            warehouse_uri=(env.get("GRAFTERR_WAREHOUSE_URI") or "").strip() or None,
            timezone=_timezone(env.get("GRAFTERR_TIMEZONE") or "Europe/London"),
            business_day_cutoff=_cutoff(env.get("GRAFTERR_BUSINESS_DAY_CUTOFF") or "04:00"),
            lookback_days=_int(env, "GRAFTERR_LOOKBACK_DAYS", 3, minimum=0),
            page_size=_int(env, "GRAFTERR_PAGE_SIZE", 200, minimum=1),
            pii=(env.get("GRAFTERR_PII") or "hash").strip().lower(),
            pii_salt=Secret(env["GRAFTERR_PII_SALT"]) if env.get("GRAFTERR_PII_SALT") else None,
            webhook_inbox=_optional_path(env.get("GRAFTERR_WEBHOOK_INBOX")),
            inbox_url=_optional_secret(env, "GRAFTERR_INBOX_URL"),
        )

    def with_changes(self, **changes: object) -> Settings:
        """Return a copy with ``changes`` applied (settings are immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def is_local_uri(uri: str) -> bool:
    """Whether ``GRAFTERR_WAREHOUSE_URI``'s value names a local folder: a path, or ``file://``.

    A one-letter scheme is a Windows drive letter, so a path too.
    """
    scheme = urlparse(uri.strip()).scheme.lower()
    return scheme in ("", "file") or len(scheme) == 1


def default_inbox_path(data_dir: Path) -> Path:
    """Where the webhook inbox lives unless ``GRAFTERR_WEBHOOK_INBOX`` says otherwise."""
    return data_dir / "inbox" / "webhooks.sqlite3"


# A webhook token travels in the registered URL (contract, "Webhooks"): only its length and
# randomness protect the receiver, so a short one is refused.
MIN_WEBHOOK_TOKEN_LENGTH = 16
# Bodies past this are refused with 413 (webhooks issue, "What each delivery gets").
MAX_WEBHOOK_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class WebhookSettings:
    """What the webhook receiver needs, and nothing of the API's credentials.

    ``token`` is the secret path segment of the registered URL (``None`` only for local use,
    when the receiver is started with ``--insecure-no-token``); ``secret``, when set, requires
    an HMAC-SHA256 of the raw body, in hex, in ``signature_header``. ``timezone`` and
    ``business_day_cutoff`` date each event by its order's store clock, and date a delivery too
    broken to say (quarantined) by the time it was received in the home zone. ``inbox_url``
    (``GRAFTERR_INBOX_URL``, a secret: it may hold a password) names a PostgreSQL inbox shared by
    several receivers, in place of the SQLite file at ``inbox_path``.
    """

    token: Secret | None
    secret: Secret | None = None
    signature_header: str = "X-Grafterr-Signature"
    inbox_path: Path = field(default_factory=lambda: default_inbox_path(Path("data")))
    timezone: str = "Europe/London"
    business_day_cutoff: dt.time = dt.time(4, 0)
    max_body_bytes: int = MAX_WEBHOOK_BODY_BYTES
    inbox_url: Secret | None = None

    def __post_init__(self) -> None:
        if self.token is not None and len(self.token.reveal()) < MIN_WEBHOOK_TOKEN_LENGTH:
            raise ConfigurationError(
                f"GRAFTERR_WEBHOOK_TOKEN is shorter than {MIN_WEBHOOK_TOKEN_LENGTH} characters: "
                "use a long random value, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if not self.signature_header.strip():
            raise ConfigurationError("GRAFTERR_WEBHOOK_SIGNATURE_HEADER is empty: name a header")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        """Build the receiver's settings from ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("GRAFTERR_DATA_DIR") or "data")
        inbox = _optional_path(env.get("GRAFTERR_WEBHOOK_INBOX"))
        return cls(
            token=_optional_secret(env, "GRAFTERR_WEBHOOK_TOKEN"),
            secret=_optional_secret(env, "GRAFTERR_WEBHOOK_SECRET"),
            signature_header=(
                env.get("GRAFTERR_WEBHOOK_SIGNATURE_HEADER") or "X-Grafterr-Signature"
            ).strip(),
            inbox_path=inbox or default_inbox_path(data_dir),
            timezone=_timezone(env.get("GRAFTERR_TIMEZONE") or "Europe/London"),
            business_day_cutoff=_cutoff(env.get("GRAFTERR_BUSINESS_DAY_CUTOFF") or "04:00"),
            inbox_url=_optional_secret(env, "GRAFTERR_INBOX_URL"),
        )


def _optional_secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = env.get(name, "").strip()
    return Secret(value) if value else None


def _optional_path(text: str | None) -> Path | None:
    return Path(text.strip()) if text and text.strip() else None


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(
            f"{name} is not set: export it with the value from Grafterr's onboarding panel "
            "(for the local simulator, `grafterr-pipeline demo` sets it for you)"
        )
    return value


def _base_url(environment: str, override: str | None) -> str:
    if environment not in ENVIRONMENTS:
        allowed = ", ".join(ENVIRONMENTS)
        raise ConfigurationError(f"GRAFTERR_ENVIRONMENT={environment!r} is not one of: {allowed}")
    url = (override or "").strip() or ENVIRONMENTS[environment]
    if not url:
        raise ConfigurationError(
            "GRAFTERR_BASE_URL is not set: the 'local' environment has no fixed address; "
            "set it to the simulator's URL, e.g. http://127.0.0.1:8765/"
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"GRAFTERR_BASE_URL={url!r} is not an http(s) URL")
    return url


def _rate_limit(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        rate = float(text)
    except ValueError as err:
        raise ConfigurationError(
            f"GRAFTERR_RATE_LIMIT={text!r} is not a number of requests per second"
        ) from err
    if rate <= 0:
        raise ConfigurationError(f"GRAFTERR_RATE_LIMIT={text!r} must be above zero")
    return rate


def _timezone(name: str) -> str:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigurationError(
            f"GRAFTERR_TIMEZONE={name!r} is not an IANA time zone such as 'Europe/London'"
        ) from err
    return name


def _cutoff(text: str) -> dt.time:
    try:
        return parse_cutoff(text)
    except ValueError as err:
        raise ConfigurationError(f"GRAFTERR_BUSINESS_DAY_CUTOFF: {err}") from err


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError as err:
        raise ConfigurationError(f"{name}={text!r} is not a whole number") from err
    if value < minimum:
        raise ConfigurationError(f"{name}={value} must be at least {minimum}")
    return value
