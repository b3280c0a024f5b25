"""Send one request to Grafterr: headers, limiter, timeouts, retries and error translation.

Every request passes here, the token request included, so each one is counted against the
shared budget, carries ``x-api-key`` (contract, "Headers") and the explicit connect and read
timeouts, and is retried under the :class:`~grafterr_pipeline.client.retry.RetryPolicy`.
What cannot be retried becomes an :class:`~grafterr_pipeline.errors.ApiError` whose message
names the status, the reason, the endpoint path, the window and page, and the server's words,
with every secret masked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ReadTimeoutError

from grafterr_pipeline.client.auth import TokenProvider
from grafterr_pipeline.client.body import read_body
from grafterr_pipeline.client.ratelimit import RateLimiter
from grafterr_pipeline.client.retry import RetryPolicy, parse_retry_after, server_now
from grafterr_pipeline.client.stats import StatsRecorder
from grafterr_pipeline.errors import (
    ApiError,
    AuthenticationError,
    MalformedResponseError,
    RequestRejectedError,
    RetriesExhaustedError,
)
from grafterr_pipeline.redact import Redactor
from grafterr_pipeline.settings import Settings

__all__ = ["Call", "Reply", "Transport"]

logger = logging.getLogger(__name__)

_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class Call:
    """One logical request: what to send and how to describe it in errors and logs.

    ``context`` reads like "window 2026-11-30T04:00:00+00:00 to ..., page 3". ``validate``
    returns a description of what is wrong with a 200's JSON body, or ``None`` when it is fine;
    a wrong body is retried like a 5xx.
    """

    method: str
    path: str
    context: str = ""
    params: Mapping[str, str | int] | None = None
    json: Mapping[str, str] | None = None
    authenticated: bool = True
    validate: Callable[[Any], str | None] | None = None

    def describe(self) -> str:
        """``GET /orders (window ..., page 3)``: the endpoint and what was being read."""
        where = f" ({self.context})" if self.context else ""
        return f"{self.method} /{self.path}{where}"


@dataclass(frozen=True)
class Reply:
    """A successful answer: the raw body, kept for the raw archive, and its parsed JSON."""

    status: int
    content: bytes
    body: Any


@dataclass(frozen=True)
class _Failure:
    """A transient failure of one attempt."""

    cause: str
    detail: str
    retry_after: float | None = None
    error: BaseException | None = None


class Transport:
    """Sends :class:`Call` s with the client's session, limiter, token and retry policy."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session,
        limiter: RateLimiter,
        retry: RetryPolicy,
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._session = session
        self._limiter = limiter
        self._retry = retry
        self._redactor = redactor
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.tokens: TokenProvider | None = None

    def send(self, call: Call, recorder: StatsRecorder) -> Reply:
        """Send ``call`` until it succeeds, fails for good, or exhausts the retry policy."""
        started = self._clock()
        attempt, renewed = 0, False
        while True:
            outcome = self._attempt(call, recorder)
            if isinstance(outcome, Reply):
                self._limiter.succeeded()
                return outcome
            if outcome.cause == "401" and not renewed:
                # Contract, "Token": renew once on a 401 for a token believed valid.
                renewed = True
                recorder.retry("401")
                continue
            if outcome.cause == "401":
                raise AuthenticationError(self._token_refused(call), status=401, endpoint=call.path)
            attempt += 1
            self._before_retry(call, outcome, attempt=attempt, started=started, recorder=recorder)

    def _attempt(self, call: Call, recorder: StatsRecorder) -> Reply | _Failure:
        token = self._token(call, recorder)
        waited = self._limiter.acquire()
        recorder.request(limiter_wait=waited, now=self._clock())
        # Asked again after the wait: a short-lived token may have run out while queued.
        token = self._token(call, recorder)
        sent = self._clock()
        try:
            response = self._session.request(
                call.method,
                self._settings.base_url + call.path,
                params=call.params,
                json=call.json,
                headers=self._headers(token),
                timeout=self._settings.timeouts.as_requests(),
                allow_redirects=False,
                stream=True,
            )
            body = read_body(response, sent + self._settings.timeouts.answer, clock=self._clock)
        except requests.RequestException as err:
            return self._network_failure(call, err)
        logger.debug(
            "%s -> %d in %.3f s", call.describe(), response.status_code, self._clock() - sent
        )
        return self._judge(call, response, body, token)

    def _token(self, call: Call, recorder: StatsRecorder) -> str | None:
        if not call.authenticated or self.tokens is None:
            return None
        return self.tokens.token(recorder)

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"x-api-key": self._settings.api_key.reveal(), "Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _network_failure(self, call: Call, err: requests.RequestException) -> _Failure:
        # requests re-raises a read timeout met while reading the body as a ConnectionError
        # (psf/requests#5430); it is still a timeout.
        if isinstance(err, requests.Timeout) or any(
            isinstance(arg, ReadTimeoutError) for arg in err.args
        ):
            cause = "timeout"
        elif isinstance(err, requests.ConnectionError):
            cause = "connection"
        else:  # a body cut short (ChunkedEncodingError) and the like
            cause = "truncated"
        detail = self._redactor.redact(f"{type(err).__name__}: {err}")[:_MESSAGE_LIMIT]
        logger.debug("%s failed: %s", call.describe(), detail)
        return _Failure(cause, detail, error=err)

    def _judge(
        self, call: Call, response: requests.Response, body: bytes, token: str | None
    ) -> Reply | _Failure:
        status = response.status_code
        if 200 <= status < 300:
            return self._parse(call, response, body)
        if status == 401 and token is not None and self.tokens is not None:
            self.tokens.invalidate(token)
            return _Failure("401", self._server_message(body))
        if status in (401, 403):
            raise self._auth_error(call, response, body)
        if self._retry.is_retryable(status):
            text = self._status_text(response, body)
            return _Failure(str(status), text, self._wait_hint(response))
        raise RequestRejectedError(
            self._redactor.redact(
                f"Grafterr rejected {call.describe()}: {self._status_text(response, body)}; "
                "the request itself is wrong, so it is not retried"
            ),
            status=status,
            endpoint=call.path,
            context=call.context,
        )

    def _parse(self, call: Call, response: requests.Response, content: bytes) -> Reply | _Failure:
        # Strictly UTF-8 (RFC 8259, section 8.1), as the raw archive is read later: requests'
        # own .json() falls back to decoding with replacement characters, which let in a page
        # that the merge step then could never read.
        try:
            body = json.loads(content.decode("utf-8"))
        except UnicodeDecodeError as err:
            detail = f"the body is not UTF-8 (byte {err.start}: {err.reason})"
            return _Failure("malformed", detail, error=err)
        except RecursionError as err:
            return _Failure("malformed", "the body is JSON nested too deeply to read", error=err)
        except ValueError as err:
            return _Failure("malformed", "the body is not JSON", error=err)
        problem = call.validate(body) if call.validate else None
        if problem:
            return _Failure("malformed", problem)
        return Reply(response.status_code, content, body)

    def _wait_hint(self, response: requests.Response) -> float | None:
        if response.status_code not in (429, 503):
            return None
        now = server_now(response.headers.get("Date"), fallback=dt.datetime.now(dt.UTC))
        return parse_retry_after(response.headers.get("Retry-After"), now=now)

    def _before_retry(
        self,
        call: Call,
        failure: _Failure,
        *,
        attempt: int,
        started: float,
        recorder: StatsRecorder,
    ) -> None:
        recorder.retry(failure.cause)
        hinted = failure.retry_after is not None
        delay = self._retry.backoff(attempt, self._rng)
        if failure.retry_after is not None:
            delay = failure.retry_after
        elapsed = self._clock() - started
        out_of_budget = elapsed + delay > self._retry.max_elapsed_seconds
        if failure.cause == "429":
            # Every thread and process sharing the key waits, and discovery slows down.
            self._limiter.throttled(0.0 if out_of_budget else delay)
        if attempt >= self._retry.max_attempts or out_of_budget:
            raise self._exhausted(call, failure, attempt=attempt, delay=delay, hinted=hinted)
        logger.debug("%s: %s, retrying in %.2f s", call.describe(), failure.cause, delay)
        if failure.cause != "429":
            self._sleep(delay)

    def _exhausted(
        self, call: Call, failure: _Failure, *, attempt: int, delay: float, hinted: bool
    ) -> ApiError:
        budget = self._retry.max_elapsed_seconds
        if hinted and delay > budget:
            message = (
                f"Grafterr answered {failure.detail} to {call.describe()} and asked to wait "
                f"{delay:.0f} s (Retry-After), more than the retry policy allows in total "
                f"(max_elapsed_seconds={budget:g}); run again later or raise the policy's limit"
            )
        else:
            message = (
                f"{call.describe()} still failing after {attempt} attempts: last failure "
                f"{failure.cause} ({failure.detail}); the retry policy allows "
                f"max_attempts={self._retry.max_attempts}, max_elapsed_seconds={budget:g}"
            )
        kind = MalformedResponseError if failure.cause == "malformed" else RetriesExhaustedError
        status = int(failure.cause) if failure.cause.isdigit() else None
        error = kind(
            self._redactor.redact(message), status=status, endpoint=call.path, context=call.context
        )
        error.__cause__ = failure.error
        return error

    def _auth_error(
        self, call: Call, response: requests.Response, body: bytes
    ) -> AuthenticationError:
        if response.status_code == 403:
            what = "the API key (x-api-key) was refused: check GRAFTERR_API_KEY"
        else:
            what = (
                "the client credentials were refused: "
                "check GRAFTERR_CLIENT_ID and GRAFTERR_CLIENT_SECRET"
            )
        return AuthenticationError(
            self._redactor.redact(
                f"{call.describe()}: {self._status_text(response, body)}; {what}"
            ),
            status=response.status_code,
            endpoint=call.path,
            context=call.context,
        )

    def _token_refused(self, call: Call) -> str:
        return (
            f"{call.describe()}: 401 Unauthorized even with a freshly issued token; "
            "the credentials may have been revoked"
        )

    def _status_text(self, response: requests.Response, body: bytes) -> str:
        return f"{response.status_code} {response.reason}: {self._server_message(body)}"

    def _server_message(self, content: bytes) -> str:
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict) and "message" in body:
            text = str(body["message"])
            if body.get("errors"):
                text += f" {body['errors']}"
        else:
            text = content.decode("utf-8", errors="replace").strip() or "(empty body)"
        return self._redactor.redact(text)[:_MESSAGE_LIMIT]
