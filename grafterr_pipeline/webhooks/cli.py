"""``grafterr-pipeline webhooks serve``: run the receiver in the foreground until stopped.

The main command line (``grafterr_pipeline.cli``) adds these options to its ``webhooks serve``
sub-command with :func:`add_arguments` and calls :func:`serve`. Secrets come only from the
environment (``GRAFTERR_WEBHOOK_TOKEN``, ``GRAFTERR_WEBHOOK_SECRET``), never from options, so
they stay out of shell history and process listings.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import logging
from pathlib import Path

from grafterr_pipeline.errors import ConfigurationError
from grafterr_pipeline.settings import WebhookSettings
from grafterr_pipeline.threaded_server import LOOPBACK
from grafterr_pipeline.webhooks.inboxes import describe_inbox

__all__ = ["add_arguments", "serve", "settings_from_args"]

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8787


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``webhooks serve`` options to ``parser``."""
    parser.add_argument(
        "--host", default=LOOPBACK,
        help=f"address to listen on (default: {LOOPBACK}; put TLS in front of anything else)",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT,
        help=f"port to listen on, 0 for any free one (default: {DEFAULT_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--inbox", type=Path, default=None, metavar="PATH",
        help="the SQLite inbox (default: $GRAFTERR_WEBHOOK_INBOX or "
        "<GRAFTERR_DATA_DIR>/inbox/webhooks.sqlite3); $GRAFTERR_INBOX_URL, when set, "
        "names the inbox instead (postgresql://... for several receivers)",
    )  # fmt: skip
    parser.add_argument(
        "--insecure-no-token", action="store_true",
        help="accept deliveries without GRAFTERR_WEBHOOK_TOKEN; loopback only, for local use",
    )  # fmt: skip


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_from_args(args: argparse.Namespace) -> WebhookSettings:
    """The receiver's settings from the environment and ``args``; refuses an unsafe start."""
    settings = WebhookSettings.from_env()
    if args.inbox is not None:
        # An explicit file on the command line wins over GRAFTERR_INBOX_URL.
        settings = dataclasses.replace(settings, inbox_path=args.inbox, inbox_url=None)
    if settings.token is None and not args.insecure_no_token:
        raise ConfigurationError(
            "GRAFTERR_WEBHOOK_TOKEN is not set: export a long random value and register "
            "https://<your host>/webhooks/grafterr/<that value> with Grafterr "
            "(or pass --insecure-no-token to accept anything, on loopback only)"
        )
    if settings.token is None and not _is_loopback(args.host):
        raise ConfigurationError(
            f"--insecure-no-token is for loopback only, not --host {args.host}: "
            "set GRAFTERR_WEBHOOK_TOKEN"
        )
    return settings


def serve(args: argparse.Namespace) -> int:
    """Serve the receiver until SIGINT or SIGTERM; return the exit code."""
    settings = settings_from_args(args)
    try:
        from grafterr_pipeline.webhooks.server import WebhookServer

        server = WebhookServer(settings, host=args.host, port=args.port)
    except OSError as err:
        raise ConfigurationError(f"cannot listen on {args.host}:{args.port}: {err}") from err
    if settings.token is None:
        logger.warning("accepting deliveries WITHOUT a token (--insecure-no-token)")
    if not _is_loopback(args.host):
        logger.warning("listening beyond loopback on %s: put TLS in front of it", args.host)
    logger.info(
        "webhook receiver at %s/webhooks/grafterr/<GRAFTERR_WEBHOOK_TOKEN>, "
        "inbox %s, signature %s",
        server.base_url, describe_inbox(settings.inbox_url, default=settings.inbox_path),
        f"required in {settings.signature_header}" if settings.secret else "not required",
    )  # fmt: skip
    server.run()
    return 0
