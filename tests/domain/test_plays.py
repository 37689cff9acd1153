from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echostats.domain.plays import (
    Play,
    TimePrecision,
    album_key,
    artist_key,
    from_document,
    name_key,
    normalise_name,
    to_document,
    track_key,
)
from tests.domain.factories import make_play


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Beyoncé", "BEYONCE"),
        ("Sigur  Rós", "sigur ros"),
        ("  Motörhead\t", "motorhead"),
        ("\uff21\uff22\uff22\uff21", "abba"),  # full-width letters (NFKC)
        ("Straße", "STRASSE"),  # casefold, not lower
        ("Ǆ", "dž"),
    ],
)
def test_normalise_name_equates_spellings(left: str, right: str) -> None:
    assert normalise_name(left) == normalise_name(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Yesterday - Remastered 2009", "Yesterday"),
        ("Song (feat. X)", "Song"),
        ("AC/DC", "ACDC"),
    ],
)
def test_normalise_name_keeps_real_differences(left: str, right: str) -> None:
    assert normalise_name(left) != normalise_name(right)


def test_keys() -> None:
    assert name_key("Sigur Rós", "Hoppípolla") == "name:sigur ros|hoppipolla"
    assert track_key("abc", "x", "y") == "spotify:track:abc"
    assert track_key(None, "Sigur Rós", "Hoppípolla") == "name:sigur ros|hoppipolla"
    assert artist_key("a1", "Whoever") == "spotify:artist:a1"
    assert artist_key(None, "Björk") == "name:bjork"
    assert album_key(None, "Greatest Hits", "Queen") == "name:queen|greatest hits"
    assert album_key("al1", "Greatest Hits", "Queen") == "spotify:album:al1"


def test_name_key_property_ignores_track_id() -> None:
    play = make_play(track_id="zzz", artist="Björk", track_name="Jóga")
    assert play.track_key == "spotify:track:zzz"
    assert play.name_key == "name:bjork|joga"


def test_document_round_trip_keeps_every_field() -> None:
    play = make_play(
        artist_names=("A", "B"),
        artist_ids=("ia", "ib"),
        album_id="al",
        duration_ms=1234,
        source="poll",
        precision=TimePrecision.MILLISECOND,
        context_type="playlist",
        context_uri="spotify:playlist:x",
        platform="android",
        shuffle=True,
        skipped=False,
        offline=None,
        incognito=False,
        reason_start="clickrow",
        reason_end="trackdone",
        conn_country="DE",
        video=True,
        ms_played_estimated=True,
    )
    document = to_document(play)
    assert document["artist_names"] == ["A", "B"]
    assert document["precision"] == "ms"
    assert isinstance(document["ended_at"], datetime)
    assert from_document({**document, "_id": "ignored"}) == play


def test_from_document_fills_defaults_and_makes_naive_utc() -> None:
    play = make_play()
    document = to_document(play)
    for optional in ("platform", "shuffle", "video", "conn_country"):
        del document[optional]
    document["ended_at"] = play.ended_at.replace(tzinfo=None)
    document["started_at"] = play.started_at.astimezone(timezone(timedelta(hours=2)))
    restored = from_document(document)
    assert restored == play
    assert restored.ended_at.tzinfo is UTC


def test_from_document_rejects_missing_time() -> None:
    document = to_document(make_play())
    document["ended_at"] = "2024-01-01"
    with pytest.raises(TypeError):
        from_document(document)


@given(
    artists=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3),
    name=st.text(max_size=10),
    ms=st.integers(min_value=0, max_value=10**8),
    ended=st.datetimes(
        min_value=datetime(2008, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
)
def test_document_round_trip_property(
    artists: list[str], name: str, ms: int, ended: datetime
) -> None:
    ended = ended.replace(microsecond=ended.microsecond // 1000 * 1000)  # BSON keeps ms
    play = make_play(
        artist_names=tuple(artists),
        artist="x",
        track_name=name,
        ended_at=ended,
        ms_played=ms,
    )
    assert isinstance(play, Play)
    assert from_document(to_document(play)) == play
