from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from echostats.spotify.records import MAX_ERROR_CHARS, REDACTED, scrub


def test_known_secrets_are_removed() -> None:
    text = "400: refresh token AQCsecretvalue123 is invalid for client topsecret"
    out = scrub(text, ["AQCsecretvalue123", "topsecret", ""])
    assert "AQCsecretvalue123" not in out
    assert "topsecret" not in out
    assert out.count(REDACTED) == 2


def test_credential_shapes_are_removed() -> None:
    text = (
        "Authorization: Bearer BQabc.def-123 Basic Y2lkOnNlY3JldA== "
        "grant_type=refresh_token&refresh_token=AQxyz&code=AQcode&code_verifier=v3r "
        '{"access_token": "BQjson", "client_secret":"s3"}'
    )
    out = scrub(text)
    for secret in ("BQabc", "Y2lkOnNlY3JldA", "AQxyz", "AQcode", "v3r", "BQjson", "s3"):
        assert secret not in out, secret
    assert "grant_type=refresh_token" in out  # harmless text survives


@given(st.text(max_size=2000))
def test_output_is_bounded(text: str) -> None:
    assert len(scrub(text)) <= MAX_ERROR_CHARS


@given(st.text(alphabet="abcdefXYZ0123456789", min_size=8, max_size=40), st.text(max_size=500))
def test_a_known_secret_never_survives(secret: str, noise: str) -> None:
    out = scrub(noise + secret + noise, [secret])
    assert secret not in out
