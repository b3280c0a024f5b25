"""Read an answer's body with a deadline for the whole of it.

``requests``' read timeout bounds each read from the socket, not the answer: a server that
sends one byte every few seconds holds a request for as long as it likes. Reading the body in
pieces, each at most one socket read, lets the transport stop at a deadline for the whole
answer and treat it as any other timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from urllib3.exceptions import DecodeError, HTTPError, ProtocolError, ReadTimeoutError, SSLError

__all__ = ["SlowAnswerError", "read_body"]

_PIECE = 64 * 1024


class SlowAnswerError(requests.Timeout):
    """The body was still arriving when the deadline for the whole answer passed."""


def read_body(
    response: requests.Response,
    deadline: float,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """The decoded body of a ``stream=True`` response, or :class:`SlowAnswerError` once
    ``clock()`` passes ``deadline``; the connection is released either way."""
    pieces: list[bytes] = []
    try:
        while piece := response.raw.read1(_PIECE, decode_content=True):
            pieces.append(piece)
            if clock() > deadline:
                received = sum(map(len, pieces))
                raise SlowAnswerError(
                    f"the answer was still arriving at its deadline ({received} bytes so far)"
                )
    except SlowAnswerError:
        response.close()
        raise
    except HTTPError as err:  # urllib3's own, translated as requests' iter_content does
        response.close()
        raise _as_requests_error(err) from err
    return b"".join(pieces)


def _as_requests_error(err: HTTPError) -> requests.RequestException:
    if isinstance(err, ReadTimeoutError):
        return requests.ConnectionError(err)  # as requests reports it (psf/requests#5430)
    if isinstance(err, ProtocolError):
        return requests.exceptions.ChunkedEncodingError(err)
    if isinstance(err, DecodeError):
        return requests.exceptions.ContentDecodingError(err)
    if isinstance(err, SSLError):
        return requests.exceptions.SSLError(err)
    return requests.RequestException(err)
