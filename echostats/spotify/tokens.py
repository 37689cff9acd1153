"""Spotify tokens as we keep them, and the storage interface the client needs.

The encrypted MongoDB store implements ``TokenStore`` elsewhere; the client only loads and saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from echostats.errors import SpotifyUnavailable


@dataclass(frozen=True)
class TokenSet:
    """One user's tokens. ``expires_at`` is an aware UTC datetime; ``scope`` is space-separated."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str = ""

    def __post_init__(self) -> None:
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")

    def expires_within(self, now: datetime, seconds: float) -> bool:
        return self.expires_at - now <= timedelta(seconds=seconds)


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
