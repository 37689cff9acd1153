"""Parsing and judging the secrets in the settings: token-encryption keys and the session secret.

Keys are written ``id:base64`` (32 bytes after decoding), comma-separated, newest first. A key that
is short, repetitive or otherwise unlike random bytes is refused: a hand-typed "password" as an
AES key is the kind of mistake that must stop the service, not weaken it silently.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field

from echostats.errors import ConfigError

KEY_BYTES = 32
MIN_SESSION_SECRET_CHARS = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# 32 random bytes have ~4.9 bits/byte of sample entropy on average and almost never below 4.2;
# keys like b"a"*32 or an ASCII phrase fall far below.
_MIN_KEY_ENTROPY_BITS_PER_BYTE = 4.0
_MIN_SECRET_ENTROPY_BITS_PER_CHAR = 3.0


@dataclass(frozen=True)
class KeyRing:
    """Encryption keys by id; ``primary`` encrypts, every key decrypts."""

    primary: str
    keys: dict[str, bytes] = field(repr=False)


def _entropy_per_symbol(data: bytes | str) -> float:
    counts = Counter(data)
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


def looks_random(key: bytes) -> bool:
    return len(key) >= KEY_BYTES and _entropy_per_symbol(key) >= _MIN_KEY_ENTROPY_BITS_PER_BYTE


def parse_key_ring(raw: str, setting: str = "ECHOSTATS_ENCRYPTION_KEYS") -> KeyRing:
    """``"k2:BASE64,k1:BASE64"`` → a ring whose primary is ``k2``. Raises ``ConfigError``."""
    entries = [part.strip() for part in raw.split(",") if part.strip()]
    if not entries:
        raise ConfigError(f"{setting} is not set; generate one with 'echostats generate-secrets'")
    keys: dict[str, bytes] = {}
    for entry in entries:
        key_id, sep, encoded = entry.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ConfigError(f"{setting}: each key must be written id:base64 (e.g. k1:...)")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{setting}: key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ConfigError(
                f"{setting}: key {key_id!r} is {len(key)} bytes; it must be {KEY_BYTES}"
            )
        if not looks_random(key):
            raise ConfigError(
                f"{setting}: key {key_id!r} does not look random; generate one with "
                "'echostats generate-secrets'"
            )
        if key_id in keys:
            raise ConfigError(f"{setting}: key id {key_id!r} appears twice")
        keys[key_id] = key
    return KeyRing(primary=entries[0].partition(":")[0], keys=keys)


def check_session_secret(secret: str, setting: str = "ECHOSTATS_SESSION_SECRET") -> str:
    if not secret:
        raise ConfigError(f"{setting} is not set; generate one with 'echostats generate-secrets'")
    if len(secret) < MIN_SESSION_SECRET_CHARS:
        raise ConfigError(
            f"{setting} is {len(secret)} characters; it must be at least {MIN_SESSION_SECRET_CHARS}"
        )
    if _entropy_per_symbol(secret) < _MIN_SECRET_ENTROPY_BITS_PER_CHAR:
        raise ConfigError(f"{setting} does not look random; generate one")
    return secret


def new_key_entry(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def new_session_secret() -> str:
    return secrets.token_urlsafe(48)
