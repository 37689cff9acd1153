"""The ledger's columns and every figure read from them, against brute force over plays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from echostats.domain import zones
from echostats.domain.counters import Counters, Merged
from echostats.domain.history import HistoryFilter, select
from echostats.domain.identity import Identity as Resolved
from echostats.domain.identity import Kind, Merge
from echostats.domain.ledger import (
    PRECISIONS,
    SOURCES,
    Columns,
    Row,
    Spelling,
    apply_changes,
    encode_rows,
    instant_of,
    pack_columns,
    unpack_columns,
)
from echostats.domain.ledger_view import REMEMBERED, LedgerView
from echostats.domain.plays import Play
from echostats.domain.ranking import Ranked, Ranking
from tests.domain.factories import make_play
from tests.domain.spelled import book, identity_of
from tests.identity_reference import Identity

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


class Dictionaries:
    """The user's dictionaries, as the ledger cache keeps them: codes in order of first use."""

    def __init__(self) -> None:
        self.spellings: list[Spelling] = []
        self.strings: list[str] = []

    def spelling(self, s: Spelling) -> int:
        if s not in self.spellings:
            self.spellings.append(s)
        return self.spellings.index(s)

    def string(self, s: str) -> int:
        if s not in self.strings:
            self.strings.append(s)
        return self.strings.index(s)


def rows(plays: Sequence[Play], counted: bool = True) -> list[Row]:
    return [Row(ObjectId().binary, p, counted) for p in plays]


def view_of(
    batches: Sequence[Sequence[Row]], removed: Sequence[Row] = (), merges: Sequence[Merge] = ()
) -> LedgerView:
    """A ledger built batch by batch (as the aggregator writes), then ``removed`` taken out."""
    words = Dictionaries()
    columns = Columns.empty()
    for batch in batches:
        columns = apply_changes(columns, (), encode_rows(batch, words.spelling, words.string))
    columns = apply_changes(columns, [r.id for r in removed], Columns.empty())
    held = book(words.spellings)
    identity = identity_of(words.spellings, merges)
    return LedgerView(columns, held, words.strings, identity)


def counters_view(counters: Counters, ident: Resolved, section: str) -> dict[str, tuple[int, int]]:
    entities = ident.entities({"t": Kind.TRACK, "a": Kind.ARTIST, "al": Kind.ALBUM}[section])
    return {
        entities.key(int(e)): (int(p), int(m))
        for e, p, m in zip(counters.entities, counters.plays, counters.ms, strict=True)
    }


def merged_view(merged: Merged, ident: Resolved) -> dict[str, Any]:
    return {
        "plays": merged.plays,
        "ms": merged.ms,
        "days": {
            merged.day_of(i).isoformat(): (int(p), int(m))
            for i, (p, m) in enumerate(merged.days)
            if p or m
        },
        "heat": {c: (int(p), int(m)) for c, (p, m) in enumerate(merged.heat) if p or m},
        **{
            s: counters_view(merged.sections.get(s, Counters()), ident, s) for s in ("t", "a", "al")
        },
    }


def brute_view(plays: Sequence[Play], identity: Identity, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"plays": 0, "ms": 0, "days": {}, "heat": {}, "t": {}, "a": {}, "al": {}}

    def bump(target: dict[Any, tuple[int, int]], key: Any, ms: int) -> None:
        p, m = target.get(key, (0, 0))
        target[key] = (p + 1, m + ms)

    for play in plays:
        local = play.started_at.astimezone(tz)
        canon = identity.of(play)
        out["plays"] += 1
        out["ms"] += play.ms_played
        bump(out["days"], local.date().isoformat(), play.ms_played)
        bump(out["heat"], local.weekday() * 24 + local.hour, play.ms_played)
        bump(out["t"], canon.track, play.ms_played)
        for key in canon.artists:
            bump(out["a"], key, play.ms_played)
        if canon.album is not None:
            bump(out["al"], canon.album, play.ms_played)
    return out


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)


@settings(max_examples=150, deadline=None)
@given(plays=st.lists(_plays(), max_size=30), zone=_ZONES, data=st.data())
def test_any_range_in_any_zone_equals_brute_force(
    plays: list[Play], zone: str, data: st.DataObject
) -> None:
    tz = ZoneInfo(zone)
    split = data.draw(st.integers(min_value=0, max_value=len(plays)))
    indices = st.integers(min_value=0, max_value=len(plays) - 1)
    gone = data.draw(st.sets(indices)) if plays else set()
    written = rows(plays)
    view = view_of([written[:split], written[split:]], [written[i] for i in gone])
    kept = [p for i, p in enumerate(plays) if i not in gone]
    identity = Identity(plays)  # what was learned stays learned after a delete
    first = data.draw(st.dates(min_value=date(2023, 10, 1), max_value=date(2024, 12, 31)))
    last = first + timedelta(days=data.draw(st.integers(min_value=0, max_value=500)))
    start, end = _start_of(first, tz), _start_of(last + timedelta(days=1), tz)
    sel = view.started_in(start, end, counted=True)
    merged = view.merged(sel, tz, first, last, (Kind.TRACK, Kind.ARTIST, Kind.ALBUM))
    inside = [p for p in kept if start <= p.started_at < end]
    assert merged_view(merged, view.identity) == brute_view(inside, identity, tz)


