"""Security objects built from the settings, refusing weak or missing secrets."""

from __future__ import annotations

from datetime import timedelta

from echostats.security.crypto import TokenCipher
from echostats.security.keys import check_session_secret, parse_key_ring
from echostats.security.sessions import SessionSigner
from echostats.settings import Settings


def token_cipher(settings: Settings) -> TokenCipher:
    return TokenCipher(parse_key_ring(settings.encryption_keys.get_secret_value()))


def session_signer(settings: Settings) -> SessionSigner:
    secret = check_session_secret(settings.session_secret.get_secret_value())
    return SessionSigner(secret, timedelta(days=settings.session_ttl_days))
