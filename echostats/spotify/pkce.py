"""PKCE (RFC 7636, S256) and OAuth ``state`` values.

Spotify accepts the authorization code with a client secret alone, but PKCE also binds the code to
the browser session that started the flow, so a leaked code is useless to anyone else.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def generate_verifier(n_bytes: int = 48) -> str:
    """A fresh code verifier: URL-safe, 43-128 characters (48 bytes give 64 characters)."""
    verifier = secrets.token_urlsafe(n_bytes)
    if not _VERIFIER.match(verifier):
        raise ValueError("n_bytes must yield a verifier of 43 to 128 characters (32..96 bytes)")
    return verifier


def code_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding, as the S256 method defines it."""
    if not _VERIFIER.match(verifier):
        raise ValueError("a PKCE code verifier has 43 to 128 characters of [A-Za-z0-9-._~]")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_state() -> str:
    """An unguessable single-use ``state`` value (CSRF protection for the callback)."""
    return secrets.token_urlsafe(32)
