from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from echostats.errors import SpotifyUnavailable
from echostats.spotify.tokens import TokenSet, token_set_from_response

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
OLD = TokenSet("old-access", "old-refresh", NOW, "user-top-read user-read-private")


def test_full_answer() -> None:
    payload = {
        "access_token": "a1",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "user-top-read",
        "refresh_token": "r1",
    }
    tokens = token_set_from_response(payload, NOW)
    assert tokens == TokenSet("a1", "r1", NOW + timedelta(hours=1), "user-top-read")


def test_refresh_without_refresh_token_keeps_the_old_one_and_scope() -> None:
    tokens = token_set_from_response({"access_token": "a2", "expires_in": 3600}, NOW, OLD)
    assert tokens.refresh_token == "old-refresh"
    assert tokens.scope == OLD.scope
    assert tokens.access_token == "a2"


def test_first_grant_without_refresh_token_is_an_error() -> None:
    with pytest.raises(SpotifyUnavailable):
        token_set_from_response({"access_token": "a", "expires_in": 3600}, NOW)


@pytest.mark.parametrize("payload", [None, [], "text", {"expires_in": 3600}, {"access_token": 5}])
def test_unreadable_answers(payload: object) -> None:
    with pytest.raises(SpotifyUnavailable):
        token_set_from_response(payload, NOW, OLD)


def test_expiry_window() -> None:
    tokens = TokenSet("a", "r", NOW + timedelta(seconds=59), "")
    assert tokens.expires_within(NOW, 60)
    assert not tokens.expires_within(NOW - timedelta(seconds=2), 60)


def test_repr_hides_tokens_and_naive_times_are_refused() -> None:
    assert "old-access" not in repr(OLD)
    assert "old-refresh" not in repr(OLD)
    with pytest.raises(ValueError):
        TokenSet("a", "r", datetime(2026, 1, 1), "")
