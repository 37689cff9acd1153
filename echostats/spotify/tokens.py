"""The storage interface the client needs for tokens, and parsing token-endpoint answers.

``TokenSet`` itself is domain data (``echostats.domain.tokens``) so the encrypted MongoDB store can
implement ``TokenStore`` without importing the client.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from echostats.domain.tokens import TokenSet
from echostats.errors import SpotifyUnavailable

__all__ = ["TokenSet", "TokenStore", "token_set_from_response"]


class TokenStore(Protocol):
    """Where tokens live between calls (encrypted at rest in production)."""

    async def load(self, user_id: str) -> TokenSet | None: ...

    async def save(self, user_id: str, tokens: TokenSet) -> None: ...


class _TokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (a type name, not a secret)
    expires_in: int = 3600
    scope: str | None = None
    refresh_token: str | None = None


def token_set_from_response(
    payload: object, now: datetime, previous: TokenSet | None = None
) -> TokenSet:
    """Turn a token-endpoint answer into a ``TokenSet``.

    A refresh may come back without ``refresh_token`` (or ``scope``): the previous values stay
    valid then, so they are kept rather than lost.
    """
    try:
        body = _TokenResponse.model_validate(payload)
    except ValidationError:
        raise SpotifyUnavailable(
            "Spotify's token service sent an answer we could not read."
        ) from None
    refresh = body.refresh_token or (previous.refresh_token if previous else None)
    if not refresh:
        raise SpotifyUnavailable("Spotify's token service sent no refresh token.")
    scope = body.scope if body.scope is not None else (previous.scope if previous else "")
    return TokenSet(
        access_token=body.access_token,
        refresh_token=refresh,
        expires_at=now + timedelta(seconds=body.expires_in),
        scope=scope,
    )
