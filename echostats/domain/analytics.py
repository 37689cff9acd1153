"""Analytics maths over a range's sums: what every analytics route computes from a range.

Every route reads a ``Merged`` (``domain.counters``): a range's counted plays summed per local
day, weekday x hour and canonical entity, by ``LedgerView.merged`` in the requested zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from echostats.domain.counters import Merged
from echostats.domain.ranking import Ranked, Ranking
from echostats.domain.streaks import Streaks, streaks_in


class Summary:
    """The figures of one range, from its ``Merged`` sums."""

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

    def streaks(self, today: date) -> Streaks:
        return streaks_in(self.merged.days[:, 0] > 0, self.merged.first, today)

    def day_totals(self, days: Sequence[date]) -> tuple[int, int]:
        """Plays and ms of a run of consecutive ``days`` (a trend bucket)."""
        if not days:
            return 0, 0
        start = max((days[0] - self.merged.first).days, 0)
        stop = min((days[-1] - self.merged.first).days + 1, len(self.merged.days))
        plays, ms = self.merged.days[start:stop].sum(axis=0) if stop > start else (0, 0)
        return int(plays), int(ms)

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


def page_of(ranking: Ranking, page: int, limit: int) -> tuple[list[Ranked], int]:
    """One page (1-based) and the page count; a page past the end is empty, not an error."""
    pages = (len(ranking) + limit - 1) // limit
    return ranking.window((page - 1) * limit, limit), pages


# --- compare -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Movement:
    entity: int
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
        before = b.rank_of(r.entity)
        move = Movement(r.entity, rank, before, r.plays, b.counts(r.entity)[0])
        if before is None:
            new.append(move)
        elif before > rank:
            climbers.append(move)
    fallers = []
    for rank, r in enumerate(b.top(top_n), start=1):
        now = a.rank_of(r.entity)
        if (now or len(a) + 1) > rank:
            fallers.append(Movement(r.entity, now, rank, a.counts(r.entity)[0], r.plays))
    climbers.sort(key=lambda m: (-((m.rank_b or 0) - (m.rank_a or 0)), m.rank_a or 0, m.entity))
    big = len(a) + len(b) + 2
    fallers.sort(key=lambda m: (-((m.rank_a or big) - (m.rank_b or 0)), m.rank_b or 0, m.entity))
    return climbers, fallers, new


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
