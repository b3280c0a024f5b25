"""The package's exception tree.

Every error raised on purpose by ``grafterr_pipeline`` derives from :class:`GrafterrError`, and
where a built-in fits it is mixed in too, so callers can catch either::

    GrafterrError
    ├── ConfigurationError (ValueError)        a setting is missing or malformed
    ├── ApiError                               Grafterr answered, but not with what we need
    │   ├── AuthenticationError (PermissionError)  401 on the token request, or a 403
    │   ├── RequestRejectedError (ValueError)  400, 404, 405: retrying cannot help
    │   ├── MalformedResponseError (ValueError)    a 200 whose body is not the contract's
    │   └── RetriesExhaustedError (TimeoutError)   transient failures outlasted the retry policy
    ├── IncompletePullError                    paging never agreed with ``meta.total``
    ├── InvalidOrderError (ValueError)         one order breaks the contract (it is quarantined)
    └── WarehouseError (OSError)               a partition or the DuckDB file could not be written

Messages never carry secrets: see :mod:`grafterr_pipeline.redact`.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "GrafterrError",
    "IncompletePullError",
    "InvalidOrderError",
    "MalformedResponseError",
    "RequestRejectedError",
    "RetriesExhaustedError",
    "WarehouseError",
]


class GrafterrError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigurationError(GrafterrError, ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


class ApiError(GrafterrError):
    """Grafterr answered, but not with what the contract promises.

    ``status`` is the HTTP status (``None`` when no response came), ``endpoint`` the path that
    was called, and ``context`` a short description of the window and page being read.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        endpoint: str = "",
        context: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint
        self.context = context


class AuthenticationError(ApiError, PermissionError):
    """The credentials or the API key were refused; retrying will not help."""


class RequestRejectedError(ApiError, ValueError):
    """A 400, 404 or 405: the request itself is wrong and is not retried."""


class MalformedResponseError(ApiError, ValueError):
    """A 2xx whose body is not JSON or lacks the contract's envelope."""


class RetriesExhaustedError(ApiError, TimeoutError):
    """Transient failures (429, 5xx, timeouts, resets) outlasted the retry policy."""


class IncompletePullError(GrafterrError):
    """A window kept changing while it was paged, beyond the allowed number of re-reads."""


class InvalidOrderError(GrafterrError, ValueError):
    """One order breaks the contract; ``reason`` says how. Such orders are quarantined."""

    def __init__(self, reason: str, *, order_id: str | None = None) -> None:
        super().__init__(f"order {order_id or '<no order_id>'}: {reason}")
        self.reason = reason
        self.order_id = order_id


class WarehouseError(GrafterrError, OSError):
    """A partition or the DuckDB database could not be written or read."""
