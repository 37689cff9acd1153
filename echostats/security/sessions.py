"""Session tokens: HS256 JWTs carrying the user id and the user's session version.

The version is what makes logout real: signing out (or "sign out everywhere") bumps the version
stored with the user, and every token minted before that stops being accepted even though its
signature and expiry are still fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "iat", "exp", "ver")


class InvalidSession(Exception):
    """The token is missing, malformed, tampered with, expired, or not signed by us."""


@dataclass(frozen=True)
class SessionClaims:
    user_id: str
    version: int
    issued_at: datetime
    expires_at: datetime


class SessionSigner:
    def __init__(self, secret: str, ttl: timedelta) -> None:
        self._secret = secret
        self.ttl = ttl

    def issue(self, user_id: str, version: int, now: datetime) -> str:
        claims = {"sub": user_id, "ver": version, "iat": now, "exp": now + self.ttl}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> SessionClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],  # never taken from the token: no "alg: none"
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise InvalidSession(str(exc)) from None
        user_id, version = claims["sub"], claims["ver"]
        if not isinstance(user_id, str) or not isinstance(version, int):
            raise InvalidSession("malformed claims")
        return SessionClaims(
            user_id=user_id,
            version=version,
            issued_at=datetime.fromtimestamp(claims["iat"]).astimezone(),
            expires_at=datetime.fromtimestamp(claims["exp"]).astimezone(),
        )
