"""Authorization codes, grants, refresh and access tokens of the simulated accounts service.

Pure bookkeeping (no HTTP): ``accounts.py`` turns these rules into Spotify's exact responses.
A *grant* is one user authorization; refresh tokens hang off it and die with it six months after
the original consent, however often they are used (Spotify's 2026 rule).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from echostats.simulator import names

ACCESS_TTL_S = 3600
CODE_TTL_MS = 10 * 60_000
REFRESH_LIFETIME_MS = 183 * 86_400_000  # "6 months from the original authorization"

ALL_SCOPES = (
    "app-remote-control",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-public",
    "playlist-modify-private",
    "user-library-read",
    "user-library-modify",
    "user-read-private",
    "user-read-email",
    "user-follow-read",
    "user-follow-modify",
    "user-top-read",
    "user-read-playback-position",
    "user-read-playback-state",
    "user-read-recently-played",
    "user-read-currently-playing",
    "user-modify-playback-state",
    "ugc-image-upload",
    "streaming",
)


class GrantError(Exception):
    """The token endpoint must answer ``invalid_grant`` with this description."""


@dataclass
class AuthCode:
    code: str
    user_id: str
    scope: str
    redirect_uri: str
    code_challenge: str | None
    expires_ms: int
    used: bool = False


@dataclass
class Grant:
    user_id: str
    scope: str
    authorized_ms: int
    pkce: bool
    revoked: bool = False
    expired: bool = False
    live_refresh: set[str] = field(default_factory=set)


@dataclass
class AccessToken:
    user_id: str | None  # None: an app token (client credentials), no user behind it
    scope: frozenset[str]
    expires_ms: int


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class TokenStore:
    def __init__(self, seed: int, refresh_rotation: str) -> None:
        if refresh_rotation not in ("always", "never", "seeded"):
            raise ValueError("refresh_rotation must be 'always', 'never' or 'seeded'")
        self._rng = names.seeded(f"tokens:{seed}")
        self.refresh_rotation = refresh_rotation
        self.codes: dict[str, AuthCode] = {}
        self.grants: list[Grant] = []
        self.refresh: dict[str, Grant] = {}
        self.access: dict[str, AccessToken] = {}

    def _token(self, prefix: str, length: int) -> str:
        return prefix + names.base62_id(self._rng, length)

    def new_code(
        self, user_id: str, scope: str, redirect_uri: str, challenge: str | None, now_ms: int
    ) -> str:
        code = self._token("AQ", 96)
        self.codes[code] = AuthCode(
            code, user_id, scope, redirect_uri, challenge, now_ms + CODE_TTL_MS
        )
        return code

    def redeem_code(
        self, code: str, redirect_uri: str | None, verifier: str | None, now_ms: int
    ) -> AuthCode:
        entry = self.codes.get(code)
        if entry is None or entry.used or entry.expires_ms <= now_ms:
            raise GrantError("Invalid authorization code")
        if redirect_uri != entry.redirect_uri:
            raise GrantError("Invalid redirect URI")
        challenge = entry.code_challenge
        if challenge is not None and (verifier is None or s256(verifier) != challenge):
            raise GrantError("code_verifier was incorrect")
        entry.used = True
        return entry

    def authorize(self, user_id: str, scope: str, now_ms: int, *, pkce: bool) -> dict[str, object]:
        grant = Grant(user_id=user_id, scope=scope, authorized_ms=now_ms, pkce=pkce)
        self.grants.append(grant)
        refresh = self._new_refresh(grant)
        return self._response(grant, now_ms, refresh)

    def _new_refresh(self, grant: Grant) -> str:
        token = self._token("AQ", 96)
        grant.live_refresh.add(token)
        self.refresh[token] = grant
        return token

    def refresh_grant(self, token: str, now_ms: int) -> dict[str, object]:
        grant = self.refresh.get(token)
        if grant is None or token not in grant.live_refresh:
            raise GrantError("Invalid refresh token")
        if grant.revoked:
            raise GrantError("Refresh token revoked")
        if grant.expired or now_ms >= grant.authorized_ms + REFRESH_LIFETIME_MS:
            raise GrantError("Refresh token expired")
        rotate = (
            grant.pkce
            or self.refresh_rotation == "always"
            or (self.refresh_rotation == "seeded" and self._rng.random() < 0.5)
        )
        new_refresh: str | None = None
        if rotate:
            new_refresh = self._new_refresh(grant)
            if grant.pkce:
                # PKCE refresh tokens are single-use: only the newest one works.
                grant.live_refresh.discard(token)
        return self._response(grant, now_ms, new_refresh)

    def app_token(self, now_ms: int) -> dict[str, object]:
        """The client-credentials answer: an app token for catalog calls, no scope, no refresh."""
        access = self._token("BQ", 120)
        self.access[access] = AccessToken(None, frozenset(), now_ms + ACCESS_TTL_S * 1000)
        return {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL_S}

    def _response(self, grant: Grant, now_ms: int, refresh: str | None) -> dict[str, object]:
        access = self._token("BQ", 120)
        self.access[access] = AccessToken(
            grant.user_id, frozenset(grant.scope.split()), now_ms + ACCESS_TTL_S * 1000
        )
        body: dict[str, object] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL_S,
            "scope": grant.scope,
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return body

    def user_grants(self, user_id: str) -> list[Grant]:
        return [g for g in self.grants if g.user_id == user_id]
