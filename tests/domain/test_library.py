"""Library and catalog shaping, the enricher's ranking and its hourly budget (pure)."""

from __future__ import annotations

from typing import Any

from echostats.domain.library import (
    RequestBudget,
    Wanted,
    catalog_artist,
    name_key,
    playlist_document,
    playlist_entry,
    plays_from_recent,
    rank_wanted,
)


def test_rank_wanted_most_shown_first_and_skips_known() -> None:
    plays: list[dict[str, Any]] = [
        {"track_id": "t1", "artist_ids": ["a1"], "album_id": "al1"},
        {"track_id": "t1", "artist_ids": ["a1", "a2"], "album_id": "al1"},
        {"track_id": "t2", "artist_ids": ["a1"], "album_id": None},
    ]
    wanted = rank_wanted(plays, {"albums": {"al1"}}, limit=3)
    assert wanted == [
        Wanted("artists", "a1", 3),
        Wanted("tracks", "t1", 2),
        Wanted("tracks", "t2", 1),
    ]
    assert rank_wanted(plays, {}, limit=0) == []


def test_budget_is_a_rolling_hour() -> None:
    budget = RequestBudget(2)
    budget.spend(0)
    budget.spend(10)
    assert budget.remaining(20) == 0
    assert budget.wait(20) == 3580
    assert budget.remaining(3600) == 1
    assert budget.wait(3600) == 0


def test_playlist_documents() -> None:
    raw = {
        "id": "p1",
        "name": "  Road   TRIP ",
        "owner": {"id": "me", "display_name": "Me"},
        "collaborative": False,
        "snapshot_id": "s1",
        "images": [
            {"url": "small", "width": 60, "height": 60},
            {"url": "big", "width": 640, "height": 640},
        ],
        "items": {"total": 3},
    }
    doc = playlist_document(raw, user_spotify_id="me")
    assert (doc["owned"], doc["with_items"], doc["name_key"]) == (True, True, "road trip")
    assert doc["image_url"] == "big"
    other = playlist_document({**raw, "owner": {"id": "x"}}, user_spotify_id="me")
    assert (other["owned"], other["with_items"]) == (False, False)
    assert playlist_entry({"item": None}, 0) is None
    entry = playlist_entry(
        {"item": {"id": "t", "name": "T", "type": "track"}, "is_local": False}, 4
    )
    assert entry is not None
    assert (entry["position"], entry["spotify_id"]) == (4, "t")
    assert name_key("Ünïcode  X") == "ünïcode x"


def test_genres_are_unknown_not_empty() -> None:
    assert catalog_artist({"name": "A", "genres": []})["genres"] is None
    assert catalog_artist({"name": "A", "genres": ["jazz"]})["genres"] == ["jazz"]


def test_plays_from_recent_estimates_from_the_gap() -> None:
    items = [
        {"track": {"id": "b", "name": "B", "duration_ms": 200_000, "artists": []},
         "played_at": "2026-10-01T12:03:00Z"},
        {"track": {"name": ""}, "played_at": "2026-10-01T12:02:00Z"},
        {"track": {"id": "a", "name": "A", "duration_ms": 300_000, "artists": []},
         "played_at": "2026-10-01T12:01:00Z"},
    ]  # fmt: skip
    plays = plays_from_recent(items, "u")
    assert [p.track_id for p in plays] == ["b", "a"]
    assert plays[0].ms_played == 200_000  # duration is shorter than the gap to a bad item
    assert plays[1].ms_played == 300_000
    assert all(p.ms_played_estimated for p in plays)
