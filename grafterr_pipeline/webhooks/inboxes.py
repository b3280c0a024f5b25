"""Which inbox a URL names: ``GRAFTERR_INBOX_URL`` picks SQLite or PostgreSQL.

============================================  ===============================================
``GRAFTERR_INBOX_URL``                        inbox
============================================  ===============================================
unset                                         :class:`SqliteInbox` at the default path
``sqlite:///abs/path.sqlite3``                :class:`SqliteInbox` at ``/abs/path.sqlite3``
``sqlite:relative/path.sqlite3``              :class:`SqliteInbox` relative to the working dir
``postgresql://user:pw@host:5432/db``         :class:`PostgresInbox` (several receivers)
============================================  ===============================================

``postgres://`` is read as ``postgresql://``; any libpq URI parameter (``?sslmode=require``)
passes through. The PostgreSQL driver is an extra: ``pip install 'grafterr-pipeline[postgres]'``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from grafterr_pipeline.errors import ConfigurationError
from grafterr_pipeline.settings import Secret
from grafterr_pipeline.webhooks.inbox import Inbox, SqliteInbox

__all__ = ["describe_inbox", "open_inbox", "redacted_url"]

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_SQLITE_SCHEME = "sqlite"


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in (*_POSTGRES_SCHEMES, _SQLITE_SCHEME):
        raise ConfigurationError(
            f"GRAFTERR_INBOX_URL has scheme {scheme or '(none)'!r}: use sqlite:///path/to/file "
            "or postgresql://user:password@host:port/database"
        )
    return scheme


def _sqlite_path(url: str) -> Path:
    # sqlite:///abs -> "/abs"; sqlite:rel -> "rel" (the SQLAlchemy spelling, minus a driver).
    path = url.split(":", 1)[1]
    path = path[2:] if path.startswith("//") else path
    if not path:
        raise ConfigurationError("GRAFTERR_INBOX_URL=sqlite: names no file: sqlite:///path")
    return Path(path)


def open_inbox(url: Secret | str | None, *, default: Path) -> Inbox:
    """The inbox ``url`` names, or a :class:`SqliteInbox` at ``default`` when it is unset."""
    text = url.reveal() if isinstance(url, Secret) else (url or "")
    if not text.strip():
        return SqliteInbox(default)
    text = text.strip()
    if _scheme(text) == _SQLITE_SCHEME:
        return SqliteInbox(_sqlite_path(text))
    try:
        from grafterr_pipeline.webhooks.inbox_postgres import PostgresInbox
    except ImportError as err:
        raise ConfigurationError(
            "GRAFTERR_INBOX_URL names PostgreSQL, but its driver is not installed: "
            "pip install 'grafterr-pipeline[postgres]'"
        ) from err
    return PostgresInbox(Secret(text.replace("postgres://", "postgresql://", 1)))


def describe_inbox(url: Secret | str | None, *, default: Path) -> str:
    """Where the inbox is, fit for a log line or the Dagster UI: never the password."""
    text = url.reveal() if isinstance(url, Secret) else (url or "")
    return redacted_url(text.strip()) if text.strip() else str(default)


def redacted_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()
