"""Configuration of the Spotify client (one frozen value, built from ``Settings``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from echostats.settings import Settings


@dataclass(frozen=True)
class SpotifyConfig:
    """Where Spotify lives and how patient the client is with it.

    Base URLs are configurable so the simulator can stand in for Spotify (demo mode and tests).
    """

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    accounts_url: str = "https://accounts.spotify.com"
    api_url: str = "https://api.spotify.com/v1"
    # Longest Retry-After we sit out inside a call; longer waits surface as SpotifyRateLimited so
    # a request handler never hangs for minutes (the poller reschedules instead).
    max_retry_after_wait: float = 10.0
    # Retries after a 5xx, a timeout, a transport error or a garbled body (and, separately,
    # after 429s whose Retry-After fits the cap).
    max_retries: int = 3
    # First retry waits about this long (doubling, jittered by +/-50 %, at most the cap).
    retry_backoff: float = 0.5
    retry_backoff_cap: float = 8.0
    # Whole-request timeout in seconds (connect + send + wait + read).
    timeout: float = 10.0
    # Consecutive failed calls for one user that open the breaker, and how long it stays open.
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    # Refresh an access token this many seconds before it expires.
    refresh_margin: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.breaker_threshold < 1:
            raise ValueError("max_retries must be >= 0 and breaker_threshold >= 1")
        if min(self.timeout, self.breaker_cooldown, self.max_retry_after_wait) < 0:
            raise ValueError("timeouts and waits must not be negative")
        object.__setattr__(self, "accounts_url", self.accounts_url.rstrip("/"))
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))

    @classmethod
    def from_settings(cls, settings: Settings) -> SpotifyConfig:
        redirect = settings.spotify_redirect_uri or f"{settings.base_url}/api/v1/auth/callback"
        return cls(
            client_id=settings.spotify_client_id,
            client_secret=settings.spotify_client_secret.get_secret_value(),
            redirect_uri=redirect,
            accounts_url=settings.spotify_accounts_url,
            api_url=settings.spotify_api_url,
        )
