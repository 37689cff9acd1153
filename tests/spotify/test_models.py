"""Parsing of real Spotify answers and of every tolerated deviation SPOTIFY.md lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from echostats.spotify.models import (
    Album,
    Artist,
    Episode,
    FollowedArtists,
    Paging,
    Playlist,
    SearchResults,
    SimplifiedPlaylist,
    Track,
    User,
)
from echostats.spotify.player_models import (
    CurrentlyPlaying,
    PlaybackState,
    PlayHistory,
    Queue,
    RecentlyPlayed,
)

SAMPLES = Path(__file__).parent.parent / "data" / "samples"


def load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def test_real_recently_played_sample() -> None:
    page = RecentlyPlayed.model_validate(load("api_recently_played.json"))
    assert page.cursors is not None
    assert page.cursors.after == "1635138793658"
    assert page.limit == 1
    assert page.total is None
    (play,) = page.items
    assert play.context is None
    assert play.played_at.tzinfo is not None
    assert play.played_at.microsecond == 658000
    assert play.track.id
    assert play.track.album
    assert play.track.album.name
    assert play.track.external_ids
    assert play.track.external_ids.isrc


def test_real_play_with_two_artists_sample() -> None:
    play = PlayHistory.model_validate(load("api_play_history_item_two_artists.json"))
    assert [a.name for a in play.track.artists] == ["Robert Plant", "Alison Krauss"]
    assert play.context is not None
    assert play.context.type == "playlist"


def test_every_api_sample_parses() -> None:
    for path in sorted(SAMPLES.glob("api_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        model = RecentlyPlayed if "items" in data else PlayHistory
        model.model_validate(data)


def test_empty_recently_played_with_null_cursors() -> None:
    page = RecentlyPlayed.model_validate(
        {"items": [], "next": None, "cursors": None, "limit": 50, "href": "h"}
    )
    assert page.items == []
    assert page.cursors is None


DEV_MODE_TRACK = {
    "album": {"id": "al", "name": "A", "artists": [], "images": [], "album_type": "album"},
    "artists": [{"id": "ar", "name": "X", "type": "artist", "uri": "spotify:artist:ar"}],
    "duration_ms": 1000,
    "id": "t1",
    "name": "T",
    "type": "track",
    "uri": "spotify:track:t1",
    "is_playable": True,
}


def test_dev_mode_objects_without_removed_fields() -> None:
    track = Track.model_validate(DEV_MODE_TRACK)
    assert track.popularity is None
    assert track.available_markets == []
    assert track.external_ids is None
    artist = Artist.model_validate({"id": "a", "name": "N", "images": []})
    assert (artist.genres, artist.popularity, artist.followers) == ([], None, None)
    album = Album.model_validate({"id": "al", "name": "A"})
    assert album.label is None
    user = User.model_validate({"id": "u", "display_name": None, "account_id": "aB3dE5fG7h"})
    assert (user.email, user.country, user.product, user.followers) == (None, None, None, None)
    assert user.account_id == "aB3dE5fG7h"


def test_local_track_with_null_ids() -> None:
    track = Track.model_validate({"id": None, "name": "local", "is_local": True, "uri": "x"})
    assert track.id is None


def test_currently_playing_disallows_wrapped_and_unwrapped() -> None:
    wrapped = CurrentlyPlaying.model_validate(
        {
            "is_playing": True,
            "item": DEV_MODE_TRACK,
            "actions": {"disallows": {"resuming": True, "skipping_prev": True}},
            "context": None,
            "currently_playing_type": "track",
        }
    )
    assert wrapped.actions.disallows.resuming
    assert wrapped.actions.disallows.skipping_prev
    assert not wrapped.actions.disallows.pausing
    unwrapped = CurrentlyPlaying.model_validate({"actions": {"pausing": True}})
    assert unwrapped.actions.disallows.pausing
    assert CurrentlyPlaying.model_validate({}).actions.disallows.seeking is False


def test_ad_and_episode_in_place_of_a_track() -> None:
    ad = CurrentlyPlaying.model_validate(
        {"item": None, "currently_playing_type": "ad", "is_playing": True}
    )
    assert ad.item is None
    episode = PlaybackState.model_validate(
        {
            "item": {"type": "episode", "id": "e", "name": "Ep", "show": {"name": "S"}},
            "currently_playing_type": "episode",
            "device": {"id": None, "name": "Phone", "type": "Smartphone", "volume_percent": None},
            "smart_shuffle": False,
        }
    )
    assert isinstance(episode.item, Episode)
    assert episode.device is not None
    assert episode.device.id is None


def test_queue_mixes_tracks_and_episodes() -> None:
    queue = Queue.model_validate(
        {"currently_playing": DEV_MODE_TRACK, "queue": [{"type": "episode", "id": "e"}, None]}
    )
    assert isinstance(queue.currently_playing, Track)
    assert [type(q) for q in queue.queue] == [Episode]
    assert Queue.model_validate({"currently_playing": None, "queue": []}).queue == []


def test_playlist_rows_items_item_and_old_tracks_track() -> None:
    new = SimplifiedPlaylist.model_validate({"id": "p", "items": {"href": "h", "total": 7}})
    old = SimplifiedPlaylist.model_validate({"id": "p", "tracks": {"href": "h", "total": 7}})
    assert new.items == old.items
    assert new.items is not None
    assert new.items.total == 7

    page = {
        "href": "h",
        "total": 3,
        "items": [
            {"added_at": "2026-01-02T03:04:05Z", "item": DEV_MODE_TRACK, "is_local": False},
            {"added_at": None, "added_by": None, "track": {"type": "episode", "id": "e"}},
            {"added_at": None, "item": None},
        ],
    }
    full = Playlist.model_validate({"id": "p", "items": page, "followers": {"total": 2}})
    assert full.items is not None
    kinds = [type(row.item) for row in full.items.items]
    assert kinds == [Track, Episode, type(None)]


def test_foreign_playlist_has_metadata_only() -> None:
    assert Playlist.model_validate({"id": "p", "name": "theirs"}).items is None
    summary = Playlist.model_validate({"id": "p", "items": {"href": "h", "total": 9}})
    assert summary.items is None


def test_null_entries_in_search_results_are_dropped() -> None:
    results = SearchResults.model_validate(
        {
            "playlists": {"items": [None, {"id": "p", "images": None}], "total": 1000},
            "tracks": {"items": [DEV_MODE_TRACK], "total": 1},
        }
    )
    assert results.playlists is not None
    assert [p.id for p in results.playlists.items] == ["p"]
    assert results.artists is None


def test_followed_artists_cursor_page() -> None:
    answer = FollowedArtists.model_validate(
        {
            "artists": {
                "items": [{"id": "a1", "name": "One"}],
                "next": "https://api.spotify.com/v1/me/following?type=artist&after=a1",
                "cursors": {"after": "a1"},
                "limit": 1,
                "total": 4,
            }
        }
    )
    assert answer.artists.cursors is not None
    assert answer.artists.cursors.after == "a1"


def test_unknown_fields_are_ignored() -> None:
    page = Paging[Artist].model_validate(
        {"items": [{"id": "a", "name": "n", "brand_new_field": 1}], "surprise": True}
    )
    assert page.items[0].id == "a"


@pytest.mark.parametrize("bad", [{"items": "nope"}, {"items": [{"played_at": "never"}]}])
def test_wrong_shapes_raise_validation_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RecentlyPlayed.model_validate(bad)
