"""Counters: plays and listened ms per canonical entity, and a range's sums.

Entities (``domain.identity``) are numbered in the order of their key's 64-bit hash
(``key_id``), so counters of one kind are arrays indexed by entity, a lookup is a
``searchsorted``, ranks break ties the same way everywhere, and nothing is named until a
response shows it.

``Merged`` is what every analytics figure of a range is computed from: totals, plays per local
day, per weekday x hour, and the counters of tracks, artists and albums (``SECTIONS``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
SECTIONS = ("t", "a", "al")  # tracks, artists (every credited artist), albums
HEAT_CELLS = 7 * 24  # weekday (0 = Monday) x hour


def key_id(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _empty_i64() -> I64:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Counters:
    """Plays and ms of the entities that have plays, entities ascending."""

    entities: I64 = field(default_factory=_empty_i64)
    plays: I64 = field(default_factory=_empty_i64)
    ms: I64 = field(default_factory=_empty_i64)

    def __len__(self) -> int:
        return len(self.entities)

    def index_of(self, entity: int) -> int | None:
        at = int(np.searchsorted(self.entities, entity))
        if at < len(self.entities) and int(self.entities[at]) == entity:
            return at
        return None


@dataclass(frozen=True, slots=True)
class Merged:
    """A range's counted plays: totals, per local day from ``first``, per weekday x hour of
    their start, and per canonical entity (``SECTIONS``)."""

    first: date
    plays: int
    ms: int
    days: I64  # (days in range, 2)
    heat: I64  # (168, 2)
    sections: Mapping[str, Counters]

    def day_of(self, index: int) -> date:
        return self.first + timedelta(days=index)

    def active_days(self) -> list[date]:
        return [self.day_of(int(i)) for i in np.flatnonzero(self.days[:, 0] > 0)]

    def hours(self) -> I64:
        hours: I64 = self.heat.reshape(7, 24, 2).sum(axis=0)
        return hours

    def weekdays(self) -> I64:
        """[plays, ms] per weekday (0 = Monday)."""
        weekdays: I64 = self.heat.reshape(7, 24, 2).sum(axis=1)
        return weekdays
