"""ListenBrainz listens: the submission rules ListenBrainz documents, and listen <-> play."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actors.events import event_of, now_playing_payload
from echostats.domain.dedup import MAX_SPAN, same_play
from echostats.domain.lastfm import HEADERLESS, csv_header, csv_row_to_play, page_track_to_play
from echostats.domain.listens import (
    MAX_LISTEN_SIZE,
    MAX_LISTENS_PER_REQUEST,
    ListenError,
    listen_to_play,
    parse_submission,
    play_to_listen,
    playing_now,
    spotify_id,
)
from echostats.domain.plays import Play, Skip, SkipReason, TimePrecision
from tests.domain.factories import make_play

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
AT = int((NOW - timedelta(hours=1)).timestamp())
TRACK = "4uLU6hMCjMI75M1A2tKUQC"


def _listen(**info: Any) -> dict[str, Any]:
    return {
        "listened_at": AT,
        "track_metadata": {
            "artist_name": "Rick Astley",
            "track_name": "Never Gonna Give You Up",
            "release_name": "Whenever You Need Somebody",
            "additional_info": info,
        },
    }


def _body(listen_type: str, payload: list[Any]) -> bytes:
    return json.dumps({"listen_type": listen_type, "payload": payload}).encode()


def _refused(raw: bytes) -> str:
    with pytest.raises(ListenError) as caught:
        parse_submission(raw, NOW)
    return str(caught.value)


def test_a_documented_submission_is_accepted_and_cleaned() -> None:
    listen = _listen(
        duration_ms="222000", artist_mbids=["", "db92a151-1ac2-438b-bc43-b82e149ddd50"]
    )
    listen["track_metadata"]["track_name"] = "  Never Gonna Give You Up "
    submission = parse_submission(_body("single", [listen]), NOW)
    [checked] = submission.listens
    assert submission.listen_type == "single"
    assert checked["track_metadata"]["track_name"] == "Never Gonna Give You Up"
    info = checked["track_metadata"]["additional_info"]
    assert info == {
        "duration_ms": 222000,
        "artist_mbids": ["db92a151-1ac2-438b-bc43-b82e149ddd50"],
    }


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{nope", "Cannot parse JSON document"),
        (b"[]", "Top level of JSON document should be a json object"),
        (b'{"listen_type": "single"}', "Invalid JSON document submitted."),
        (_body("single", []), "does not contain any listens"),
        (_body("weekly", [_listen()]), "valid listen_type"),
        (_body("single", [_listen(), _listen()]), "should contain only one"),
        (_body("playing_now", [_listen()]), "must not contain listened_at"),
        (_body("single", [{"track_metadata": {}}]), "must contain the key listened_at"),
        (_body("single", [{**_listen(), "listened_at": "soon"}]), "int value for listened_at"),
        (_body("single", [{**_listen(), "listened_at": 1_000_000_000}]), "too low"),
        (_body("single", [{**_listen(), "listened_at": int(NOW.timestamp()) + 3600}]), "too high"),
        (_body("single", [{**_listen(), "extra": 1}]), "only contain listened_at and"),
        (_body("single", [{"listened_at": AT, "track_metadata": None}]), "null value"),
        (
            _body("import", [{"listened_at": AT, "track_metadata": {"artist_name": "A"}}]),
            "track_name",
        ),
        (_body("single", [_listen(duration=1, duration_ms=1000)]), "both duration and"),
        (_body("single", [_listen(duration_ms=-5)]), "duration_ms is invalid"),
        (_body("single", [_listen(duration=10**9)]), "duration is too large"),
        (_body("single", [_listen(recording_mbid="not-a-uuid")]), "recording_mbid MBID format"),
        (_body("single", [_listen(tags=["x"] * 51)]), "more than 50 items"),
        (_body("single", [_listen(tags=["x" * 65])]), "longer than 64 characters"),
        (_body("single", [_listen(media_player="VLC\x00")]), "unicode null"),
    ],
)
def test_listenbrainz_refusals(body: bytes, words: str) -> None:
    assert words in _refused(body)


def test_limits_on_count_and_size() -> None:
    too_many = _body("import", [_listen()] * (MAX_LISTENS_PER_REQUEST + 1))
    assert "Too many listens" in _refused(too_many)
    fat = _listen(comment="x" * (MAX_LISTEN_SIZE + 100))
    assert "JSON document is too large" in _refused(_body("single", [fat]))
    whole = b" " * (MAX_LISTEN_SIZE * MAX_LISTENS_PER_REQUEST + 1)
    assert "Payload too large" in _refused(whole)


@pytest.mark.parametrize(
    "value",
    [
        f"https://open.spotify.com/track/{TRACK}",
        f"http://open.spotify.com/track/{TRACK}?si=abc",
        f"https://open.spotify.com/intl-de/track/{TRACK}",
        f"spotify:track:{TRACK}",
        TRACK,
    ],
)
def test_spotify_ids_in_every_spelling(value: str) -> None:
    assert spotify_id(value) == TRACK


def test_spotify_ids_of_another_kind_or_shape_are_not_tracks() -> None:
    assert spotify_id(f"https://open.spotify.com/album/{TRACK}") is None
    assert spotify_id("https://youtube.com/watch?v=x") is None
    assert spotify_id(42) is None


def _play(listen: dict[str, Any]) -> Play:
    play = listen_to_play(listen, "u1", "scrobble")
    assert isinstance(play, Play)
    return play


def test_a_listen_becomes_a_play_stamped_at_its_start() -> None:
    start = datetime.fromtimestamp(AT, UTC)
    play = _play(_listen(spotify_id=f"https://open.spotify.com/track/{TRACK}", duration_ms=213_573))
    assert (play.track_key, play.track_id) == (f"spotify:track:{TRACK}", TRACK)
    assert (play.started_at, play.ended_at) == (start, start + timedelta(milliseconds=213_573))
    assert (play.ms_played, play.ms_played_estimated, play.duration_ms) == (213_573, True, 213_573)
    assert (play.source, play.precision) == ("scrobble", TimePrecision.START)
    assert play.album_name == "Whenever You Need Somebody"
    # What it says it played wins; with nothing, the play ends where it starts.
    played = _play(_listen(duration=214, duration_played=100))
    assert (played.ms_played, played.ms_played_estimated) == (100_000, False)
    assert played.ended_at == start + timedelta(seconds=100)
    bare = _play(_listen())
    assert (bare.ended_at, bare.ms_played, bare.duration_ms) == (start, 0, None)
    assert bare.track_key == "name:rick astley|never gonna give you up"
    # A day-long "track" still ends within the span dedup searches.
    assert _play(_listen(duration=86_400)).ended_at == start + MAX_SPAN


def test_every_credited_artist_and_their_spotify_ids_are_kept() -> None:
    listen = _listen(
        artist_names=["Calvin Harris", "Dua Lipa"],
        spotify_artist_ids=[
            "https://open.spotify.com/artist/7CajNmpbOovFoOoasH2HaY",
            "https://open.spotify.com/artist/6M2wZ9GZgrQXHCFfjv46we",
        ],
        spotify_album_id="https://open.spotify.com/album/02sEJTUxlFsDCvLGy8pfR0",
    )
    listen["track_metadata"]["artist_name"] = "Calvin Harris, Dua Lipa"
    play = _play(listen)
    assert play.artist_names == ("Calvin Harris", "Dua Lipa")
    assert play.artist_ids == ("7CajNmpbOovFoOoasH2HaY", "6M2wZ9GZgrQXHCFfjv46we")
    assert play.album_id == "02sEJTUxlFsDCvLGy8pfR0"
    assert play.name_key == "name:calvin harris|never gonna give you up"


def test_rows_that_are_no_listen_are_skipped() -> None:
    assert listen_to_play("nope", "u1", "import") == Skip(SkipReason.MALFORMED)
    assert listen_to_play({"track_metadata": {}}, "u1", "import") == Skip(SkipReason.MALFORMED)
    empty = {"listened_at": AT, "track_metadata": {"track_name": " "}}
    assert listen_to_play(empty, "u1", "import") == Skip(SkipReason.NO_TRACK)
    # Exports write listened_at as a float.
    assert isinstance(listen_to_play({**_listen(), "listened_at": AT + 0.0}, "u1", "import"), Play)


def test_a_play_round_trips_through_a_listen() -> None:
    played = make_play(
        artist_names=("Calvin Harris", "Dua Lipa"),
        artist_ids=("7CajNmpbOovFoOoasH2HaY", "6M2wZ9GZgrQXHCFfjv46we"),
        album_id="02sEJTUxlFsDCvLGy8pfR0",
        duration_ms=213_573,
    )
    back = _play(play_to_listen(played))
    assert back.track_key == played.track_key
    assert (back.artist_names, back.artist_ids) == (played.artist_names, played.artist_ids)
    assert (back.album_name, back.album_id) == (played.album_name, played.album_id)
    assert (back.ms_played, back.duration_ms) == (200_000, 213_573)
    assert same_play(played, back)


def test_playing_now_is_a_state_for_the_now_playing_stream() -> None:
    listen = _listen(spotify_id=TRACK, duration_ms=213_573, media_player="Navidrome")
    del listen["listened_at"]
    state = playing_now(listen, NOW)
    event = event_of("now-playing:u1", now_playing_payload(state))
    assert (event.name, event.data) == (
        "now_playing",
        {
            "track": {
                "spotify_id": TRACK,
                "name": "Never Gonna Give You Up",
                "artists": ("Rick Astley",),
                "album": "Whenever You Need Somebody",
                "image_url": None,
            },
            "progress_ms": None,
            "duration_ms": 213_573,
            "is_playing": True,
            "device": "Navidrome",
            "at": NOW,
        },
    )


# --- Last.fm ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "precision", "expected"),
    [
        ("31 Jan 2021 12:34", TimePrecision.START_MINUTE, datetime(2021, 1, 31, 12, 34)),
        ("31 Jan 2021, 12:34", TimePrecision.START_MINUTE, datetime(2021, 1, 31, 12, 34)),
        ("1612096440", TimePrecision.START, datetime(2021, 1, 31, 12, 34)),
        ("2021-01-31T12:34:56Z", TimePrecision.START, datetime(2021, 1, 31, 12, 34, 56)),
        ("2021-01-31 12:34", TimePrecision.START_MINUTE, datetime(2021, 1, 31, 12, 34)),
    ],
)
def test_lastfm_csv_dates(date: str, precision: TimePrecision, expected: datetime) -> None:
    play = csv_row_to_play(["Artist", "Album", "Track", date], HEADERLESS, "u1")
    assert isinstance(play, Play)
    assert (play.started_at, play.precision) == (expected.replace(tzinfo=UTC), precision)
    assert (play.ended_at, play.ms_played) == (play.started_at, 0)


def test_lastfm_csv_rows_that_are_no_scrobble() -> None:
    for row in (
        ["A", "B", "C", "2021-01-31"],
        ["A", "B", "C"],
        ["A", "B", "C", "1 Jan 1999 10:00"],
    ):
        assert csv_row_to_play(row, HEADERLESS, "u1") == Skip(SkipReason.MALFORMED)
    assert csv_row_to_play(["", "B", "C", "1612096440"], HEADERLESS, "u1") == Skip(
        SkipReason.NO_TRACK
    )


def test_lastfm_csv_headers_name_the_columns() -> None:
    header = csv_header(["uts", "utc_time", "artist", "artist_mbid", "album", "track"])
    assert header is not None
    assert (header.artist, header.album, header.track, header.date) == (2, 4, 5, 0)
    assert csv_header(["Rick Astley", "Album", "Track", "31 Jan 2021 12:34"]) is None


def test_lastfm_page_entries() -> None:
    entry = {
        "artist": {"#text": "Rick Astley"},
        "name": "Never Gonna Give You Up",
        "album": {"#text": ""},
        "date": {"uts": "1612096496", "#text": "31 Jan 2021, 12:34"},
    }
    play = page_track_to_play(entry, "u1")
    assert isinstance(play, Play)
    assert play.started_at == datetime(2021, 1, 31, 12, 34, 56, tzinfo=UTC)
    assert (play.album_name, play.precision) == (None, TimePrecision.START)
    playing = {**entry, "@attr": {"nowplaying": "true"}}
    assert page_track_to_play(playing, "u1") == Skip(SkipReason.NO_TRACK)
    assert page_track_to_play({**entry, "date": None}, "u1") == Skip(SkipReason.MALFORMED)
