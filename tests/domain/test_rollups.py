from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echostats.domain.history import history_window
from echostats.domain.plays import Play
from echostats.domain.ranking import Ranked, Ranking
from echostats.domain.rollups import (
    Builder,
    Counters,
    Delta,
    KeyCollision,
    KeyTable,
    Level,
    Rollup,
    RollupId,
    add_deltas,
    build,
    change,
    cover,
    deltas,
    first_day,
    key_id,
    last_day,
    merge,
    pack_counters,
    unpack_counters,
)
from tests.domain.factories import make_play
from tests.rollup_views import brute_view, counters_view, merged_view

_NAMES = st.sampled_from(
    ["A.B", "$x", "Ünïcödé", "plain", "x\x00y", "100%", "", "\uff26\uff55\uff4c\uff4c", "a\nb"]
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
# Around DST changes (Berlin/New York spring and autumn 2024), a year end, and ordinary days.
_CENTRES = [
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 11, 3, 6, tzinfo=UTC),
    datetime(2024, 3, 10, 7, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 4, 6, 15, tzinfo=UTC),
    datetime(2023, 12, 31, 23, tzinfo=UTC),
]


@st.composite
def _plays(draw: st.DrawFn) -> Play:
    centre = draw(st.sampled_from(_CENTRES))
    ended = centre + timedelta(
        seconds=draw(st.integers(min_value=-40 * 86400, max_value=40 * 86400))
    )
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


def _apply_all(store: dict[RollupId, Rollup], moves: Mapping[RollupId, Delta]) -> None:
    for rid, delta in moves.items():
        store[rid] = (store.get(rid) or Rollup.empty(*rid)).apply(delta)


def _range_view(store: dict[RollupId, Rollup], first: date, last: date) -> dict[str, object]:
    covering = [store[rid] for rid in cover(first, last) if rid in store]
    return merged_view(merge(covering, first, last))


@settings(max_examples=150, deadline=None)
@given(plays=st.lists(_plays(), max_size=30), zone=_ZONES, data=st.data())
def test_rollups_of_any_range_equal_brute_force(
    plays: list[Play], zone: str, data: st.DataObject
) -> None:
    tz = ZoneInfo(zone)
    store: dict[RollupId, Rollup] = {}
    # Applied in two batches, as the aggregator does.
    split = data.draw(st.integers(min_value=0, max_value=len(plays)))
    _apply_all(store, deltas(plays[:split], tz))
    _apply_all(store, deltas(plays[split:], tz))
    first = data.draw(st.dates(min_value=date(2023, 10, 1), max_value=date(2024, 12, 31)))
    last = first + timedelta(days=data.draw(st.integers(min_value=0, max_value=500)))

    def inside(p: Play) -> bool:
        return first <= p.started_at.astimezone(tz).date() <= last

    assert _range_view(store, first, last) == brute_view(filter(inside, plays), tz)
    # Deleting some plays leaves exactly the rest, at every level.
    gone = data.draw(st.sets(st.integers(min_value=0, max_value=max(len(plays) - 1, 0))))
    _apply_all(store, deltas([p for i, p in enumerate(plays) if i in gone], tz, -1))
    kept = [p for i, p in enumerate(plays) if i not in gone]
    assert _range_view(store, first, last) == brute_view(filter(inside, kept), tz)
    for level in (Level.DAY, Level.MONTH, Level.YEAR):
        at_level = [r for rid, r in store.items() if rid[0] is level]
        whole = merge(at_level, date(2023, 1, 1), date(2024, 12, 31))
        assert merged_view(whole) == brute_view(kept, tz)


