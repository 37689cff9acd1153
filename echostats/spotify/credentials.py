"""Does Spotify accept the app's client id and secret? One token request, for ``doctor``.

A client-credentials grant authenticates the app without any user. Spotify checks the client
first, so ``invalid_client`` means the id or secret is wrong, while any other answer about the
grant itself (an app barred from this grant, say) still proves they were accepted. Nothing of
the answer is kept or shown but its verdict.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import httpx

from echostats.spotify.config import SpotifyConfig
from echostats.spotify.transport import TOKEN_ENDPOINT

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class CredentialCheck:
    verdict: Verdict
    detail: str


async def check_client_credentials(
    config: SpotifyConfig, http: httpx.AsyncClient
) -> CredentialCheck:
    url = config.accounts_url + TOKEN_ENDPOINT
    try:
        response = await http.post(
            url,
            data={"grant_type": "client_credentials"},
            auth=(config.client_id, config.client_secret),
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        return CredentialCheck(
            Verdict.UNREACHABLE, f"{config.accounts_url} did not answer ({type(exc).__name__})"
        )
    if response.is_success:
        return CredentialCheck(Verdict.ACCEPTED, "Spotify accepted the client id and secret")
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if error == "invalid_client":
        return CredentialCheck(Verdict.REJECTED, "Spotify rejected the client id or secret")
    if isinstance(error, str) and response.status_code < 500:
        return CredentialCheck(Verdict.ACCEPTED, "Spotify accepted the client id and secret")
    return CredentialCheck(
        Verdict.UNREACHABLE,
        f"Spotify's token service answered {response.status_code}; try again later",
    )
