"""One settings class for the whole service (environment prefix ``ECHOSTATS_``, ``.env`` read).

Nothing reads the environment anywhere else: ``load_settings`` builds a ``Settings`` once in the
CLI and passes it down, and tests construct ``Settings(...)`` directly.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from echostats.errors import ConfigError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_METRICS_TOKEN = 16


class Settings(BaseSettings):
    """Every configurable value, its default and its meaning (the README table mirrors this)."""

    model_config = SettingsConfigDict(
        env_prefix="ECHOSTATS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- serving ---
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port of the HTTP server.")
    public_base_url: str = Field(
        "",
        description="URL people use to reach the service; empty means http://HOST:PORT.",
    )

    # --- storage ---
    mongodb_url: SecretStr = Field(
        SecretStr(""),
        description="MongoDB connection string; empty starts the embedded SecantusDB server.",
    )
    database_name: str = Field("echostats", min_length=1, description="MongoDB database name.")
    data_dir: Path = Field(
        Path("./data"),
        description="Directory for the embedded database, uploads and other local state.",
    )
    store_start_timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds to wait at start-up for the database to answer (the embedded one "
        "takes ~15 s to open a ten-year history of a million plays on a small machine).",
    )

    # --- Spotify ---
    spotify_client_id: str = Field("", description="Spotify app client id.")
    spotify_client_secret: SecretStr = Field(SecretStr(""), description="Spotify app secret.")
    spotify_redirect_uri: str = Field(
        "",
        description="OAuth redirect URI registered with Spotify; empty means "
        "PUBLIC_BASE_URL/api/v1/auth/callback.",
    )
    spotify_accounts_url: str = Field(
        "https://accounts.spotify.com", description="Spotify accounts service base URL."
    )
    spotify_api_url: str = Field(
        "https://api.spotify.com/v1", description="Spotify Web API base URL."
    )

    # --- security ---
    session_secret: SecretStr = Field(
        SecretStr(""), description="Secret that signs session tokens (at least 32 characters)."
    )
    encryption_keys: SecretStr = Field(
        SecretStr(""),
        description="Comma-separated token-encryption keys as id:base64 (32 bytes); the first "
        "encrypts, all decrypt.",
    )

    session_ttl_days: float = Field(30.0, gt=0, description="Days a sign-in session lasts.")
    cookie_secure: bool | None = Field(
        None,
        description="Force the Secure cookie flag on or off; empty means on when "
        "PUBLIC_BASE_URL is https.",
    )
    auto_login: bool | None = Field(
        None,
        description="Sign in automatically when exactly one user exists; empty means only when "
        "bound to a loopback address.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated proxy addresses/networks whose X-Forwarded-For is believed.",
    )
    auth_rate_limit: int = Field(
        20, ge=1, description="Sign-in requests allowed per client per minute."
    )
    import_max_bytes: int = Field(
        2 << 30, ge=1, description="Largest history upload accepted, in bytes (all files)."
    )
    import_rate_limit: int = Field(
        10, ge=1, description="History imports allowed per client per minute."
    )
    relay_max_retry_wait: float = Field(
        3600.0,
        gt=0,
        description="Longest seconds between two tries to relay plays to a server that fails; "
        "the wait doubles from 1 s up to this.",
    )
    scrobble_rate_limit: int = Field(
        60,
        ge=1,
        description="ListenBrainz API requests allowed per token (or per address without one) "
        "per 10 seconds.",
    )

    # --- behaviour ---
    demo_mode: bool = Field(
        False, description="Run against the built-in Spotify simulator with a demo user."
    )
    demo_history_days: int = Field(
        730,
        ge=0,
        le=3650,
        description="Demo mode: days of listening the demo listener has behind them, imported "
        "from the simulator's privacy export at the first demo sign-in (0: none).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Lowest log level written."
    )
    log_format: Literal["json", "text"] = Field("text", description="Log line format.")
    poll_playing_interval: float = Field(
        5.0, gt=0, description="Seconds between now-playing samples while music plays."
    )
    poll_idle_interval: float = Field(
        60.0, gt=0, description="Longest seconds between now-playing samples when idle."
    )
    poll_recent_interval: float = Field(
        180.0,
        gt=0,
        description="Longest seconds between recently-played reads while music plays "
        "(every track change also triggers one).",
    )
    poll_recent_idle_interval: float = Field(
        1800.0, gt=0, description="Longest seconds between recently-played reads when idle."
    )
    poll_lease_ttl: float = Field(
        60.0,
        ge=3,
        description="Seconds a replica's claim to poll a user lasts without renewal "
        "(another replica takes over after it).",
    )
    instance_id: str = Field(
        "",
        description="Name of this replica in poll leases and bridged live events; empty means "
        "a random one at each start.",
    )
    sync_interval: float = Field(
        3600.0, gt=0, description="Seconds between periodic syncs of playlists and library."
    )
    sync_max_rate_wait: float = Field(
        60.0,
        ge=0,
        description="Longest Spotify Retry-After a sync step waits out; longer waits fail the "
        "step until the next sync.",
    )
    enrich_budget_per_hour: int = Field(
        300, ge=0, description="Catalog lookups (album art, durations) allowed per hour; 0 stops."
    )
    enrich_interval: float = Field(
        300.0, gt=0, description="Seconds between scans for plays without catalog data."
    )
    update_feed_url: str = Field(
        "https://api.github.com/repos/echostats/echostats/releases/latest",
        description="Release feed read by /api/health/update; empty disables the check.",
    )
    update_check_ttl: float = Field(
        3600.0, ge=0, description="Seconds a release-feed answer is cached."
    )

    # --- operations ---
    ledger_cache_mb: int = Field(
        1024,
        ge=16,
        description="MiB of play columns the app keeps in memory for analytics (about 140 MiB "
        "per million plays); least recently used users are dropped beyond it.",
    )
    metrics_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token Prometheus sends to GET /metrics; empty turns /metrics off "
        "(404).",
    )

    @field_validator(
        "public_base_url", "spotify_accounts_url", "spotify_api_url", "update_feed_url"
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("mongodb_url")
    @classmethod
    def _mongo_url(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw and not raw.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw and (len(raw) < MIN_METRICS_TOKEN or raw != raw.strip()):
            raise ValueError(
                f"must be at least {MIN_METRICS_TOKEN} characters without surrounding spaces "
                "(or empty to turn /metrics off)"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _check_redirect_uri(self) -> Settings:
        uri = self.spotify_redirect_uri
        if uri and not uri.startswith(("http://", "https://")):
            raise ValueError("spotify_redirect_uri must start with http:// or https://")
        if "://localhost" in uri:
            raise ValueError(
                "spotify_redirect_uri may not use 'localhost' (Spotify forbids it); use 127.0.0.1"
            )
        return self

    # --- derived values ---

    @property
    def base_url(self) -> str:
        """Public URL of the service, without a trailing slash."""
        if self.public_base_url:
            return self.public_base_url
        host = self.host if self.host not in {"0.0.0.0", "::"} else "127.0.0.1"  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        return self.is_https if self.cookie_secure is None else self.cookie_secure

    @property
    def auto_login_enabled(self) -> bool:
        return self.binds_loopback if self.auto_login is None else self.auto_login

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = (p.strip() for p in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)

    @property
    def embedded_store(self) -> bool:
        return not self.mongodb_url.get_secret_value()

    @property
    def binds_loopback(self) -> bool:
        if self.host in LOOPBACK_HOSTS:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "settings"
        env = f"ECHOSTATS_{field.upper()}" if first["loc"] else "configuration"
        raise ConfigError(f"invalid setting {env}: {first['msg']}") from None
