from __future__ import annotations

import os
from pathlib import Path

import pytest

from echostats.errors import ConfigError
from echostats.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("ECHOSTATS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults() -> None:
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.embedded_store
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.binds_loopback
    assert not settings.demo_mode


def test_environment_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHOSTATS_PORT", "9001")
    monkeypatch.setenv("ECHOSTATS_MONGODB_URL", "mongodb://db:27017")
    settings = load_settings()
    assert settings.port == 9001
    assert not settings.embedded_store


def test_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ECHOSTATS_DATABASE_NAME=from_dotenv\n")
    assert load_settings().database_name == "from_dotenv"


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHOSTATS_SPOTIFY_CLIENT_SECRET", "s3cr3t-value")
    monkeypatch.setenv("ECHOSTATS_MONGODB_URL", "mongodb://user:hunter2@db:27017")
    settings = load_settings()
    assert "s3cr3t-value" not in repr(settings)
    assert "hunter2" not in repr(settings)
    assert settings.spotify_client_secret.get_secret_value() == "s3cr3t-value"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ECHOSTATS_PORT", "70000", "ECHOSTATS_PORT"),
        (
            "ECHOSTATS_MONGODB_URL",
            "postgres://x",
            "ECHOSTATS_MONGODB_URL: Value error, must start with mongodb://",
        ),
        ("ECHOSTATS_PUBLIC_BASE_URL", "example.org", "ECHOSTATS_PUBLIC_BASE_URL"),
        ("ECHOSTATS_LOG_FORMAT", "xml", "ECHOSTATS_LOG_FORMAT"),
        ("ECHOSTATS_DEMO_MODE", "perhaps", "ECHOSTATS_DEMO_MODE"),
    ],
)
def test_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert expected in info.value.detail
    assert "\n" not in info.value.detail


def test_localhost_redirect_uri_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ECHOSTATS_SPOTIFY_REDIRECT_URI", "http://localhost:8000/api/v1/auth/callback"
    )
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1"):
        load_settings()


def test_base_url_from_public_setting_and_wildcard_host() -> None:
    assert (
        Settings(public_base_url="https://music.example.org/").base_url
        == "https://music.example.org"
    )
    wildcard = Settings(host="0.0.0.0", port=8080)
    assert wildcard.base_url == "http://127.0.0.1:8080"
    assert not wildcard.binds_loopback
    assert Settings(host="::1").binds_loopback
