"""Translate Spotify's error answers into the project's exception tree.

Spotify's error bodies are not uniform: Web API errors are ``{"error": {"status", "message",
"reason"?}}``, the token endpoint answers ``{"error": "invalid_grant", ...}``, and some 403s are
plain text. Messages change over time, so the ``reason`` code and the endpoint decide first and
message text is only a fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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
from echostats.spotify.records import scrub

# Endpoints Spotify withdrew from development-mode apps (403, or 404 for recommendations), as
# templates. Extended-quota apps still get answers, so we call them and translate the refusal.
WITHDRAWN_ENDPOINTS = frozenset(
    {
        "/recommendations",
        "/recommendations/available-genre-seeds",
        "/browse/new-releases",
        "/browse/featured-playlists",
        "/browse/categories",
        "/browse/categories/{id}",
        "/browse/categories/{id}/playlists",
        "/artists/{id}/related-artists",
        "/artists/{id}/top-tracks",
        "/audio-features",
        "/audio-features/{id}",
        "/audio-analysis/{id}",
        "/markets",
        "/users/{id}",
        "/users/{id}/playlists",
        "/playlists/{id}/tracks",
        "/tracks",
        "/albums",
        "/artists",
    }
)

NOT_REGISTERED = (
    "Spotify refused this account: it is not on the app's user list. A development-mode Spotify "
    "app serves only the users added under User Management in the Spotify Developer Dashboard."
)
MISSING_SCOPE = (
    "Spotify refused: this sign-in did not grant a permission this feature needs. Sign in to "
    "Spotify again to grant it."
)
OWNER_NOT_PREMIUM = (
    "Spotify refused every call: the owner of the Spotify app needs an active Premium "
    "subscription (after renewing it can take a few hours to work again)."
)


@dataclass(frozen=True)
class SpotifyAnswer:
    """What we know about one non-success answer."""

    method: str
    endpoint: str
    status: int
    text: str

    @property
    def payload(self) -> object:
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None

    @property
    def error_object(self) -> dict[str, object]:
        payload = self.payload
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            return payload["error"]  # type: ignore[no-any-return]
        return {}

    @property
    def message(self) -> str:
        message = self.error_object.get("message")
        if isinstance(message, str):
            return message
        payload = self.payload
        if isinstance(payload, dict):  # token endpoint style
            return str(payload.get("error_description") or payload.get("error") or "")
        return self.text if self.payload is None else ""

    @property
    def reason(self) -> str:
        reason = self.error_object.get("reason")
        return reason.upper() if isinstance(reason, str) else ""

    @property
    def oauth_error(self) -> str:
        payload = self.payload
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            return payload["error"]  # type: ignore[no-any-return]
        return ""


def is_quota_exceeded(answer: SpotifyAnswer) -> bool:
    return answer.status == 429 and answer.reason == "QUOTA_EXCEEDED"


def _is_player(endpoint: str) -> bool:
    return endpoint == "/me/player" or endpoint.startswith("/me/player/")


def _account_refusal(answer: SpotifyAnswer) -> SpotifyError | None:
    """403s about the account or the app as a whole, whatever the endpoint."""
    if answer.status != 403:
        return None
    text = f"{answer.message} {answer.text}".lower()
    for needle, sentence in (
        ("not registered", NOT_REGISTERED),
        ("insufficient client scope", MISSING_SCOPE),
        ("premium subscription required for the owner", OWNER_NOT_PREMIUM),
    ):
        if needle in text:
            return SpotifyForbidden(sentence)
    return None


def _player_refusal(answer: SpotifyAnswer) -> SpotifyError | None:
    lowered = answer.message.lower()
    if answer.reason == "PREMIUM_REQUIRED" or "premium required" in lowered:
        return SpotifyPremiumRequired("Controlling playback needs Spotify Premium.")
    if answer.reason == "NO_ACTIVE_DEVICE" or "no active device" in lowered:
        return SpotifyNoActiveDevice(
            "No Spotify device is active; start Spotify on a device or pick one first."
        )
    if _is_player(answer.endpoint) and answer.status in (403, 404):
        detail = scrub(answer.message) or answer.reason or str(answer.status)
        return SpotifyRestricted(f"The Spotify player refused the command ({detail}).")
    return None


def _plain_refusal(answer: SpotifyAnswer) -> SpotifyError:
    status, endpoint = answer.status, answer.endpoint
    message = scrub(answer.message)
    if status == 401:
        return SpotifyReauthRequired(
            "Spotify rejected the access token even after a refresh; sign in to Spotify again."
        )
    if status == 403 and endpoint == "/playlists/{id}/items":
        return SpotifyForbidden(
            "Spotify only shows the items of playlists this account owns or collaborates on."
        )
    if status == 403:
        return SpotifyForbidden(f"Spotify refused the request: {message or 'forbidden'}.")
    if status == 404:
        return SpotifyNotFound(f"Spotify has no such item ({endpoint}).")
    if 400 <= status < 500:
        return SpotifyBadRequest(f"Spotify rejected the request ({status}): {message}")
    return SpotifyUnavailable(f"Spotify answered {status} for {endpoint}.")


def map_api_error(answer: SpotifyAnswer) -> SpotifyError:
    """The exception for a final (not retried) Web API error answer."""
    refusal = _account_refusal(answer)
    if refusal is not None:
        return refusal
    if answer.status in (403, 404) and answer.endpoint in WITHDRAWN_ENDPOINTS:
        return SpotifyWithdrawn(
            f"Spotify no longer offers {answer.endpoint} to development-mode apps like this one."
        )
    return _player_refusal(answer) or _plain_refusal(answer)


def map_token_error(answer: SpotifyAnswer, *, grant_type: str) -> SpotifyError:
    """The exception for a final error answer of the token endpoint."""
    error = answer.oauth_error
    if error == "invalid_grant":
        if grant_type == "refresh_token":
            return SpotifyReauthRequired(
                "Spotify no longer accepts this account's sign-in (revoked, or older than six "
                "months); sign in to Spotify again."
            )
        return SpotifyBadRequest(
            "Spotify rejected the authorization code (expired or already used); sign in again."
        )
    if error in ("invalid_client", "unauthorized_client") or answer.status == 401:
        return SpotifyForbidden(
            "Spotify rejected the app's credentials; check the Spotify client id and secret."
        )
    refusal = _account_refusal(answer)
    if refusal is not None:
        return refusal
    if 400 <= answer.status < 500:
        return SpotifyBadRequest(
            f"Spotify's token service rejected the request ({answer.status}): "
            f"{scrub(answer.message)}"
        )
    return SpotifyUnavailable(f"Spotify's token service answered {answer.status}.")