def test_a_play_crossing_local_midnight_belongs_to_its_start_day() -> None:
    tz = ZoneInfo("Europe/Berlin")
    play = make_play(ended_at=datetime(2024, 6, 1, 22, 2, tzinfo=UTC), ms_played=240_000)
    # started 23:58 local on 1 June (a Saturday), ended 00:02 on 2 June
    view = view_of([rows([play])])
    sel = view.started_in(None, None, counted=True)
    merged = view.merged(sel, tz, date(2024, 6, 1), date(2024, 6, 2), (Kind.TRACK, Kind.ALBUM))
    figures = merged_view(merged, view.identity)
    assert figures["days"] == {"2024-06-01": (1, 240_000)}
    assert figures["heat"] == {5 * 24 + 23: (1, 240_000)}
    assert figures["t"] == {"spotify:track:4uLU6hMCjMI75M1A2tKUQC": (1, 240_000)}
    assert figures["al"] == {"name:rick astley|whenever you need somebody": (1, 240_000)}


def test_dst_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 01:30 UTC on 31 March 2024 is 03:30 CEST (a Sunday): the 02:xx hour does not exist.
    play = make_play(ended_at=datetime(2024, 3, 31, 1, 30, tzinfo=UTC), ms_played=0)
    view = view_of([rows([play])])
    day = date(2024, 3, 31)
    sel = view.started_in(None, None, counted=True)
    heat = merged_view(view.merged(sel, berlin, day, day), view.identity)
    assert heat["heat"] == {6 * 24 + 3: (1, 0)}
    new_york = ZoneInfo("America/New_York")
    # Both 05:30 and 06:30 UTC on 3 Nov 2024 are 01:30 local (EDT, then EST).
    twice = [
        make_play(ended_at=datetime(2024, 11, 3, 5, 30, tzinfo=UTC), ms_played=0),
        make_play(ended_at=datetime(2024, 11, 3, 6, 30, tzinfo=UTC), ms_played=0),
    ]
    view = view_of([rows(twice)])
    day = date(2024, 11, 3)
    sel = view.started_in(None, None, counted=True)
    heat = merged_view(view.merged(sel, new_york, day, day), view.identity)
    assert heat["heat"] == {6 * 24 + 1: (2, 0)}


@settings(max_examples=60, deadline=None)
@given(
    instants=st.lists(
        st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2059, 12, 31)),
        max_size=40,
    ),
    zone=_ZONES | st.sampled_from(["Pacific/Apia", "Africa/Casablanca", "Europe/Moscow"]),
)
def test_zone_offsets_equal_zoneinfo(instants: list[datetime], zone: str) -> None:
    tz = ZoneInfo(zone)
    moments = [i.replace(tzinfo=UTC) for i in instants]
    ms = np.array([int(m.timestamp() * 1000) for m in moments], np.int64)
    expected = [int(m.astimezone(tz).utcoffset().total_seconds() * 1000) for m in moments]  # type: ignore[union-attr]
    assert zones.offsets_ms(tz, ms).tolist() == expected


@given(plays=st.lists(_plays(), max_size=20))
def test_columns_survive_storage_and_applying_twice(plays: list[Play]) -> None:
    words = Dictionaries()
    written = rows(plays)
    once = apply_changes(Columns.empty(), (), encode_rows(written, words.spelling, words.string))
    twice = apply_changes(once, (), encode_rows(written, words.spelling, words.string))
    stored = unpack_columns(pack_columns(twice))
    for name in Columns.__slots__:
        assert np.array_equal(getattr(stored, name), getattr(once, name)), name
    assert stored.ended.tolist() == sorted(stored.ended.tolist())
    view = LedgerView(stored, book(words.spellings), words.strings, identity_of(words.spellings))
    by_id = {r.id.hex(): r for r in written}
    for index in range(len(view)):
        row = view.row(index)
        original = by_id[row.id]
        assert row.spelling == Spelling.of(original.play)
        assert row.ms_played == original.play.ms_played
        assert (row.skipped, row.shuffle) == (original.play.skipped, original.play.shuffle)
        assert row.source == original.play.source


