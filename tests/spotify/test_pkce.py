from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echostats.spotify import SCOPES, SpotifyConfig, authorize_url
from echostats.spotify.pkce import code_challenge, generate_state, generate_verifier

# RFC 7636, appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc7636_appendix_b_vector() -> None:
    assert code_challenge(RFC_VERIFIER) == RFC_CHALLENGE


@given(st.integers(min_value=32, max_value=96))
def test_generated_verifiers_are_valid_and_unpadded(n_bytes: int) -> None:
    verifier = generate_verifier(n_bytes)
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)
    challenge = code_challenge(verifier)
    assert len(challenge) == 43
    assert "=" not in challenge


@pytest.mark.parametrize("n_bytes", [16, 31, 97])
def test_verifier_length_outside_the_rfc_range_is_refused(n_bytes: int) -> None:
    with pytest.raises(ValueError):
        generate_verifier(n_bytes)


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "!", ""])
def test_challenge_refuses_invalid_verifiers(verifier: str) -> None:
    with pytest.raises(ValueError):
        code_challenge(verifier)


def test_states_and_verifiers_are_unique() -> None:
    assert len({generate_state() for _ in range(200)}) == 200
    assert len({generate_verifier() for _ in range(200)}) == 200


def test_authorize_url_carries_pkce_state_and_every_scope() -> None:
    config = SpotifyConfig(
        client_id="cid",
        client_secret="shh",
        redirect_uri="http://127.0.0.1:8000/api/v1/auth/callback",
        accounts_url="http://accounts.test/",
    )
    url = authorize_url(config, state="st4te", challenge=RFC_CHALLENGE)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://accounts.test/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "client_id": "cid",
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1:8000/api/v1/auth/callback",
        "state": "st4te",
        "scope": " ".join(SCOPES),
        "code_challenge_method": "S256",
        "code_challenge": RFC_CHALLENGE,
    }
    assert "shh" not in url


def test_scopes_cover_every_feature() -> None:
    needed = {
        "user-read-recently-played",
        "user-read-currently-playing",
        "user-read-playback-state",
        "user-modify-playback-state",
        "user-top-read",
        "playlist-read-private",
        "playlist-read-collaborative",
        "user-library-read",
        "user-follow-read",
        "user-read-private",
        "user-read-email",
    }
    assert needed <= set(SCOPES)
    assert len(SCOPES) == len(set(SCOPES))
