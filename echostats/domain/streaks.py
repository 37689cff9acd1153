"""Listening streaks: runs of consecutive local days with at least one counted play."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Streaks:
    current: int  # consecutive days with plays ending today, or yesterday if today has none
    longest: int


def streaks(days: Iterable[date], today: date) -> Streaks:
    """Streaks over local days with at least one play (days after ``today`` are ignored)."""
    ordered = sorted({day for day in days if day <= today})
    longest = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    if previous is not None and (today - previous).days <= 1:
        current = run
    return Streaks(current=current, longest=longest)
