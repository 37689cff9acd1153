"""Listening streaks: runs of consecutive local days with at least one counted play."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Streaks:
    current: int  # consecutive days with plays ending today, or yesterday if today has none
    longest: int


def streaks_in(played: npt.NDArray[np.bool_], first: date, today: date) -> Streaks:
    """Streaks over a run of days from ``first`` (``played[i]``: day ``first + i`` has plays;
    days after ``today`` are ignored). Vectorised: ten years are 3,650 days."""
    up_to = (today - first).days + 1
    days = np.flatnonzero(played[: max(up_to, 0)])
    if not len(days):
        return Streaks(current=0, longest=0)
    breaks = np.flatnonzero(np.diff(days) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(days) - 1]])
    lengths = ends - starts + 1
    current = int(lengths[-1]) if up_to - 1 - int(days[-1]) <= 1 else 0
    return Streaks(current=current, longest=int(lengths.max()))


def streaks(days: Iterable[date], today: date) -> Streaks:
    """Streaks over local days with at least one play (days after ``today`` are ignored)."""
    wanted = sorted({day for day in days if day <= today})
    if not wanted:
        return Streaks(current=0, longest=0)
    played = np.zeros((today - wanted[0]).days + 1, bool)
    played[[(day - wanted[0]).days for day in wanted]] = True
    return streaks_in(played, wanted[0], today)


@dataclass(frozen=True, slots=True)
class Run:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def longest_run(days: Iterable[date]) -> Run | None:
    """The longest run of consecutive days (the earliest of equally long ones), None if none."""
    best: Run | None = None
    current: Run | None = None
    for day in sorted(set(days)):
        if current is not None and day - current.last == timedelta(days=1):
            current = Run(current.first, day)
        else:
            current = Run(day, day)
        if best is None or current.days > best.days:
            best = current
    return best
