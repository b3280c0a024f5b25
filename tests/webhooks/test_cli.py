"""``grafterr-pipeline webhooks serve`` refuses unsafe starts and binds loopback by default."""

from __future__ import annotations

import pytest

from grafterr_pipeline.cli import build_parser, main
from grafterr_pipeline.webhooks.cli import settings_from_args
from tests.webhooks.helpers import TOKEN


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("GRAFTERR_WEBHOOK_TOKEN", "GRAFTERR_WEBHOOK_SECRET", "GRAFTERR_WEBHOOK_INBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRAFTERR_DATA_DIR", str(tmp_path))


def test_receiver_refuses_to_start_without_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["webhooks", "serve", "--port", "0"])

    assert code == 2
    assert "GRAFTERR_WEBHOOK_TOKEN is not set" in capsys.readouterr().err


def test_receiver_refuses_a_token_too_short_to_guard_a_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAFTERR_WEBHOOK_TOKEN", "short-token")

    code = main(["webhooks", "serve", "--port", "0"])

    err = capsys.readouterr().err
    assert code == 2
    assert "shorter than 16" in err
    assert "short-token" not in err


def test_insecure_mode_is_refused_beyond_loopback() -> None:
    args = build_parser().parse_args(
        ["webhooks", "serve", "--insecure-no-token", "--host", "0.0.0.0"]
    )

    with pytest.raises(ValueError, match="loopback only"):
        settings_from_args(args)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_insecure_mode_is_allowed_on_loopback(host: str) -> None:
    args = build_parser().parse_args(["webhooks", "serve", "--insecure-no-token", "--host", host])

    assert settings_from_args(args).token is None


def test_receiver_binds_loopback_on_port_8787_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTERR_WEBHOOK_TOKEN", TOKEN)

    args = build_parser().parse_args(["webhooks", "serve"])

    assert (args.host, args.port) == ("127.0.0.1", 8787)
    assert settings_from_args(args).token.reveal() == TOKEN  # type: ignore[union-attr]


def test_inbox_defaults_under_the_data_folder_and_can_be_moved(tmp_path) -> None:
    default = build_parser().parse_args(["webhooks", "serve", "--insecure-no-token"])
    moved = build_parser().parse_args(
        ["webhooks", "serve", "--insecure-no-token", "--inbox", str(tmp_path / "x.sqlite3")]
    )

    assert settings_from_args(default).inbox_path == tmp_path / "inbox" / "webhooks.sqlite3"
    assert settings_from_args(moved).inbox_path == tmp_path / "x.sqlite3"


def test_settings_never_show_the_token_or_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTERR_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("GRAFTERR_WEBHOOK_SECRET", "hmac-secret-value")

    settings = settings_from_args(build_parser().parse_args(["webhooks", "serve"]))

    assert TOKEN not in repr(settings)
    assert "hmac-secret-value" not in repr(settings)
