"""The Spotify client: OAuth, the request pipeline and typed Web API calls."""

from echostats.spotify.client import SpotifyClient
from echostats.spotify.config import SpotifyConfig
from echostats.spotify.oauth import AuthorizationRequest, authorize_url
from echostats.spotify.pkce import code_challenge, generate_state, generate_verifier
from echostats.spotify.records import ApiCallRecord, RecordSink
from echostats.spotify.scopes import SCOPES
from echostats.spotify.tokens import TokenSet, TokenStore

__all__ = [
    "SCOPES",
    "ApiCallRecord",
    "AuthorizationRequest",
    "RecordSink",
    "SpotifyClient",
    "SpotifyConfig",
    "TokenSet",
    "TokenStore",
    "authorize_url",
    "code_challenge",
    "generate_state",
    "generate_verifier",
]
