from __future__ import annotations

from collections import Counter as Tally
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from echostats.domain.plays import Play, play_album_key, play_artist_keys
from echostats.domain.rollups import (
    Counter,
    day_and_hour,
    decode_key,
    decrements,
    encode_key,
    increments,
    merge_days,
    negate,
    streaks,
)
from tests.domain.factories import make_play


@given(st.text())
def test_key_encoding_round_trips(key: str) -> None:
    field = encode_key(key)
    assert decode_key(field) == key
    assert field
    assert "." not in field
    assert "\x00" not in field
    assert not field.startswith("$")


@given(st.text(), st.text())
def test_key_encoding_is_injective(a: str, b: str) -> None:
    if a != b:
        assert encode_key(a) != encode_key(b)


def test_ordinary_keys_pass_unchanged() -> None:
    assert (
        encode_key("spotify:track:4uLU6hMCjMI75M1A2tKUQC") == "spotify:track:4uLU6hMCjMI75M1A2tKUQC"
    )
    assert (
        encode_key("name:mr. brightside|$uicideboy$ 100%")
        == "name:mr%2E brightside|%24uicideboy%24 100%25"
    )


def test_day_and_hour_on_dst_days() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 01:30 UTC on 31 March 2024 is 03:30 CEST: the 02:xx hour does not exist that day.
    assert day_and_hour(datetime(2024, 3, 31, 1, 30, tzinfo=UTC), berlin) == ("2024-03-31", 3)
    new_york = ZoneInfo("America/New_York")
    # Both 05:30 and 06:30 UTC on 3 Nov 2024 are 01:30 local (EDT, then EST).
    assert day_and_hour(datetime(2024, 11, 3, 5, 30, tzinfo=UTC), new_york) == ("2024-11-03", 1)
    assert day_and_hour(datetime(2024, 11, 3, 6, 30, tzinfo=UTC), new_york) == ("2024-11-03", 1)


def test_a_play_crossing_local_midnight_belongs_to_its_start_day() -> None:
    tz = ZoneInfo("Europe/Berlin")
    play = make_play(ended_at=datetime(2024, 6, 1, 22, 2, tzinfo=UTC), ms_played=240_000)
    # started 23:58 local on 1 June, ended 00:02 on 2 June
    incs = increments([play], tz)
    assert list(incs) == ["2024-06-01"]
    day = incs["2024-06-01"]
    assert (day["plays"], day["ms"], day["h.23.p"], day["h.23.ms"]) == (1, 240_000, 1, 240_000)
    assert day["t.spotify:track:4uLU6hMCjMI75M1A2tKUQC.p"] == 1
    assert day["a.name:rick astley.ms"] == 240_000
    assert day["al.name:rick astley|whenever you need somebody.p"] == 1


def test_increment_paths_are_legal_field_names() -> None:
    play = make_play(
        track_id=None,
        artist="$ign.",
        track_name="a.b",
        album_name="x\x00y",
        artist_names=("$ign.", "B.B. King"),
    )
    for path in increments([play], UTC)[day_and_hour(play.started_at, UTC)[0]]:
        parts = path.split(".")
        assert all(parts), path
        assert not any(part.startswith("$") or "\x00" in part for part in parts), path


def _apply(docs: dict[str, dict[str, Any]], incs: dict[str, dict[str, int]]) -> None:
    """What MongoDB does with update_one({day}, {"$inc": inc}, upsert=True)."""
    for day, inc in incs.items():
        doc = docs.setdefault(day, {"user_id": "u1", "day": day})
        for path, value in inc.items():
            *parents, leaf = path.split(".")
            node = doc
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = node.get(leaf, 0) + value


_NAMES = st.sampled_from(
    ["A.B", "$x", "Ünïcödé", "plain", "x\x00y", "100%", "", "\uff26\uff55\uff4c\uff4c"]
)
_ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/St_Johns",
    ]
)
# Around DST changes (Berlin/New York spring and autumn 2024) and ordinary days.
_CENTRES = [
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 11, 3, 6, tzinfo=UTC),
    datetime(2024, 3, 10, 7, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 4, 6, 15, tzinfo=UTC),
]


@st.composite
def _plays(draw: st.DrawFn) -> Play:
    centre = draw(st.sampled_from(_CENTRES))
    ended = centre + timedelta(seconds=draw(st.integers(min_value=-30 * 3600, max_value=30 * 3600)))
    artists = tuple(draw(st.lists(_NAMES, min_size=1, max_size=3)))
    with_ids = draw(st.booleans())
    return make_play(
        track_id=draw(st.sampled_from([None, "t1", "t2", "t.3"])),
        artist=artists[0],
        artist_names=artists,
        artist_ids=tuple(f"id-{n}" for n in artists) if with_ids else (),
        track_name=draw(_NAMES),
        album_name=draw(st.none() | _NAMES),
        album_id=draw(st.sampled_from([None, "al1"])),
        ended_at=ended,
        ms_played=draw(st.integers(min_value=0, max_value=900_000)),
    )


