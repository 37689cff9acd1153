"""Secrets that people paste into other programs (scrobble tokens, sign-in links).

They are random enough (122 bits) that a plain SHA-256 is a safe way to keep them: the store
holds only the digest, a lookup is one indexed read, and a leaked database yields nothing to
sign in with. Scrobble tokens look like ListenBrainz's own (a UUID), so a client that checks
the shape of a ListenBrainz token accepts ours.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid


def new_secret() -> str:
    """A fresh secret in ListenBrainz's token shape: a random (version 4) UUID."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def digest(secret: str) -> str:
    """What is stored in place of ``secret``."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()
