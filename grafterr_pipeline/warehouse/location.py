"""Where the Parquet tables live: a local folder or an object store, named by one URI.

``GRAFTERR_WAREHOUSE_URI`` is a plain path (``data/warehouse``), a ``file://`` URI or an S3
URI, ``s3://bucket/prefix``; ``gs://`` and ``gcs://`` are refused (see :data:`REMOTE_SCHEMES`).
Both local forms resolve, through ``pyarrow.fs.FileSystem.from_uri``, to the same
``LocalFileSystem`` and absolute path, so they share one code path; S3 gets pyarrow's own
filesystem (credentials from the AWS default chain) and, on the DuckDB side, the ``httpfs``
extension with a ``credential_chain`` secret that reads the same chain.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow.fs as pafs

from grafterr_pipeline.errors import ConfigurationError
from grafterr_pipeline.settings import is_local_uri

__all__ = ["REMOTE_SCHEMES", "Location", "glob_escape"]

logger = logging.getLogger(__name__)

# Object stores DuckDB's httpfs reads and pyarrow writes. Only S3: DuckDB is given an S3
# credential_chain secret (warehouse/duck.py) and nothing that reads Google's credentials.
REMOTE_SCHEMES = frozenset({"s3"})
_GOOGLE_SCHEMES = frozenset({"gs", "gcs"})


def glob_escape(path: str) -> str:
    """``path`` with DuckDB's glob characters (``*``, ``?``, ``[``) matched literally.

    DuckDB's glob has no backslash escape; a one-character class (``[*]``) is literal.
    """
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


@dataclass(frozen=True)
class Location:
    """The root of the Parquet tables: ``uri`` as given, and where it points."""

    uri: str

    @classmethod
    def parse(cls, uri: str | Path) -> Location:
        """Read ``uri``: a path (relative to the working directory), ``file://`` or ``s3://``."""
        text = str(uri).strip()
        scheme = urlparse(text).scheme.lower()
        if is_local_uri(text):
            # A file:// URI percent-encodes its path (RFC 8089): file:///a%20b is "/a b".
            path = Path(unquote(urlparse(text).path) if scheme == "file" else text)
            return cls(path.resolve().as_uri())
        if scheme in _GOOGLE_SCHEMES:
            raise ConfigurationError(
                f"GRAFTERR_WAREHOUSE_URI={text!r}: Google Cloud Storage is not supported: the "
                "warehouse's readers only hold AWS credentials (the S3 credential chain); use a "
                "local path, a file:// URI or s3://bucket/prefix"
            )
        if scheme not in REMOTE_SCHEMES:
            allowed = ", ".join(sorted(REMOTE_SCHEMES))
            raise ConfigurationError(
                f"GRAFTERR_WAREHOUSE_URI={text!r}: scheme {scheme!r} is not supported; use a "
                f"local path, a file:// URI or one of: {allowed}"
            )
        return cls(text.rstrip("/"))

    @property
    def is_local(self) -> bool:
        """Whether the tables sit on a local filesystem, where renames are atomic."""
        return self.uri.startswith("file://")

    @property
    def local_path(self) -> Path:
        """The local folder (only for a local location)."""
        if not self.is_local:
            raise ValueError(f"{self.uri} is not a local path")
        return Path(self._resolved[1])

    @property
    def filesystem(self) -> pafs.FileSystem:
        """pyarrow's filesystem for the location (created on first use)."""
        return self._resolved[0]

    @property
    def root(self) -> str:
        """The root as a path inside :attr:`filesystem`."""
        return self._resolved[1]

    @functools.cached_property
    def _resolved(self) -> tuple[pafs.FileSystem, str]:
        # An object store's filesystem may look the bucket's region up over the network, so it
        # is only built when something is read or written, never when settings are parsed.
        filesystem, path = pafs.FileSystem.from_uri(self.uri)
        return filesystem, path.rstrip("/")

    def table_dir(self, table: str) -> str:
        """The folder of ``table`` inside :attr:`filesystem`."""
        return f"{self.root}/{table}"

    def duckdb_glob(self, table: str) -> str:
        """What DuckDB reads for ``table``: every partition's Parquet files."""
        base = glob_escape(str(self.local_path)) if self.is_local else self.uri
        return f"{base}/{table}/business_date=*/*.parquet"

    @property
    def scheme(self) -> str:
        """``file`` or the object store's scheme."""
        return urlparse(self.uri).scheme.lower()
