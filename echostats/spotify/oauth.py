"""Spotify OAuth: the authorize URL, the code exchange and the refresh grant.

Authorization code flow with PKCE (S256) *and* the client secret (Basic auth): the secret proves
the app, the verifier proves the browser that started the flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from echostats.spotify.config import SpotifyConfig
from echostats.spotify.pkce import code_challenge, generate_state, generate_verifier
from echostats.spotify.scopes import SCOPES
from echostats.spotify.tokens import TokenSet, token_set_from_response
from echostats.spotify.transport import SpotifyTransport


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, plus what the callback must check (``state``) and send back
    (``code_verifier``). Both are kept server-side, never shown to the browser or logged."""

    url: str
    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


def authorize_url(
    config: SpotifyConfig,
    *,
    state: str,
    challenge: str,
    scopes: tuple[str, ...] = SCOPES,
    show_dialog: bool = False,
) -> str:
    query = {
        "client_id": config.client_id,
        "response_type": "code",
        "redirect_uri": config.redirect_uri,
        "state": state,
        "scope": " ".join(scopes),
        "code_challenge_method": "S256",
        "code_challenge": challenge,
    }
    if show_dialog:
        query["show_dialog"] = "true"
    return f"{config.accounts_url}/authorize?{urlencode(query)}"


class SpotifyOAuth:
    def __init__(self, transport: SpotifyTransport, now: Callable[[], datetime]) -> None:
        self._transport = transport
        self._config = transport.config
        self._now = now

    def begin(self, *, show_dialog: bool = False) -> AuthorizationRequest:
        """Fresh state and verifier, and the authorize URL that carries them."""
        state, verifier = generate_state(), generate_verifier()
        url = authorize_url(
            self._config, state=state, challenge=code_challenge(verifier), show_dialog=show_dialog
        )
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    async def exchange_code(
        self, code: str, code_verifier: str, *, user_id: str | None = None
    ) -> TokenSet:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._config.redirect_uri,
            "code_verifier": code_verifier,
        }
        payload = await self._transport.call_token_endpoint(
            user_id, form, secrets=(code, code_verifier)
        )
        return token_set_from_response(payload, self._now())

    async def refresh(self, user_id: str, tokens: TokenSet) -> TokenSet:
        """A new access token; keeps the old refresh token and scope when Spotify sends none."""
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        payload = await self._transport.call_token_endpoint(
            user_id, form, secrets=(tokens.refresh_token, tokens.access_token)
        )
        return token_set_from_response(payload, self._now(), previous=tokens)