def test_a_play_crossing_local_midnight_belongs_to_its_start_day() -> None:
    tz = ZoneInfo("Europe/Berlin")
    play = make_play(ended_at=datetime(2024, 6, 1, 22, 2, tzinfo=UTC), ms_played=240_000)
    # started 23:58 local on 1 June (a Saturday), ended 00:02 on 2 June
    moves = deltas([play], tz)
    assert sorted(moves) == [
        (Level.DAY, "2024-06-01"),
        (Level.MONTH, "2024-06"),
        (Level.YEAR, "2024"),
    ]
    day = moves[(Level.DAY, "2024-06-01")]
    assert (day.plays, day.ms, day.days, day.heat) == (
        1,
        240_000,
        {0: [1, 240_000]},
        {5 * 24 + 23: [1, 240_000]},
    )
    assert day.sections["t"] == {"spotify:track:4uLU6hMCjMI75M1A2tKUQC": [1, 240_000]}
    assert day.sections["al"] == {"name:rick astley|whenever you need somebody": [1, 240_000]}
    assert moves[(Level.YEAR, "2024")].days == {152: [1, 240_000]}  # 1 June is day 153


def test_dst_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 01:30 UTC on 31 March 2024 is 03:30 CEST (a Sunday): the 02:xx hour does not exist.
    play = make_play(ended_at=datetime(2024, 3, 31, 1, 30, tzinfo=UTC), ms_played=0)
    assert deltas([play], berlin)[(Level.DAY, "2024-03-31")].heat == {6 * 24 + 3: [1, 0]}
    new_york = ZoneInfo("America/New_York")
    # Both 05:30 and 06:30 UTC on 3 Nov 2024 are 01:30 local (EDT, then EST).
    twice = [
        make_play(ended_at=datetime(2024, 11, 3, 5, 30, tzinfo=UTC), ms_played=0),
        make_play(ended_at=datetime(2024, 11, 3, 6, 30, tzinfo=UTC), ms_played=0),
    ]
    assert deltas(twice, new_york)[(Level.DAY, "2024-11-03")].heat == {6 * 24 + 1: [2, 0]}


@given(
    first=st.dates(min_value=date(1999, 1, 1), max_value=date(2030, 1, 1)),
    span=st.integers(min_value=0, max_value=4000),
    top=st.sampled_from([Level.DAY, Level.MONTH, Level.YEAR]),
)
def test_cover_tiles_the_range_exactly(first: date, span: int, top: Level) -> None:
    last = first + timedelta(days=span)
    tiles = cover(first, last, top)
    day = first
    for level, period in tiles:
        assert first_day(level, period) == day
        assert level is Level.DAY or top is not Level.DAY
        assert level is not Level.YEAR or top is Level.YEAR
        day = last_day(level, period) + timedelta(days=1)
    assert day == last + timedelta(days=1)
    # Few documents: at most two partial months of days and two partial years of months.
    if top is Level.YEAR:
        assert len(tiles) <= 62 + 22 + span // 365 + 1


def test_ten_years_are_read_as_years() -> None:
    tiles = cover(date(2015, 11, 27), date(2026, 11, 26))
    assert sum(1 for level, _ in tiles if level is Level.YEAR) == 10
    assert len(tiles) < 60


@given(keys=st.lists(st.text(), unique=True, max_size=40), data=st.data())
def test_counters_pack_round_trip(keys: list[str], data: st.DataObject) -> None:
    delta = {k: [data.draw(st.integers(1, 10**6)), data.draw(st.integers(0, 10**12))] for k in keys}
    counters = Counters().add(delta)
    assert counters_view(unpack_counters(pack_counters(counters))) == {
        k: tuple(v) for k, v in delta.items()
    }
    assert list(counters.ids) == sorted(key_id(k) for k in keys)


def test_counters_drop_entries_that_reach_zero_and_refuse_collisions() -> None:
    counters = Counters().add({"a": [2, 20], "b": [1, 10]}).add({"a": [-2, -20]})
    assert counters_view(counters) == {"b": (1, 10)}
    forged = Counters(
        np.array([key_id("x")], dtype=np.int64),
        np.array([1], dtype=np.int64),
        np.array([1], dtype=np.int64),
        KeyTable.of(["not x"]),
    )
    with pytest.raises(KeyCollision):
        forged.add({"x": [1, 1]})


