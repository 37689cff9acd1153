from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from echostats.security.sessions import InvalidSession, SessionSigner

SECRET = "s" * 16 + "0123456789abcdef0123"
NOW = datetime.now(UTC)


def test_issue_and_verify() -> None:
    signer = SessionSigner(SECRET, timedelta(days=1))
    claims = signer.verify(signer.issue("user-1", 3, NOW))
    assert claims.user_id == "user-1"
    assert claims.version == 3
    assert claims.expires_at - claims.issued_at == timedelta(days=1)


def test_expired_token_is_refused() -> None:
    signer = SessionSigner(SECRET, timedelta(seconds=1))
    token = signer.issue("user-1", 1, NOW - timedelta(minutes=5))
    with pytest.raises(InvalidSession, match="expired"):
        signer.verify(token)


def test_wrong_secret_is_refused() -> None:
    token = SessionSigner("another-secret-" * 3, timedelta(days=1)).issue("u", 1, NOW)
    with pytest.raises(InvalidSession):
        SessionSigner(SECRET, timedelta(days=1)).verify(token)


def test_alg_none_is_refused() -> None:
    payload = {"sub": "u", "ver": 1, "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60}

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
    with pytest.raises(InvalidSession):
        SessionSigner(SECRET, timedelta(days=1)).verify(unsigned)


def test_missing_version_claim_is_refused() -> None:
    token = jwt.encode({"sub": "u", "iat": NOW, "exp": NOW + timedelta(hours=1)}, SECRET, "HS256")
    with pytest.raises(InvalidSession, match="ver"):
        SessionSigner(SECRET, timedelta(days=1)).verify(token)
