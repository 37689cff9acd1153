"""Recommendations from history: each reason, seed types, recency rule, determinism."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from echostats.domain.recommend import Candidate, Listen, Options, recommend, seeds_for

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def listen(track: str, artist: str, ended: datetime, minutes: float = 3.0) -> Listen:
    return Listen(
        track_key=f"spotify:track:{track}",
        track_id=track,
        track_name=f"Song {track}",
        artist_keys=(f"spotify:artist:{artist}",),
        artist_names=(f"Artist {artist}",),
        album_name=None,
        started_at=ended - timedelta(minutes=minutes),
        ended_at=ended,
    )


def session(start: datetime, plays: list[tuple[str, str]]) -> list[Listen]:
    """Back-to-back plays starting at ``start`` (one listening session)."""
    return [listen(t, a, start + timedelta(minutes=3 * (i + 1))) for i, (t, a) in enumerate(plays)]


def history() -> list[Listen]:
    plays: list[Listen] = []
    # An old favourite: 8 plays 200 days ago, never since.
    for day in range(8):
        plays += session(NOW - timedelta(days=200 + day), [("old", "X")])
    # Current favourites h1..h5 (artists H1..H3), with "pal" in two of their sessions...
    hot = [("h1", "H1"), ("h2", "H2"), ("h3", "H3"), ("h4", "H1"), ("h5", "H2")]
    for day in range(5):
        plays += session(NOW - timedelta(days=20 + day), hot + ([("pal", "P")] if day < 2 else []))
    # ... and h1 played yesterday too, so it is recent.
    plays += session(NOW - timedelta(days=1), [("h1", "H1")])
    # "far" shares no session with "hot": 2 hours after the last play of a session.
    plays += session(NOW - timedelta(days=20) + timedelta(hours=2), [("far", "F")])
    return plays


def keys(items: tuple[object, ...]) -> list[str]:
    return [i.track.track_id for i in items]  # type: ignore[attr-defined]


def test_reasons_of_a_mixed_answer() -> None:
    result = recommend(history(), NOW, Options(limit=10))
    by_track = {i.track.track_id: i for i in result.items}
    assert by_track["old"].reason == "forgotten_favourite"
    assert "8 times" in by_track["old"].detail
    assert by_track["pal"].reason == "co_listened"
    assert by_track["pal"].seeds == ("Artist H1",)
    assert "2 of your listening sessions" in by_track["pal"].detail
    assert "far" not in by_track  # never in a session with a seed
    assert "h1" not in by_track  # played yesterday
    assert by_track["h2"].reason == "on_repeat"
    assert [(s.kind, s.key) for s in result.seeds] == [
        ("artist", "spotify:artist:H1"),
        ("artist", "spotify:artist:H2"),
        ("artist", "spotify:artist:H3"),
        ("track", "spotify:track:h1"),
        ("track", "spotify:track:h2"),
    ]


def test_recent_plays_are_left_out_unless_asked() -> None:
    plays = history()
    default = recommend(plays, NOW, Options(limit=20))
    assert "h1" not in keys(default.items)
    with_recent = recommend(plays, NOW, Options(limit=20, include_recent=True))
    hot = next(i for i in with_recent.items if i.track.track_id == "h1")
    assert hot.reason == "on_repeat"
    # A wider recency window also drops what was played 20 days ago.
    wide = recommend(plays, NOW, Options(limit=20, recent_days=30))
    assert not {"pal", "far"} & set(keys(wide.items))
    assert "old" in keys(wide.items)


def test_seed_types_are_honoured() -> None:
    plays = history()
    tracks = recommend(plays, NOW, Options(seed_type="tracks"))
    assert {s.kind for s in tracks.seeds} == {"track"}
    artists = recommend(plays, NOW, Options(seed_type="artists"))
    assert {s.kind for s in artists.seeds} == {"artist"}
    # An artist that used to be a favourite: its most played track comes back.
    assert any(i.reason == "forgotten_favourite" for i in artists.items) is False  # X has 8 < 10
    more_old = plays + [listen("old2", "X", NOW - timedelta(days=300 + d)) for d in range(3)]
    artists = recommend(more_old, NOW, Options(seed_type="artists"))
    forgotten = [i for i in artists.items if i.reason == "forgotten_favourite"]
    assert forgotten[0].track.track_id == "old"
    assert forgotten[0].seeds == ("Artist X",)


def test_genre_seeds_use_known_genres_or_say_why_not() -> None:
    plays = history()
    unknown = recommend(plays, NOW, Options(seed_type="genres"))
    assert unknown.items == ()
    assert "genres" in unknown.notes[0]
    genres = {"spotify:artist:X": ["shoegaze"], "spotify:artist:P": ["shoegaze", "dream pop"]}
    known = recommend(plays, NOW, Options(seed_type="genres"), genres_by_artist=genres)
    assert [s.key for s in known.seeds] == ["shoegaze", "dream pop"]
    assert set(keys(known.items)) == {"old", "pal"}
    assert all(i.reason == "genre" for i in known.items)


def test_same_history_same_answer_whatever_the_order() -> None:
    plays = history()
    expected = recommend(plays, NOW, Options(limit=50, include_recent=True))
    shuffled = list(plays)
    random.Random(3).shuffle(shuffled)
    assert recommend(shuffled, NOW, Options(limit=50, include_recent=True)) == expected


def test_limit_is_exact_and_no_track_repeats() -> None:
    plays: list[Listen] = []
    for day in range(40):
        tracks = [(f"t{day}-{i}", f"a{i % 4}") for i in range(6)]
        plays += session(NOW - timedelta(days=10 + day), tracks)
    for n in (1, 7, 30):
        items = recommend(plays, NOW, Options(limit=n)).items
        assert len(items) == n
        assert len(set(keys(items))) == n


def test_spotify_candidates_are_merged_and_filtered() -> None:
    plays = history()
    fresh = Candidate("spotify:track:new", "new", "New One", ("Someone",), None)
    heard = Candidate("spotify:track:h1", "h1", "Song h1", ("Artist H1",), None)
    result = recommend(plays, NOW, Options(limit=50), spotify=[fresh, heard])
    spotify = [i for i in result.items if i.reason == "spotify"]
    assert [i.track.track_id for i in spotify] == ["new"]


def test_no_history_says_so() -> None:
    result = recommend([], NOW, Options())
    assert result.items == ()
    assert result.notes
    assert seeds_for([], NOW, "mixed") == []