@given(plays=st.lists(_plays(), max_size=20), zone=_ZONES)
def test_adding_then_removing_leaves_nothing(plays: list[Play], zone: str) -> None:
    tz = ZoneInfo(zone)
    pairs = [(p, i % 3 != 0) for i, p in enumerate(plays)]
    total = change(pairs, (), tz)
    add_deltas(total, change((), pairs, tz))
    store: dict[RollupId, Rollup] = {}
    _apply_all(store, total)
    for rollup in store.values():
        assert (rollup.plays, rollup.ms) == (0, 0)
        assert not rollup.days.any()
        assert not rollup.heat.any()
        assert all(len(c) == 0 for c in rollup.sections.values())


def test_builder_in_chunks_equals_one_build() -> None:
    rng = random.Random(3)
    tz = ZoneInfo("Europe/Berlin")
    plays = [
        make_play(
            track_id=f"t{rng.randrange(30)}",
            ended_at=datetime(2023, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 800)),
        )
        for _ in range(400)
    ]
    builder = Builder(tz)
    for start in range(0, 400, 70):
        builder.add((p, True) for p in plays[start : start + 70])
    chunked: dict[RollupId, Rollup] = {
        (r.level, r.period): r for r in builder.rollups() if r.level is not Level.ENDED
    }
    whole = {(r.level, r.period): r for r in build(plays, tz)}
    assert chunked.keys() == whole.keys()
    for rid, rollup in whole.items():
        first, last = rollup.first, last_day(*rid)
        assert merged_view(merge([chunked[rid]], first, last)) == merged_view(
            merge([rollup], first, last)
        )


def _counters(entries: list[tuple[str, int, int]]) -> Counters:
    return Counters().add({k: [p, m] for k, p, m in entries})


@given(
    entries=st.lists(
        st.tuples(st.text(max_size=3), st.integers(1, 4), st.integers(0, 3)),
        unique_by=lambda e: e[0],
        max_size=40,
    ),
    offset=st.integers(0, 45),
    limit=st.integers(1, 45),
)
def test_ranking_windows_and_ranks_equal_a_full_sort(
    entries: list[tuple[str, int, int]], offset: int, limit: int
) -> None:
    ranking = Ranking(_counters(entries))
    ordered = [Ranked(k, p, m) for k, p, m in sorted(entries, key=lambda e: (-e[1], -e[2], e[0]))]
    assert len(ranking) == len(entries)
    assert ranking.window(offset, limit) == ordered[offset : offset + limit]
    for rank, r in enumerate(ordered, start=1):
        assert ranking.rank_of(r.key) == rank
        assert ranking.counts(r.key) == (r.plays, r.ms)
    assert ranking.rank_of("absent key, longer than three") is None
    assert sorted(ranking.entries(), key=lambda r: r.key) == sorted(ordered, key=lambda r: r.key)


@given(
    ends=st.lists(
        st.datetimes(min_value=datetime(2019, 12, 25), max_value=datetime(2024, 1, 5)),
        max_size=60,
    ),
    skip=st.integers(0, 70),
    limit=st.integers(1, 25),
)
def test_history_window_holds_exactly_the_page(ends: list[datetime], skip: int, limit: int) -> None:
    plays = [make_play(ended_at=e.replace(tzinfo=UTC), ms_played=1000) for e in ends]
    store: dict[RollupId, Rollup] = {}
    _apply_all(store, change([(p, False) for p in plays], (), UTC))
    timeline = [r for rid, r in store.items() if rid[0] is Level.ENDED]
    window = history_window(timeline, skip, limit)
    newest_first = sorted((p.ended_at for p in plays), reverse=True)
    assert window.total == len(plays)
    page = newest_first[skip : skip + limit]
    if not page:
        assert window.lo is None
        return
    assert window.lo is not None
    assert window.hi is not None
    inside = [e for e in newest_first if window.lo <= e < window.hi]
    assert inside[window.skip : window.skip + limit] == page
