"""Access tokens for API calls: cached, refreshed before expiry, one refresh per user at a time.

Refreshes are single-flight per user: callers that find the token expired (or rejected) queue on
the user's lock, and whoever comes second finds the fresh token already stored instead of sending
another grant. That matters beyond politeness: with PKCE, Spotify may rotate refresh tokens, and
two concurrent grants with the same refresh token would make one of them fail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import anyio

from echostats.errors import SpotifyReauthRequired
from echostats.spotify.oauth import SpotifyOAuth
from echostats.spotify.tokens import TokenSet, TokenStore

NOT_CONNECTED = "This account is not connected to Spotify; sign in to Spotify first."


class TokenKeeper:
    """Implements ``TokenSource`` over a ``TokenStore``."""

    def __init__(
        self,
        store: TokenStore,
        oauth: SpotifyOAuth,
        now: Callable[[], datetime],
        refresh_margin: float,
    ) -> None:
        self._store = store
        self._oauth = oauth
        self._now = now
        self._margin = refresh_margin
        self._cache: dict[str, TokenSet] = {}
        self._locks: dict[str, anyio.Lock] = {}

    def _lock(self, user_id: str) -> anyio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = anyio.Lock()
        return lock

    def _fresh(self, tokens: TokenSet | None) -> bool:
        return tokens is not None and not tokens.expires_within(self._now(), self._margin)

    async def access_token(self, user_id: str) -> str:
        cached = self._cache.get(user_id)
        if cached is not None and self._fresh(cached):
            return cached.access_token
        return (await self._refresh_unless(user_id, self._fresh)).access_token

    async def refresh_after_rejection(self, user_id: str, rejected: str) -> str:
        # Someone else may have refreshed while our request was out: then their token is the one.
        tokens = await self._refresh_unless(
            user_id, lambda t: t.access_token != rejected and self._fresh(t)
        )
        return tokens.access_token

    async def refresh_now(self, user_id: str) -> TokenSet:
        """Refresh whatever the state of the current token (the "refresh" button)."""
        before = await self._store.load(user_id)
        rejected = before.access_token if before else ""
        return await self._refresh_unless(
            user_id, lambda t: t.access_token != rejected and self._fresh(t)
        )

    def forget(self, user_id: str) -> None:
        """Drop the cached tokens (after sign-out or a new sign-in)."""
        self._cache.pop(user_id, None)

    async def _refresh_unless(self, user_id: str, usable: Callable[[TokenSet], bool]) -> TokenSet:
        async with self._lock(user_id):
            # The store, not the cache, is the truth: another process may have refreshed.
            tokens = await self._store.load(user_id)
            if tokens is None:
                self._cache.pop(user_id, None)
                raise SpotifyReauthRequired(NOT_CONNECTED)
            if not usable(tokens):
                try:
                    tokens = await self._oauth.refresh(user_id, tokens)
                except SpotifyReauthRequired:
                    self._cache.pop(user_id, None)
                    raise
                await self._store.save(user_id, tokens)
            self._cache[user_id] = tokens
            return tokens
