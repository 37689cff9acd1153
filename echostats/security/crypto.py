"""Spotify tokens encrypted at rest: AES-256-GCM, a fresh 96-bit nonce per encryption, the user id
as associated data (a ciphertext copied to another user's record does not decrypt) and the key id
stored beside it so keys can be rotated without a flag day.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from echostats.security.keys import KeyRing

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The ciphertext does not decrypt: wrong user, unknown key, or tampered data."""


@dataclass(frozen=True)
class Sealed:
    """What is stored: key id, nonce and ciphertext (with the GCM tag), base64 for portability."""

    key_id: str
    nonce: str
    ciphertext: str

    def as_document(self) -> dict[str, str]:
        return {"kid": self.key_id, "nonce": self.nonce, "ct": self.ciphertext}

    @classmethod
    def from_document(cls, doc: dict[str, str]) -> Sealed:
        return cls(key_id=doc["kid"], nonce=doc["nonce"], ciphertext=doc["ct"])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class TokenCipher:
    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._aead = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    @property
    def primary_key_id(self) -> str:
        return self._ring.primary

    def seal(self, plaintext: str, user_id: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        aead = self._aead[self._ring.primary]
        ciphertext = aead.encrypt(nonce, plaintext.encode(), user_id.encode())
        return Sealed(self._ring.primary, _b64(nonce), _b64(ciphertext))

    def open(self, sealed: Sealed, user_id: str) -> str:
        aead = self._aead.get(sealed.key_id)
        if aead is None:
            raise DecryptionError(f"no key with id {sealed.key_id!r} is configured")
        try:
            plaintext = aead.decrypt(
                base64.b64decode(sealed.nonce),
                base64.b64decode(sealed.ciphertext),
                user_id.encode(),
            )
        except (InvalidTag, ValueError):
            raise DecryptionError("the token does not decrypt for this user") from None
        return plaintext.decode()
