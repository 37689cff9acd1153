from __future__ import annotations

import base64
import re

import pytest

from echostats.errors import ConfigError
from echostats.security.crypto import NONCE_BYTES, DecryptionError, Sealed, TokenCipher
from echostats.security.keys import (
    check_session_secret,
    new_key_entry,
    new_session_secret,
    parse_key_ring,
)


def _entry(key_id: str, key: bytes) -> str:
    return f"{key_id}:{base64.b64encode(key).decode()}"


def test_seal_and_open_round_trip_with_fresh_nonces() -> None:
    cipher = TokenCipher(parse_key_ring(new_key_entry("k1")))
    first = cipher.seal("BQD-access-token", "user-a")
    second = cipher.seal("BQD-access-token", "user-a")
    assert first.key_id == "k1"
    assert len(base64.b64decode(first.nonce)) == NONCE_BYTES
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext
    assert cipher.open(first, "user-a") == "BQD-access-token"
    assert "BQD" not in first.ciphertext


def test_ciphertext_of_another_user_does_not_decrypt() -> None:
    cipher = TokenCipher(parse_key_ring(new_key_entry("k1")))
    sealed = cipher.seal("secret", "user-a")
    with pytest.raises(DecryptionError):
        cipher.open(sealed, "user-b")


def test_tampered_ciphertext_does_not_decrypt() -> None:
    cipher = TokenCipher(parse_key_ring(new_key_entry("k1")))
    sealed = cipher.seal("secret", "u")
    raw = bytearray(base64.b64decode(sealed.ciphertext))
    raw[0] ^= 1
    tampered = Sealed(sealed.key_id, sealed.nonce, base64.b64encode(bytes(raw)).decode())
    with pytest.raises(DecryptionError):
        cipher.open(tampered, "u")


def test_rotation_ring_decrypts_old_and_encrypts_new() -> None:
    old = new_key_entry("k1")
    sealed_old = TokenCipher(parse_key_ring(old)).seal("t", "u")
    rotated = TokenCipher(parse_key_ring(f"{new_key_entry('k2')},{old}"))
    assert rotated.primary_key_id == "k2"
    assert rotated.open(sealed_old, "u") == "t"
    assert rotated.seal("t", "u").key_id == "k2"
    with pytest.raises(DecryptionError, match="no key"):
        TokenCipher(parse_key_ring(new_key_entry("k3"))).open(sealed_old, "u")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "not set"),
        ("k1:" + base64.b64encode(b"short").decode(), "5 bytes"),
        (_entry("k1", b"a" * 32), "does not look random"),
        (_entry("k1", b"correct horse battery staple!!!!"), "does not look random"),
        ("k1:not base64!!", "not valid base64"),
        ("nokeyid", "id:base64"),
        # Fresh keys, so a fixed id: every xdist worker must collect the same test ids.
        pytest.param(
            f"{new_key_entry('k1')},{new_key_entry('k1')}",
            "appears twice",
            id="k1,k1-appears twice",
        ),
    ],
)
def test_weak_or_malformed_keys_are_refused(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_key_ring(raw)


@pytest.mark.parametrize(
    ("secret", "message"),
    [("", "not set"), ("x" * 10, "at least 32"), ("ab" * 20, "does not look random")],
)
def test_weak_session_secrets_are_refused(secret: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_session_secret(secret)


def test_generated_secrets_pass_the_checks() -> None:
    for _ in range(50):
        parse_key_ring(new_key_entry("k"))
        check_session_secret(new_session_secret())
