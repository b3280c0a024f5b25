"""``sandbox serve``: every knob is an option with help, and options become the config."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import socket
import threading

import pytest

from grafterr_pipeline.sandbox import SandboxConfig
from grafterr_pipeline.sandbox.cli import add_arguments, config_from_args, serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serve")
    add_arguments(parser)
    return parser


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(SandboxConfig)])
def test_every_config_field_is_an_option_with_help(field: str) -> None:
    actions = {a.dest: a for a in _parser()._actions}

    assert field in actions
    assert actions[field].help


def test_options_left_out_keep_the_config_defaults() -> None:
    assert config_from_args(_parser().parse_args([])) == SandboxConfig()


def test_options_given_become_the_config() -> None:
    args = _parser().parse_args(
        ["--seed", "3", "--scale", "20", "--rate-limit", "2.5", "--burst", "4",
         "--retry-after", "http-date", "--fail-500", "0.1", "--reset", "0.05",
         "--now", "2026-12-01T12:00:00Z", "--webhook-url", "http://127.0.0.1:9/hook"]
    )  # fmt: skip

    config = config_from_args(args)

    assert config == SandboxConfig(
        seed=3, scale=20, rate_limit=2.5, burst=4, retry_after="http-date", fail_500=0.1,
        reset_share=0.05, now=dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC),
        webhook_url="http://127.0.0.1:9/hook",
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [["--fail-500", "1.5"], ["--retry-after", "later"], ["--now", "2026-12-01T12:00:00"]],
    ids=["share-above-one", "unknown-retry-style", "naive-now"],
)
def test_invalid_options_are_rejected_by_the_parser(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(argv)


def test_serve_returns_zero_once_stopped() -> None:
    stop = threading.Event()
    stop.set()

    assert serve(_parser().parse_args(["--port", "0"]), stop=stop) == 0


def test_serve_fails_with_a_message_when_the_port_is_taken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()

        code = serve(_parser().parse_args(["--port", str(taken.getsockname()[1])]))

    assert code == 2
    assert "cannot start the sandbox" in caplog.text
