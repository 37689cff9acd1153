from __future__ import annotations

import pytest

from echostats.settings import Settings
from echostats.spotify import SpotifyConfig


def test_from_settings_derives_the_redirect_uri(settings: Settings) -> None:
    config = SpotifyConfig.from_settings(settings)
    assert config.client_id == "test-client-id"
    assert config.client_secret == "test-client-secret"
    assert config.redirect_uri == "http://127.0.0.1:8000/api/v1/auth/callback"
    assert config.accounts_url == "https://accounts.spotify.com"
    assert config.api_url == "https://api.spotify.com/v1"


def test_from_settings_honours_explicit_urls(settings: Settings) -> None:
    custom = settings.model_copy(
        update={
            "spotify_redirect_uri": "https://stats.example.org/cb",
            "spotify_accounts_url": "http://sim",
            "spotify_api_url": "http://sim/v1",
        }
    )
    config = SpotifyConfig.from_settings(custom)
    assert config.redirect_uri == "https://stats.example.org/cb"
    assert (config.accounts_url, config.api_url) == ("http://sim", "http://sim/v1")


def test_secret_is_not_in_repr() -> None:
    config = SpotifyConfig(client_id="c", client_secret="very-secret", redirect_uri="http://x")
    assert "very-secret" not in repr(config)


@pytest.mark.parametrize("bad", [{"max_retries": -1}, {"breaker_threshold": 0}, {"timeout": -1.0}])
def test_nonsense_values_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SpotifyConfig(client_id="c", client_secret="s", redirect_uri="http://x", **bad)  # type: ignore[arg-type]
