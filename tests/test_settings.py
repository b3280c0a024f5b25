"""Settings come from the environment, fail early naming the variable, and hide secrets."""

from __future__ import annotations

import pytest

from grafterr_pipeline.errors import ConfigurationError
from grafterr_pipeline.settings import Settings

BASE = {
    "GRAFTERR_BASE_URL": "http://127.0.0.1:8765",
    "GRAFTERR_CLIENT_ID": "id-1",
    "GRAFTERR_CLIENT_SECRET": "very-secret-value",
    "GRAFTERR_API_KEY": "key-value-123",
    "GRAFTERR_PII_SALT": "salt-value-xyz",
}


@pytest.mark.parametrize(
    "missing", ["GRAFTERR_CLIENT_ID", "GRAFTERR_CLIENT_SECRET", "GRAFTERR_API_KEY"]
)
def test_missing_credential_names_the_variable(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}

    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_env(env)


def test_secrets_never_show_in_repr_or_str() -> None:
    settings = Settings.from_env(BASE)

    text = repr(settings) + str(settings)

    for secret in ("very-secret-value", "key-value-123", "salt-value-xyz"):
        assert secret not in text
    assert settings.client_secret.reveal() == "very-secret-value"


@pytest.mark.parametrize(
    ("environment", "expected_host"),
    [
        pytest.param("sandbox", "cuo453tsfc.execute-api.ap-south-1", id="sandbox"),
        pytest.param("production", "ytns6rfbt6.execute-api.eu-west-1", id="production"),
    ],
)
def test_environment_picks_the_documented_base_url(environment: str, expected_host: str) -> None:
    env = {k: v for k, v in BASE.items() if k != "GRAFTERR_BASE_URL"}

    settings = Settings.from_env({**env, "GRAFTERR_ENVIRONMENT": environment})

    assert expected_host in settings.base_url


def test_local_environment_needs_a_base_url() -> None:
    env = {k: v for k, v in BASE.items() if k != "GRAFTERR_BASE_URL"}

    with pytest.raises(ConfigurationError, match="GRAFTERR_BASE_URL"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRAFTERR_RATE_LIMIT", "fast"),
        ("GRAFTERR_RATE_LIMIT", "-1"),
        ("GRAFTERR_TIMEZONE", "Mars/Olympus"),
        ("GRAFTERR_BUSINESS_DAY_CUTOFF", "4am"),
        ("GRAFTERR_ENVIRONMENT", "staging"),
        ("GRAFTERR_PII", "maybe"),
        ("GRAFTERR_PAGE_SIZE", "500"),
        ("GRAFTERR_PAGE_SIZE", "0"),
        ("GRAFTERR_PAGE_SIZE", "many"),
    ],
)
def test_malformed_setting_is_refused_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**BASE, name: value})


def test_hashing_customers_without_a_salt_is_refused() -> None:
    env = {k: v for k, v in BASE.items() if k != "GRAFTERR_PII_SALT"}

    with pytest.raises(ConfigurationError, match="GRAFTERR_PII_SALT"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "GRAFTERR_PII": "drop"}).pii == "drop"
