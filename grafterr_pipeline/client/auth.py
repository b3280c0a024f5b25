"""Bearer tokens: fetched from ``client_id`` and ``client_secret``, renewed before they expire.

Contract, "Token": ``POST /auth/token`` answers ``access_token`` and ``expires_in``. A token is
renewed a little before it runs out, so a long pull does not hit a 401 on page 40; and once
more whenever the server refuses a token that should still be valid (see
:meth:`TokenProvider.invalidate`). The fetch itself is injected, so the request goes through
the same rate limiter and retries as every other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from grafterr_pipeline.client.stats import StatsRecorder

__all__ = ["Token", "TokenProvider"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Token:
    """An access token and the clock reading at which it should be replaced."""

    value: str
    renew_at: float

    def __repr__(self) -> str:
        return f"Token('**********', renew_at={self.renew_at:.1f})"


class TokenProvider:
    """Hands out a valid token to any thread, fetching a new one at most once at a time.

    ``fetch`` returns ``(access_token, expires_in_seconds)`` and counts its requests in the
    recorder of the pull that needed the token. The token is renewed when
    ``renew_margin_seconds`` (or a fifth of its lifetime, if shorter) remain.
    """

    def __init__(
        self,
        fetch: Callable[[StatsRecorder], tuple[str, float]],
        *,
        clock: Callable[[], float],
        renew_margin_seconds: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = renew_margin_seconds
        self._lock = threading.Lock()
        self._token: Token | None = None

    def __repr__(self) -> str:
        return f"TokenProvider(token={self._token!r})"

    def token(self, recorder: StatsRecorder) -> str:
        """A token believed valid for a while yet; fetches one if needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._token.renew_at:
                self._token = self._renew(recorder)
            return self._token.value

    def invalidate(self, value: str) -> None:
        """The server refused ``value``: forget it so the next :meth:`token` fetches anew.

        Only the token that was refused is dropped, so threads that saw the same 401 together
        cause one renewal, not one each.
        """
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _renew(self, recorder: StatsRecorder) -> Token:
        started = self._clock()
        value, lifetime = self._fetch(recorder)
        margin = min(self._margin, lifetime / 5)
        logger.debug("obtained an access token valid for %.0f s", lifetime)
        return Token(value, started + lifetime - margin)
