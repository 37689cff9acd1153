from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from echostats.domain.plays import TimePrecision
from echostats.domain.recent import BadHistoryItem, play_from_history_item

SAMPLES = Path(__file__).parent.parent / "data" / "samples"


def _json(name: str) -> dict[str, Any]:
    data = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_recently_played_sample() -> None:
    page = _json("api_recently_played.json")
    plays = [play_from_history_item(i, "u1", ms_played=238_000) for i in page["items"]]
    assert len(plays) == 1
    play = plays[0]
    assert play.track_key == "spotify:track:02MWAaffLxlfxAUY7c5dvx"
    assert (play.track_name, play.artist_names, play.artist_ids) == (
        "Heat Waves",
        ("Glass Animals",),
        ("4yvcSjfu4PC0CYQyLy4wSq",),
    )
    assert (play.album_name, play.album_id) == (
        "Dreamland (+ Bonus Levels)",
        "0KTj6k94XZh0c6IEMfxeWV",
    )
    assert play.ended_at == datetime(2021, 10, 25, 5, 13, 13, 658000, tzinfo=UTC)
    assert play.started_at == play.ended_at - timedelta(milliseconds=238_000)
    assert (play.duration_ms, play.context_type, play.context_uri) == (238805, None, None)
    assert (play.source, play.precision, play.ms_played_estimated) == (
        "poll",
        TimePrecision.MILLISECOND,
        True,
    )


def test_two_artist_sample_with_playlist_context() -> None:
    play = play_from_history_item(
        _json("api_play_history_item_two_artists.json"), "u1", ms_played=243_480, estimated=False
    )
    assert play.track_id == "6bnmRsdxYacqLSlS36EJT6"
    assert play.artist_names == ("Robert Plant", "Alison Krauss")
    assert play.artist_ids == ("1OwarW4LEHnoep20ixRA0y", "5J6L7N6B4nI1M5cwa29mQG")
    assert (play.album_name, play.album_id) == ("Raising Sand", "3Z5nkL4z2Tsa3b79vv6LXb")
    assert play.context_type == "playlist"
    assert play.context_uri == "spotify:user:spotify:playlist:37i9dQZEVXcT0vULPoxsJt"
    assert play.ended_at == datetime(2018, 2, 21, 19, 15, 3, 665000, tzinfo=UTC)
    assert play.ms_played_estimated is False


def test_local_track_gets_a_name_key() -> None:
    item = {
        "track": {
            "name": "Demo",
            "is_local": True,
            "id": None,
            "artists": [{"name": "Me", "id": None}],
        },
        "played_at": "2024-01-01T00:00:00.000Z",
    }
    play = play_from_history_item(item, "u", ms_played=1)
    assert (play.track_id, play.track_key, play.artist_ids) == (None, "name:me|demo", ())


@pytest.mark.parametrize(
    "item",
    [
        {"played_at": "2024-01-01T00:00:00Z"},
        {"track": {"name": ""}, "played_at": "2024-01-01T00:00:00Z"},
        {"track": {"name": "x"}, "played_at": "2024-01-01T00:00:00"},
        {"track": {"name": "x"}, "played_at": "soon"},
        {"track": {"name": "x"}},
    ],
)
def test_bad_items(item: dict[str, Any]) -> None:
    with pytest.raises(BadHistoryItem):
        play_from_history_item(item, "u", ms_played=1)
