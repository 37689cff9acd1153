"""Ranking counters: by plays, then listened ms, then key — without sorting every key by name.

An all-time section has tens of thousands of keys and a page shows twenty. Ordering by
(plays, ms) is a numpy sort; only the ties that straddle the asked-for window need their keys
decoded and compared, so a page costs the same at 1,000 or 1,000,000 plays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from echostats.domain.rollups import I64, Counters


@dataclass(frozen=True, slots=True)
class Ranked:
    key: str
    plays: int
    ms: int


class Ranking:
    def __init__(self, counters: Counters) -> None:
        self._c = counters

    def __len__(self) -> int:
        return len(self._c)

    @cached_property
    def _order(self) -> I64:
        """Entry indices by plays desc, then ms desc (key order not yet applied)."""
        return np.lexsort((-self._c.ms, -self._c.plays)).astype(np.int64)

    def _score(self, index: int) -> tuple[int, int]:
        return int(self._c.plays[index]), int(self._c.ms[index])

    def _tie_bounds(self, position: int) -> tuple[int, int]:
        """[lo, hi) positions in ``_order`` holding the same (plays, ms) as ``position``."""
        plays, ms = self._c.plays[self._order], self._c.ms[self._order]
        p, m = plays[position], ms[position]
        # Both arrays are sorted descending along _order (plays first, then ms within plays).
        lo = int(np.searchsorted(-plays, -p, side="left"))
        hi = int(np.searchsorted(-plays, -p, side="right"))
        within = -ms[lo:hi]
        return lo + int(np.searchsorted(within, -m, side="left")), lo + int(
            np.searchsorted(within, -m, side="right")
        )

    def window(self, offset: int, limit: int) -> list[Ranked]:
        """Entries ranked ``offset`` .. ``offset + limit - 1`` (0-based); past the end: empty."""
        n = len(self)
        if offset >= n or limit <= 0:
            return []
        stop = min(n, offset + limit)
        lo, _ = self._tie_bounds(offset)
        _, hi = self._tie_bounds(stop - 1)
        indices = [int(i) for i in self._order[lo:hi]]
        keyed = sorted((-self._c.plays[i], -self._c.ms[i], self._c.keys.key(i), i) for i in indices)
        chosen = keyed[offset - lo : stop - lo]
        return [Ranked(key, int(-p), int(-m)) for p, m, key, _ in chosen]

    def top(self, n: int) -> list[Ranked]:
        return self.window(0, n)

    def counts(self, key: str) -> tuple[int, int]:
        index = self._c.index_of(key)
        return (0, 0) if index is None else self._score(index)

    def rank_of(self, key: str) -> int | None:
        """1-based rank of ``key``, None when it has no plays here."""
        index = self._c.index_of(key)
        if index is None:
            return None
        p, m = self._score(index)
        plays, ms = self._c.plays, self._c.ms
        better = int(np.count_nonzero((plays > p) | ((plays == p) & (ms > m))))
        tied = np.flatnonzero((plays == p) & (ms == m))
        ahead = sum(1 for i in tied if self._c.keys.key(int(i)) < key)
        return better + ahead + 1

    def entries(self) -> list[Ranked]:
        """Every entry, in no particular order (decodes every key: meant for sections with a
        few thousand keys, like artists for genres)."""
        c = self._c
        return [
            Ranked(c.keys.key(i), int(p), int(m))
            for i, (p, m) in enumerate(zip(c.plays, c.ms, strict=True))
        ]

    def plays_of(self, ids: I64) -> int:
        """Total plays of the entries with these key ids."""
        return int(self._c.plays[np.isin(self._c.ids, ids, assume_unique=True)].sum())
