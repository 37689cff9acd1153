"""``echostats doctor``: checks an installation and says what to fix, one line per check.

Checks the secrets, the data directory, the Spotify app credentials (asking Spotify when it can
be reached), the database, and every connected user's stored tokens (do they open with the
configured keys, under which key, must the person sign in again). Nothing is changed, and no
secret or token is ever printed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from echostats.errors import ConfigError, StoreError
from echostats.security.crypto import TokenCipher
from echostats.security.setup import session_signer, token_cipher
from echostats.settings import Settings
from echostats.spotify import SpotifyConfig
from echostats.spotify.credentials import Verdict, check_client_credentials
from echostats.store import Store, open_store
from echostats.store.embedded import EmbeddedServer, data_dir_in_use
from echostats.store.tokens import EncryptedTokenStore, TokenReport

Status = Literal["ok", "warn", "fail", "skip"]
STORE_WAIT = 10.0  # seconds: a doctor should not sit out a long start-up timeout


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():<4}  {self.name}: {self.detail}"


def exit_status(checks: list[Check]) -> int:
    return 1 if any(check.status == "fail" for check in checks) else 0


def _secret_checks(settings: Settings) -> tuple[list[Check], TokenCipher | None]:
    checks = []
    try:
        session_signer(settings)
        checks.append(Check("session secret", "ok", "set and strong enough"))
    except ConfigError as exc:
        checks.append(Check("session secret", "fail", exc.detail))
    cipher = None
    try:
        cipher = token_cipher(settings)
        checks.append(
            Check(
                "encryption keys", "ok", f"new tokens are sealed with key {cipher.primary_key_id}"
            )
        )
    except ConfigError as exc:
        checks.append(Check("encryption keys", "fail", exc.detail))
    return checks, cipher


def _data_dir_check(data_dir: Path) -> Check:
    name = "data directory"
    existing = data_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return Check(name, "fail", f"{existing} is not a directory; set ECHOSTATS_DATA_DIR")
    if existing != data_dir:
        if os.access(existing, os.W_OK | os.X_OK):
            return Check(name, "ok", f"{data_dir} will be created at first start")
        return Check(name, "fail", f"{data_dir} cannot be created ({existing} is not writable)")
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            name, "fail", f"{data_dir} is not writable ({exc.strerror}); fix its permissions"
        )
    return Check(name, "ok", f"{data_dir} is writable")


def _redirect_check(config: SpotifyConfig) -> Check:
    name = "spotify redirect URI"
    parts = urlsplit(config.redirect_uri)
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = False
    if parts.scheme == "http" and not loopback:
        return Check(
            name,
            "warn",
            f"{config.redirect_uri}: Spotify accepts http only on 127.0.0.1 or [::1]; "
            "serve https and set ECHOSTATS_PUBLIC_BASE_URL",
        )
    return Check(
        name, "ok", f"{config.redirect_uri} (must be listed in the Spotify app's Redirect URIs)"
    )


async def _spotify_checks(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    name = "spotify credentials"
    if settings.demo_mode:
        return [Check(name, "ok", "demo mode: the built-in simulator stands in for Spotify")]
    config = SpotifyConfig.from_settings(settings)
    if not (config.client_id and config.client_secret):
        return [
            Check(
                name,
                "fail",
                "set ECHOSTATS_SPOTIFY_CLIENT_ID and ECHOSTATS_SPOTIFY_CLIENT_SECRET from your "
                "app in the Spotify developer dashboard",
            )
        ]
    result = await check_client_credentials(config, http)
    if result.verdict is Verdict.ACCEPTED:
        check = Check(name, "ok", result.detail)
    elif result.verdict is Verdict.REJECTED:
        check = Check(
            name,
            "fail",
            f"{result.detail}: copy both again from the Spotify developer dashboard",
        )
    else:
        check = Check(name, "warn", f"set, but not verified: {result.detail}")
    return [check, _redirect_check(config)]


@contextlib.asynccontextmanager
async def _reachable_store(settings: Settings, checks: list[Check]) -> AsyncIterator[Store | None]:
    """The store if it can be opened without disturbing anything; a ``database`` check either
    way."""
    name = "database"
    if settings.embedded_store:
        if data_dir_in_use(settings.data_dir):
            checks.append(
                Check(
                    name,
                    "warn",
                    "the embedded database is in use by a running EchoStats; stop it to check "
                    f"stored tokens here, or see {settings.base_url}/api/health/ready",
                )
            )
            yield None
            return
        if not EmbeddedServer(settings.data_dir).storage_path.exists():
            checks.append(Check(name, "ok", "no database yet; it is created at first start"))
            yield None
            return
    quick = settings.model_copy(
        update={"store_start_timeout": min(settings.store_start_timeout, STORE_WAIT)}
    )
    async with contextlib.AsyncExitStack() as stack:
        try:
            store = await stack.enter_async_context(open_store(quick))
        except StoreError as exc:
            checks.append(Check(name, "fail", exc.detail))
            yield None
            return
        where = "embedded" if settings.embedded_store else "MongoDB"
        checks.append(Check(name, "ok", f"{where} database {settings.database_name} answers"))
        yield store


def _token_check(report: TokenReport, primary_key: str, base_url: str) -> Check:
    name = f"tokens of {report.user_id}"
    if not report.readable:
        return Check(
            name,
            "fail",
            f"cannot be decrypted with ECHOSTATS_ENCRYPTION_KEYS (sealed with key "
            f"{report.key_id or '?'}): put that key back, or sign in again at {base_url}/",
        )
    if report.reauth_required:
        reason = f" ({report.reason})" if report.reason else ""
        return Check(name, "fail", f"Spotify refused them{reason}: sign in again at {base_url}/")
    if report.key_id != primary_key:
        return Check(
            name, "warn", f"sealed with older key {report.key_id}: run echostats rotate-key"
        )
    expiry = "renewed automatically"
    if report.expires_at is not None:
        when = report.expires_at.astimezone(UTC)
        past = when <= datetime.now(UTC)
        expiry = f"access token {'expired' if past else 'expires'} {when:%Y-%m-%d %H:%M} UTC, "
        expiry += "renewed at next use" if past else "renewed automatically"
    return Check(name, "ok", f"readable with key {report.key_id}; {expiry}")


async def _token_checks(store: Store, cipher: TokenCipher | None, base_url: str) -> list[Check]:
    if cipher is None:
        return [Check("tokens", "skip", "not checked until ECHOSTATS_ENCRYPTION_KEYS is valid")]
    reports = await EncryptedTokenStore(store, cipher).inspect()
    if not reports:
        return [Check("tokens", "ok", f"nobody has connected Spotify yet; sign in at {base_url}/")]
    return [_token_check(r, cipher.primary_key_id, base_url) for r in reports]


async def diagnose(settings: Settings, http: httpx.AsyncClient | None = None) -> list[Check]:
    """Every check, in the order a person would fix things."""
    checks, cipher = _secret_checks(settings)
    checks.append(_data_dir_check(settings.data_dir))
    async with contextlib.AsyncExitStack() as stack:
        if http is None:
            http = await stack.enter_async_context(httpx.AsyncClient())
        checks.extend(await _spotify_checks(settings, http))
    async with _reachable_store(settings, checks) as store:
        if store is not None:
            checks.extend(await _token_checks(store, cipher, settings.base_url))
    return checks
