"""Bearer tokens as the sandbox hands them out and checks them (contract, "Token").

Tokens live ``token_ttl`` seconds on a monotonic clock, independent of the sandbox's data clock
(``SandboxConfig.now``), so a frozen data clock still lets tokens expire in real time.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

__all__ = ["TokenIssuer", "bearer_token"]


class TokenIssuer:
    """Issues opaque bearer tokens and says whether one is still valid."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        """Return a new token valid for ``ttl`` seconds from now."""
        token = "sbx_" + secrets.token_urlsafe(24)
        with self._lock:
            self._forget_expired()
            self._expiry[token] = self._clock() + self.ttl
        return token

    def is_valid(self, token: str) -> bool:
        """Return whether ``token`` was issued here and has not expired."""
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and self._clock() < expiry

    def _forget_expired(self) -> None:
        now = self._clock()
        for token in [t for t, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[token]


def bearer_token(authorization: str | None) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token
