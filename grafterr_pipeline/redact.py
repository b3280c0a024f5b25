"""Keep secrets out of logs, exception messages, metadata and files.

A :class:`Redactor` knows the secret strings of one client (the client secret, the API key and
every bearer token it has been issued) and masks each of them wherever it appears in a text.
Code that builds a message from something the server or a library said -- an error body, a
``requests`` exception -- passes it through :meth:`Redactor.redact` first (STYLE.md, item 9).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from grafterr_pipeline.settings import Secret

__all__ = ["MASK", "Redactor"]

MASK = "***"

# Secrets shorter than this are not masked: replacing "a" everywhere would shred every message,
# and no real credential is that short.
_MIN_SECRET_LENGTH = 4


class Redactor:
    """Masks a growing set of secret values; safe to share between threads."""

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Secret | str) -> None:
        """Remember one more value to mask, such as a freshly issued token."""
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if len(value) >= _MIN_SECRET_LENGTH:
            with self._lock:
                self._values.add(value)

    def redact(self, text: str) -> str:
        """Return ``text`` with every known secret replaced by :data:`MASK`."""
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            text = text.replace(value, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} secrets)"
