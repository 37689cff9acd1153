from __future__ import annotations

import json

import pytest

from echostats.errors import (
    SpotifyBadRequest,
    SpotifyError,
    SpotifyForbidden,
    SpotifyNoActiveDevice,
    SpotifyNotFound,
    SpotifyPremiumRequired,
    SpotifyReauthRequired,
    SpotifyRestricted,
    SpotifyUnavailable,
    SpotifyWithdrawn,
)
from echostats.spotify.errors_map import (
    SpotifyAnswer,
    is_quota_exceeded,
    map_api_error,
    map_token_error,
)


def api_error(status: int, message: str, reason: str | None = None) -> str:
    error: dict[str, object] = {"status": status, "message": message}
    if reason:
        error["reason"] = reason
    return json.dumps({"error": error})


CASES: list[tuple[str, str, int, str, type[SpotifyError]]] = [
    ("GET", "/me", 403, "User not registered in the Developer Dashboard", SpotifyForbidden),
    ("GET", "/me/top/artists", 403, api_error(403, "Insufficient client scope"), SpotifyForbidden),
    (
        "GET",
        "/me",
        403,
        "Active premium subscription required for the owner of the app.",
        SpotifyForbidden,
    ),
    ("GET", "/browse/new-releases", 403, api_error(403, "Forbidden"), SpotifyWithdrawn),
    ("GET", "/browse/featured-playlists", 403, api_error(403, "Forbidden"), SpotifyWithdrawn),
    ("GET", "/browse/categories", 403, api_error(403, "Forbidden"), SpotifyWithdrawn),
    ("GET", "/recommendations", 404, api_error(404, "Not found."), SpotifyWithdrawn),
    (
        "PUT",
        "/me/player/pause",
        403,
        api_error(403, "Player command failed: Premium required", "PREMIUM_REQUIRED"),
        SpotifyPremiumRequired,
    ),
    (
        "PUT",
        "/me/player/play",
        404,
        api_error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE"),
        SpotifyNoActiveDevice,
    ),
    (
        "PUT",
        "/me/player/pause",
        403,
        api_error(403, "Player command failed: Restriction violated", "UNKNOWN"),
        SpotifyRestricted,
    ),
    ("PUT", "/me/player/seek", 403, api_error(403, "x", "ALREADY_PAUSED"), SpotifyRestricted),
    ("GET", "/playlists/{id}/items", 403, api_error(403, "Forbidden"), SpotifyForbidden),
    ("GET", "/playlists/{id}", 404, api_error(404, "Resource not found"), SpotifyNotFound),
    ("GET", "/me/player/recently-played", 400, api_error(400, "Invalid limit"), SpotifyBadRequest),
    ("GET", "/me", 401, api_error(401, "The access token expired"), SpotifyReauthRequired),
    ("GET", "/me", 503, "", SpotifyUnavailable),
]


@pytest.mark.parametrize(("method", "endpoint", "status", "text", "expected"), CASES)
def test_api_error_mapping(
    method: str, endpoint: str, status: int, text: str, expected: type[SpotifyError]
) -> None:
    error = map_api_error(SpotifyAnswer(method, endpoint, status, text))
    assert type(error) is expected
    assert error.detail.endswith((".", ")")) or ":" in error.detail


def test_unregistered_user_gets_a_helpful_sentence() -> None:
    error = map_api_error(
        SpotifyAnswer("GET", "/me", 403, "User not registered in the Developer Dashboard")
    )
    assert "User Management" in error.detail
    assert "Developer Dashboard" in error.detail


def test_quota_detection_needs_the_reason() -> None:
    quota = api_error(429, "Too many requests", "QUOTA_EXCEEDED")
    assert is_quota_exceeded(SpotifyAnswer("GET", "/me", 429, quota))
    assert not is_quota_exceeded(SpotifyAnswer("GET", "/me", 429, api_error(429, "slow down")))
    assert not is_quota_exceeded(SpotifyAnswer("GET", "/me", 429, "not json"))


@pytest.mark.parametrize(
    ("grant", "status", "body", "expected"),
    [
        ("refresh_token", 400, {"error": "invalid_grant"}, SpotifyReauthRequired),
        (
            "refresh_token",
            400,
            {"error": "invalid_grant", "error_description": "Refresh token revoked"},
            SpotifyReauthRequired,
        ),
        ("authorization_code", 400, {"error": "invalid_grant"}, SpotifyBadRequest),
        ("refresh_token", 400, {"error": "invalid_client"}, SpotifyForbidden),
        ("authorization_code", 401, {"error": "invalid_client"}, SpotifyForbidden),
        ("refresh_token", 400, {"error": "unsupported_grant_type"}, SpotifyBadRequest),
    ],
)
def test_token_error_mapping(
    grant: str, status: int, body: dict[str, str], expected: type[SpotifyError]
) -> None:
    answer = SpotifyAnswer("POST", "/api/token", status, json.dumps(body))
    assert type(map_token_error(answer, grant_type=grant)) is expected