def _brute(plays: list[Play], tz: ZoneInfo) -> dict[str, Any]:
    tracks: Tally[str] = Tally()
    artists: Tally[str] = Tally()
    albums: Tally[str] = Tally()
    hours = [0] * 24
    weekdays = [0] * 7
    days: set[str] = set()
    for play in plays:
        local = play.started_at.astimezone(tz)
        tracks[play.track_key] += 1
        for key in play_artist_keys(play):
            artists[key] += 1
        album = play_album_key(play)
        if album is not None:
            albums[album] += 1
        hours[local.hour] += 1
        weekdays[local.weekday()] += 1
        days.add(local.date().isoformat())
    return {
        "plays": len(plays),
        "ms": sum(p.ms_played for p in plays),
        "tracks": dict(tracks),
        "artists": dict(artists),
        "albums": dict(albums),
        "hours": hours,
        "weekdays": weekdays,
        "days": tuple(sorted(days)),
    }


def _summary(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    totals = merge_days(docs.values(), top_n=None)
    return {
        "plays": totals.plays,
        "ms": totals.ms,
        "tracks": {c.key: c.plays for c in totals.top_tracks},
        "artists": {c.key: c.plays for c in totals.top_artists},
        "albums": {c.key: c.plays for c in totals.top_albums},
        "hours": [c.plays for c in totals.hours],
        "weekdays": [c.plays for c in totals.weekdays],
        "days": totals.days,
    }


@settings(max_examples=150, deadline=None)
@given(plays=st.lists(_plays(), max_size=25), zone=_ZONES, data=st.data())
def test_increments_sum_to_brute_force_totals(
    plays: list[Play], zone: str, data: st.DataObject
) -> None:
    tz = ZoneInfo(zone)
    docs: dict[str, dict[str, Any]] = {}
    # Apply in two batches, as the aggregator does.
    split = data.draw(st.integers(min_value=0, max_value=len(plays)))
    _apply(docs, increments(plays[:split], tz))
    _apply(docs, increments(plays[split:], tz))
    assert _summary(docs) == _brute(plays, tz)
    # Deleting some plays leaves exactly the rest.
    gone = data.draw(st.sets(st.integers(min_value=0, max_value=max(len(plays) - 1, 0))))
    _apply(docs, decrements([p for i, p in enumerate(plays) if i in gone], tz))
    assert _summary(docs) == _brute([p for i, p in enumerate(plays) if i not in gone], tz)


@given(plays=st.lists(_plays(), max_size=10), zone=_ZONES)
def test_delete_increments_cancel(plays: list[Play], zone: str) -> None:
    tz = ZoneInfo(zone)
    docs: dict[str, dict[str, Any]] = {}
    _apply(docs, increments(plays, tz))
    _apply(docs, decrements(plays, tz))
    assert _summary(docs) == _brute([], tz)
    added, removed = increments(plays, tz), negate(increments(plays, tz))
    for day, inc in added.items():
        assert {path: value + removed[day][path] for path, value in inc.items()} == dict.fromkeys(
            inc, 0
        )


def test_merge_days_ranks_by_plays_then_ms_then_key() -> None:
    docs = [
        {
            "day": "2024-04-01",
            "plays": 3,
            "ms": 30,
            "t": {"b": {"p": 1, "ms": 10}, "a": {"p": 1, "ms": 10}, "c%2E": {"p": 1, "ms": 10}},
        },
        {
            "day": "2024-04-02",
            "plays": 2,
            "ms": 25,
            "t": {"b": {"p": 1, "ms": 20}, "d": {"p": 1, "ms": 5}, "z": {"p": 0, "ms": 0}},
            "h": {"7": {"p": 2, "ms": 25}},
        },
        {"day": "2024-04-03", "plays": 0, "ms": 0},
    ]
    totals = merge_days(docs, top_n=3)
    assert totals.top_tracks == (Counter("b", 2, 30), Counter("a", 1, 10), Counter("c.", 1, 10))
    assert totals.unique_tracks == 4  # "z" was zeroed by a deletion
    assert (totals.plays, totals.ms, totals.days) == (5, 55, ("2024-04-01", "2024-04-02"))
    assert totals.hours[7] == Counter("7", 2, 25)
    # 1 April 2024 was a Monday
    assert [c.plays for c in totals.weekdays] == [3, 2, 0, 0, 0, 0, 0]
    assert merge_days([]).top_tracks == ()


def test_streaks() -> None:
    today = date(2024, 4, 10)

    def days(*offsets: int) -> list[date]:
        return [today - timedelta(days=o) for o in offsets]

    assert streaks([], today) == streaks(days(), today)
    assert (streaks([], today).current, streaks([], today).longest) == (0, 0)
    assert streaks(days(0, 1, 2), today).current == 3
    assert streaks(days(1, 2), today).current == 2  # today not played yet: streak still alive
    assert streaks(days(2, 3, 4, 5), today).current == 0
    assert streaks(days(2, 3, 4, 5), today).longest == 4
    assert streaks(days(0, 0, 1, 5, 6, 7, 8, 9, 20), today).longest == 5
    assert streaks(days(0, 1, 5, 6, 7, 8, 9, 20), today).current == 2
    assert streaks(days(-1, 0), today).current == 1  # future days are ignored
    # across a month and year boundary
    assert streaks([date(2023, 12, 31), date(2024, 1, 1)], date(2024, 1, 1)).longest == 2
