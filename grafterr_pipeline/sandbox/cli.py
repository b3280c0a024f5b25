"""``grafterr-pipeline sandbox serve``: run a sandbox in the foreground until Ctrl-C.

The main command line (``grafterr_pipeline.cli``) adds these options to its ``sandbox serve``
sub-command with :func:`add_arguments` and calls :func:`serve`. Every option maps to one field
of :class:`SandboxConfig`; an option left out keeps that field's default, so the defaults live
in one place.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, Any, NamedTuple

from grafterr_pipeline.sandbox.config import RETRY_AFTER_STYLES, SandboxConfig

if TYPE_CHECKING:
    from grafterr_pipeline.sandbox.server import SandboxServer

__all__ = ["DEFAULT_PORT", "add_arguments", "config_from_args", "serve"]

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765


class _Option(NamedTuple):
    field: str
    type: Any
    help: str


def _instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs an offset, e.g. 2026-12-01T12:00:00Z")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


_OPTIONS: tuple[_Option, ...] = (
    _Option("seed", int, "seed of the generated data"),
    _Option("scale", int, "orders per store per day (12 stores)"),
    _Option("now", _instant, "freeze the sandbox clock at this ISO instant (default: real time)"),
    _Option("client_id", str, "client_id the token endpoint accepts"),
    _Option("client_secret", str, "client_secret the token endpoint accepts"),
    _Option("api_key", str, "the x-api-key every request must carry"),
    _Option("token_ttl", float, "seconds a bearer token lives"),
    _Option("rate_limit", float, "requests per second per API key (default: unlimited)"),
    _Option("burst", int, "requests the rate limit lets through at once"),
    _Option("retry_after", str, "how a 429 says when to retry: " + ", ".join(RETRY_AFTER_STYLES)),
    _Option("base_path", str, "serve under this path prefix, e.g. /dev"),
    _Option("fail_500", _share, "share of requests answered 500"),
    _Option("fail_504", _share, "share of requests answered 504"),
    _Option("delay_504", float, "seconds to wait before answering a 504"),
    _Option("fail_408", _share, "share of requests answered 408"),
    _Option("reset_share", _share, "share of connections reset before any answer"),
    _Option("truncate_share", _share, "share of response bodies cut short"),
    _Option("latency", float, "seconds added to every answer"),
    _Option("latency_jitter", float, "up to this many random seconds added to every answer"),
    _Option("drift_share", _share, "share of a listing's orders that arrive while it is paged"),
    _Option("drift_pages", int, "page requests of one listing over which late orders arrive"),
    _Option("money_as_numbers", _share, "share of orders whose money is sent as JSON numbers"),
    _Option("extra_fields", _share, "share of orders carrying unknown fields at every level"),
    _Option("absent_optional", _share, "share of orders leaving out null optional fields"),
    _Option("webhook_url", str, "deliver the six order events to this loopback URL"),
    _Option("webhook_since", _instant, "deliver events from this instant (default: start-up)"),
    _Option("webhook_rate", float, "webhook deliveries per second"),
    _Option("webhook_duplicates", _share, "share of webhook events delivered twice"),
    _Option("webhook_out_of_order", _share, "share of webhook events delivered late"),
    _Option("webhook_max_attempts", int, "attempts per webhook event before giving up"),
    _Option("webhook_backoff", float, "seconds before the first webhook retry (then doubled)"),
    _Option("webhook_timeout", float, "seconds to wait for the receiver's 2xx"),
)

_FLAGS = {"reset_share": "--reset", "truncate_share": "--truncate", "drift_share": "--drift"}


def _flag(field: str) -> str:
    return _FLAGS.get(field, "--" + field.replace("_", "-"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``sandbox serve`` options to ``parser``, each with its help and default."""
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT,
        help=f"loopback port to listen on, 0 for any free one (default: {DEFAULT_PORT})",
    )  # fmt: skip
    defaults = {f.name: f.default for f in dataclasses.fields(SandboxConfig)}
    for option in _OPTIONS:
        choices = RETRY_AFTER_STYLES if option.field == "retry_after" else None
        default = defaults[option.field]
        shown = "" if default is None or "default:" in option.help else f" (default: {default})"
        metavar = None if choices else _metavar(option)
        parser.add_argument(
            _flag(option.field), dest=option.field, type=option.type, default=None,
            choices=choices, help=option.help + shown, metavar=metavar,
        )  # fmt: skip


def _metavar(option: _Option) -> str:
    if option.type is _share:
        return "SHARE"
    if option.type is float:
        return "PER_SECOND" if option.field.endswith(("rate", "rate_limit")) else "SECONDS"
    names = {int: "N", _instant: "INSTANT"}
    return names.get(option.type, "URL" if option.field.endswith("url") else "TEXT")


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """Return the config the parsed options describe; options not given keep their defaults."""
    given = {o.field: getattr(args, o.field) for o in _OPTIONS}
    return SandboxConfig(**{k: v for k, v in given.items() if v is not None})


def serve(args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Serve a sandbox in the foreground until Ctrl-C (or ``stop`` is set); return the exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from grafterr_pipeline.sandbox.server import SandboxServer  # loads uvicorn: serving only

    try:
        config = config_from_args(args)
        server = SandboxServer(config, port=args.port)
    except (ValueError, OSError) as err:
        logger.error("cannot start the sandbox: %s", err)
        return 2
    with server:
        _announce(server)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            logger.info("stopping the sandbox")
    return 0


def _announce(server: SandboxServer) -> None:
    config = server.config
    # These are the sandbox's own fake credentials, so showing them is the point.
    logger.info("Grafterr sandbox serving at %s  (%r)", server.base_url, config)
    logger.info(
        "  export GRAFTERR_ENVIRONMENT=local GRAFTERR_BASE_URL=%s GRAFTERR_CLIENT_ID=%s "
        "GRAFTERR_CLIENT_SECRET=%s GRAFTERR_API_KEY=%s GRAFTERR_PII_SALT=local-demo-salt",
        server.base_url, config.client_id, config.client_secret, config.api_key,
    )  # fmt: skip
    logger.info("  press Ctrl-C to stop")
