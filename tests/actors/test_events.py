from __future__ import annotations

import enum
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from actors.bridge import from_document, to_document
from actors.events import (
    Event,
    Idle,
    NowPlayingChanged,
    PlayingTrack,
    PlayRecorded,
    StatsRebuilt,
    StatsUpdated,
    encode_data,
    event_of,
    now_playing_payload,
    read_now_playing,
)
from echostats.domain.polling import NowPlaying


class Step(enum.Enum):
    FETCH = "fetch"


def test_datetimes_are_iso_utc_with_z() -> None:
    paris = timezone(timedelta(hours=2))
    encoded = encode_data(
        {
            "at": datetime(2026, 5, 1, 14, 30, 5, 123456, tzinfo=paris),
            "day": date(2026, 5, 1),
            "step": Step.FETCH,
            "n": 3,
        }
    )
    assert json.loads(encoded) == {
        "at": "2026-05-01T12:30:05.123Z",
        "day": "2026-05-01",
        "step": "fetch",
        "n": 3,
    }
    assert "\n" not in encoded


def test_naive_datetimes_and_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError, match="naive"):
        encode_data({"at": datetime(2026, 5, 1)})
    with pytest.raises(TypeError, match="set"):
        encode_data({"ids": {1, 2}})


def test_event_json_is_the_encoded_data() -> None:
    event = Event("stats:u1", "stats_updated", {"at": datetime(2026, 1, 1, tzinfo=UTC)})
    assert event.json == '{"at":"2026-01-01T00:00:00.000Z"}'
    assert event.id == 0


def test_typed_payloads_make_the_events_browsers_know() -> None:
    """Field for field the JSON the dashboard reads (it predates the typed payloads)."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    updated = event_of("stats:u1", StatsUpdated(("day", "week"), ("2026-01-01",)))
    assert (updated.topic, updated.name) == ("stats:u1", "stats_updated")
    assert updated.json == '{"periods":["day","week"],"days":["2026-01-01"]}'
    rebuilt = event_of("stats:u1", StatsRebuilt(("week", "all_time")))
    assert rebuilt.name == "stats_updated"
    assert rebuilt.json == '{"periods":["week","all_time"],"rebuilt":true}'
    recorded = event_of("now-playing:u1", PlayRecorded("t1", "Song", ("A", "B"), at, 1000, False))
    assert recorded.name == "play_recorded"
    assert json.loads(recorded.json) == {
        "track_id": "t1",
        "track_name": "Song",
        "artists": ["A", "B"],
        "ended_at": "2026-01-01T00:00:00.000Z",
        "ms_played": 1000,
        "ms_played_estimated": False,
    }
    idle = event_of("now-playing:u1", Idle(at))
    assert (idle.name, idle.json) == ("idle", '{"at":"2026-01-01T00:00:00.000Z"}')


PLAYING = NowPlaying(
    track_id="t1",
    track_name="Song",
    artists=("A", "B"),
    album="Album",
    image_url=None,
    progress_ms=1_500,
    duration_ms=200_000,
    is_playing=True,
    device="Phone",
    at=datetime(2026, 1, 1, tzinfo=UTC),
)


def test_the_now_playing_state_keeps_its_wire_format() -> None:
    """Byte for byte the ``now_playing`` event the dashboard (``web/static/js``) reads."""
    event = event_of("now-playing:u1", now_playing_payload(PLAYING))
    assert event.name == "now_playing"
    assert event.json == (
        '{"track":{"spotify_id":"t1","name":"Song","artists":["A","B"],"album":"Album",'
        '"image_url":null},"progress_ms":1500,"duration_ms":200000,"is_playing":true,'
        '"device":"Phone","at":"2026-01-01T00:00:00.000Z"}'
    )
    idle = NowPlaying(None, None, (), None, None, None, None, False, None, PLAYING.at)
    assert now_playing_payload(idle) == Idle(PLAYING.at)


def test_a_now_playing_state_reads_back_typed_even_when_bridged() -> None:
    payload = now_playing_payload(PLAYING)
    assert isinstance(payload, NowPlayingChanged)
    assert payload.track == PlayingTrack("t1", "Song", ("A", "B"), "Album", None)
    local = event_of("now-playing:u1", payload)
    assert read_now_playing(local) == payload
    # From another replica: the data went through JSON (lists, an ISO time).
    bridged = from_document(to_document(local, "other", PLAYING.at))
    assert read_now_playing(bridged) == payload
    assert read_now_playing(event_of("now-playing:u1", Idle(PLAYING.at))) is None
