"""Analytics maths over merged rollups: what every analytics route computes from a range.

Every route reads a ``Merged`` sum of rollups. It comes either from the stored rollups (saved
zone, whole days) or from rollups built here from raw plays (another zone, partial-day edges)
by the same ``domain.rollups`` code the aggregator uses, so the two paths cannot disagree
about what a figure means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import cached_property

from echostats.domain.plays import Play, play_artist_keys
from echostats.domain.ranking import Ranked, Ranking
from echostats.domain.rollups import SECTIONS, Level, Merged, build, merge


class Summary:
    """The figures of one range, from a ``Merged`` sum of rollups."""

    def __init__(self, merged: Merged) -> None:
        self.merged = merged

    @property
    def plays(self) -> int:
        return self.merged.plays

    @property
    def ms(self) -> int:
        return self.merged.ms

    @cached_property
    def _rankings(self) -> dict[str, Ranking]:
        return {s: Ranking(c) for s, c in self.merged.sections.items()}

    def ranked(self, section: str) -> Ranking:
        return self._rankings[section]

    @property
    def active_days(self) -> list[date]:
        return self.merged.active_days()

    def day_totals(self, days: Iterable[date]) -> tuple[int, int]:
        plays = ms = 0
        first, count = self.merged.first, len(self.merged.days)
        for day in days:
            index = (day - first).days
            if 0 <= index < count:
                plays += int(self.merged.days[index][0])
                ms += int(self.merged.days[index][1])
        return plays, ms

    @property
    def hours(self) -> list[tuple[int, int]]:
        return [(int(p), int(m)) for p, m in self.merged.hours()]

    @property
    def weekdays(self) -> list[tuple[int, int]]:
        return [(int(p), int(m)) for p, m in self.merged.weekdays()]

    @property
    def heat(self) -> list[list[tuple[int, int]]]:
        cells = self.merged.heat.reshape(7, 24, 2)
        return [[(int(p), int(m)) for p, m in row] for row in cells]


def summarise_plays(
    plays: Iterable[Play], tz: tzinfo, first: date, last: date, sections: Sequence[str] = SECTIONS
) -> Summary:
    """The raw-play path: counted ``plays`` summed per local day in ``tz`` exactly as the
    aggregator sums them, so both paths agree on what every figure means."""
    return Summary(merge(build(plays, tz, (Level.DAY,)), first, last, sections))


def page_of(ranking: Ranking, page: int, limit: int) -> tuple[list[Ranked], int]:
    """One page (1-based) and the page count; a page past the end is empty, not an error."""
    pages = (len(ranking) + limit - 1) // limit
    return ranking.window((page - 1) * limit, limit), pages


# --- compare -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Movement:
    key: str
    rank_a: int | None  # rank in range A (1-based), None when not played in A
    rank_b: int | None
    plays_a: int
    plays_b: int


def rank_changes(
    a: Ranking, b: Ranking, top_n: int
) -> tuple[list[Movement], list[Movement], list[Movement]]:
    """Climbers (better rank in A than in B), fallers and new entries (not played in B at all),
    among A's top ``top_n`` (fallers: among B's top ``top_n``); biggest movements first."""
    climbers, new = [], []
    for rank, r in enumerate(a.top(top_n), start=1):
        before = b.rank_of(r.key)
        move = Movement(r.key, rank, before, r.plays, b.counts(r.key)[0])
        if before is None:
            new.append(move)
        elif before > rank:
            climbers.append(move)
    fallers = []
    for rank, r in enumerate(b.top(top_n), start=1):
        now = a.rank_of(r.key)
        if (now or len(a) + 1) > rank:
            fallers.append(Movement(r.key, now, rank, a.counts(r.key)[0], r.plays))
    climbers.sort(key=lambda m: (-((m.rank_b or 0) - (m.rank_a or 0)), m.rank_a or 0, m.key))
    big = len(a) + len(b) + 2
    fallers.sort(key=lambda m: (-((m.rank_a or big) - (m.rank_b or 0)), m.rank_b or 0, m.key))
    return climbers, fallers, new


# --- discovery -----------------------------------------------------------------------------------


def first_starts(plays: Iterable[Play]) -> dict[str, dict[str, datetime]]:
    """Section ("t", "a") → key → the earliest start among ``plays`` (the raw-play path)."""
    out: dict[str, dict[str, datetime]] = {"t": {}, "a": {}}
    for play in plays:
        for section, keys in (("t", (play.track_key,)), ("a", play_artist_keys(play))):
            seen = out[section]
            for key in keys:
                if key not in seen or play.started_at < seen[key]:
                    seen[key] = play.started_at
    return out


# --- habits --------------------------------------------------------------------------------------


@dataclass
class Habits:
    plays: int = 0
    ms: int = 0
    skipped: int = 0
    skip_known: int = 0
    shuffled: int = 0
    shuffle_known: int = 0
    offline: int = 0
    offline_known: int = 0
    platforms: dict[str, int] = field(default_factory=dict)
    reason_start: dict[str, int] = field(default_factory=dict)
    reason_end: dict[str, int] = field(default_factory=dict)


def habits_of(plays: Iterable[Play]) -> Habits:
    """Playback habits over every stored play given (counted or not: a skip is usually too
    short to count, so leaving uncounted plays out would hide most skips). Fields a source does
    not report (polled plays carry no ``offline``) are left out of that share's denominator."""
    out = Habits()
    for play in plays:
        out.plays += 1
        out.ms += play.ms_played
        if play.skipped is not None:
            out.skip_known += 1
            out.skipped += play.skipped
        if play.shuffle is not None:
            out.shuffle_known += 1
            out.shuffled += play.shuffle
        if play.offline is not None:
            out.offline_known += 1
            out.offline += play.offline
        for mix, value in (
            (out.platforms, play.platform),
            (out.reason_start, play.reason_start),
            (out.reason_end, play.reason_end),
        ):
            name = value or "unknown"
            mix[name] = mix.get(name, 0) + 1
    return out


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
