"""The one exception tree of EchoStats.

Every error a person can see is an ``EchoStatsError`` with an HTTP status and a sentence. The API
maps them to responses in one place (``echostats.api.errors``); adapters (store, Spotify client)
translate library exceptions into these at their boundary so nothing else catches pymongo or httpx.
"""

from __future__ import annotations


class EchoStatsError(Exception):
    """Base class: ``status`` is the HTTP status, the message is a sentence for a person."""

    status: int = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigError(EchoStatsError):
    """Invalid configuration: the service refuses to start."""


class BadRequest(EchoStatsError):
    status = 400


class NotAuthenticated(EchoStatsError):
    status = 401


class NotFound(EchoStatsError):
    status = 404


class Conflict(EchoStatsError):
    status = 409


class PayloadTooLarge(EchoStatsError):
    status = 413


class Unprocessable(EchoStatsError):
    status = 422


class InsufficientStorage(EchoStatsError):
    """The server's disk (or its quota) is full; nothing of the request was kept."""

    status = 507


class RateLimited(EchoStatsError):
    """Too many requests; ``retry_after`` is in seconds."""

    status = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# --- the store -------------------------------------------------------------------------------


class StoreError(EchoStatsError):
    """The database failed in a way that is not the caller's fault."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now; callers may retry later."""

    status = 503
    retry_after: float = 5.0


class StoreStartError(StoreError):
    """The embedded database server could not be started."""


# --- Spotify ---------------------------------------------------------------------------------


class SpotifyError(EchoStatsError):
    """Spotify failed us. Default mapping: 502 Bad Gateway."""

    status = 502


class SpotifyUnavailable(SpotifyError):
    """Spotify answered 5xx, timed out, or the circuit breaker is open."""


class SpotifyRateLimited(SpotifyError):
    """Spotify asked us to wait ``retry_after`` seconds."""

    status = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class SpotifyQuotaExceeded(SpotifyRateLimited):
    """The development-mode quota is spent; the wait can be many hours."""


class SpotifyReauthRequired(SpotifyError):
    """The refresh token was revoked or expired: the person must sign in again."""

    status = 401


class SpotifyWithdrawn(SpotifyError):
    """Spotify no longer offers this endpoint to development-mode apps."""

    status = 501


class SpotifyForbidden(SpotifyError):
    """Spotify refused (user not registered, missing scope, owner without Premium)."""

    status = 403


class SpotifyPremiumRequired(SpotifyForbidden):
    """The player command needs Spotify Premium."""


class SpotifyNoActiveDevice(SpotifyError):
    """No device is active to receive a player command."""

    status = 409


class SpotifyRestricted(SpotifyError):
    """The device or content refused the command (e.g. seeking an ad)."""

    status = 409


class SpotifyNotFound(SpotifyError):
    """Spotify has no such item."""

    status = 404


class SpotifyBadRequest(SpotifyError):
    """Spotify rejected our request as malformed (a bug on our side or bad user input)."""

    status = 400
