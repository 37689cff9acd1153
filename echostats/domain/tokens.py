"""A person's Spotify tokens as the service keeps them (pure data; stored encrypted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


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