@given(
    entries=st.lists(
        st.tuples(st.integers(0, 60), st.integers(1, 4), st.integers(0, 3)),
        unique_by=lambda e: e[0],
        max_size=40,
    ),
    offset=st.integers(0, 45),
    limit=st.integers(1, 45),
)
def test_ranking_windows_and_ranks_equal_a_full_sort(
    entries: list[tuple[int, int, int]], offset: int, limit: int
) -> None:
    ordered_entities = sorted(entries)
    ranking = Ranking(
        Counters(
            np.array([e for e, _, _ in ordered_entities], np.int64),
            np.array([p for _, p, _ in ordered_entities], np.int64),
            np.array([m for _, _, m in ordered_entities], np.int64),
        )
    )
    ordered = [Ranked(e, p, m) for e, p, m in sorted(entries, key=lambda e: (-e[1], -e[2], e[0]))]
    assert len(ranking) == len(entries)
    assert ranking.window(offset, limit) == ordered[offset : offset + limit]
    for rank, r in enumerate(ordered, start=1):
        assert ranking.rank_of(r.entity) == rank
        assert ranking.counts(r.entity) == (r.plays, r.ms)
    assert ranking.rank_of(99) is None
    assert ranking.entries() == sorted(ordered, key=lambda r: r.entity)


def test_history_search_matches_what_a_person_types() -> None:
    """Case- and accent-insensitive substrings of track, artist and album names; an artist
    filter by name finds the plays recorded under every spelling of that artist."""
    plays = [
        make_play(track_id="t1", artist="Élin", track_name="Café Nights", album_name="Näher"),
        make_play(track_id="t2", artist="Pavel", track_name="Morning", album_name=None),
        make_play(
            track_id=None,
            artist="ELIN",
            track_name="Snow",
            album_name=None,
            ended_at=datetime(2024, 3, 30, 13, tzinfo=UTC),
        ),
    ]
    view = view_of([rows(plays)])

    def found(**wanted: Any) -> set[str]:
        return {view.row(int(i)).spelling.track_name for i in select(view, HistoryFilter(**wanted))}

    assert found(q="cafe") == {"Café Nights"}
    assert found(q="NAHER") == {"Café Nights"}  # an album, without its umlaut
    assert found(q="elin") == {"Café Nights", "Snow"}
    assert found(q="zzz") == set()
    assert found(artist="élin") == {"Café Nights", "Snow"}
    assert found(track="café nights") == {"Café Nights"}
    assert found(track="t2") == set()  # not a Spotify id: a name nobody played


def test_every_source_precision_and_flag_survives_the_columns() -> None:
    plays = [
        make_play(
            source=source,
            precision=precision,
            shuffle=n % 3 == 0 if n % 2 else None,
            skipped=n % 5 == 0,
            offline=None if n % 4 else True,
            incognito=False,
            video=n % 7 == 0,
            ended_at=datetime(2024, 5, 1, tzinfo=UTC) + timedelta(minutes=n),
        )
        for n, (source, precision) in enumerate((s, p) for s in SOURCES for p in PRECISIONS)
    ]
    view = view_of([rows(plays)])
    for index in range(len(view)):
        stored = view.play(index, "u1")
        original = next(p for p in plays if p.ended_at == stored.ended_at)
        assert stored == original


@settings(max_examples=150, deadline=None)
@given(plays=st.lists(_plays(), max_size=30), data=st.data())
def test_a_range_moved_to_the_plays_own_bounds_selects_the_same_plays(
    plays: list[Play], data: st.DataObject
) -> None:
    view = view_of([rows(plays)])
    moments = st.one_of(
        st.none(),
        st.datetimes(
            min_value=datetime(2023, 6, 1), max_value=datetime(2025, 6, 1), timezones=st.just(UTC)
        ),
        st.sampled_from([p.started_at for p in plays]) if plays else st.none(),
    )
    start, end = data.draw(moments), data.draw(moments)
    if start is not None and end is not None and start > end:
        start, end = end, start  # a range, as every route resolves one
    lo, hi = view.same_selection(start, end)
    moved_start = None if lo is None else instant_of(lo)
    moved_end = None if hi is None else instant_of(hi)
    moved = view.started_in(moved_start, moved_end, counted=False)
    assert moved.tolist() == view.started_in(start, end, counted=False).tolist()


def test_a_view_remembers_its_latest_answers() -> None:
    view = view_of([rows([make_play()])])
    made: list[int] = []

    def ask(n: int) -> int:
        def make() -> int:
            made.append(n)
            return n * 10

        return view.remembered(("q", n), make)

    assert [ask(1), ask(2), ask(1)] == [10, 20, 10]
    assert made == [1, 2]  # the second ("q", 1) was remembered
    for n in range(3, 3 + REMEMBERED):
        ask(n)
    ask(2)
    assert made[-1] == 2  # the oldest answers make room: ("q", 2) was asked for again
