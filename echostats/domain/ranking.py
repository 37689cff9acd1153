"""Ranking counters: by plays, then listened ms, then entity (the order of its key's hash).

An all-time section has tens of thousands of entities and a page shows twenty: one numpy sort
orders them all, and ties fall the same way on every page and in every response.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from echostats.domain.counters import I64, Counters


@dataclass(frozen=True, slots=True)
class Ranked:
    entity: int
    plays: int
    ms: int


class Ranking:
    def __init__(self, counters: Counters) -> None:
        self._c = counters

    def __len__(self) -> int:
        return len(self._c)

    @cached_property
    def _order(self) -> I64:
        """Positions by plays desc, then ms desc, then entity."""
        c = self._c
        return np.lexsort((c.entities, -c.ms, -c.plays)).astype(np.int64)

    def _ranked(self, position: int) -> Ranked:
        c = self._c
        return Ranked(int(c.entities[position]), int(c.plays[position]), int(c.ms[position]))

    def window(self, offset: int, limit: int) -> list[Ranked]:
        """Entries ranked ``offset`` .. ``offset + limit - 1`` (0-based); past the end: empty."""
        return [self._ranked(int(p)) for p in self._order[max(offset, 0) : offset + max(limit, 0)]]

    def top(self, n: int) -> list[Ranked]:
        return self.window(0, n)

    def counts(self, entity: int) -> tuple[int, int]:
        at = self._c.index_of(entity)
        return (0, 0) if at is None else (int(self._c.plays[at]), int(self._c.ms[at]))

    @cached_property
    def _rank_of_position(self) -> I64:
        ranks = np.empty(len(self._order), np.int64)
        ranks[self._order] = np.arange(1, len(self._order) + 1)
        return ranks

    def rank_of(self, entity: int) -> int | None:
        """1-based rank of ``entity``, None when it has no plays here."""
        at = self._c.index_of(entity)
        return None if at is None else int(self._rank_of_position[at])

    def entries(self) -> list[Ranked]:
        """Every entry, in entity order."""
        return [self._ranked(p) for p in range(len(self._c))]

    def totals(self) -> tuple[int, int]:
        """Plays and ms of every entry together."""
        return int(self._c.plays.sum()), int(self._c.ms.sum())

    def plays_of(self, entities: I64) -> int:
        """Total plays of these entities."""
        c = self._c
        return int(c.plays[np.isin(c.entities, entities, assume_unique=True)].sum())
