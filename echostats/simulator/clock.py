"""Simulated time.

Everything in the simulator reads time from one ``Clock`` so a test can step the world exactly
(stepped mode) while the demo simply follows the wall clock (realtime mode). Listeners registered
with ``on_advance`` are told whenever a test moves time, so playback catches up eagerly and ground
truth is ready to inspect right after ``advance`` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """Tz-aware UTC time that is either stepped by hand or follows the wall clock."""

    def __init__(self, *, realtime: bool, start: datetime | None = None) -> None:
        self.realtime = realtime
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock start must be timezone-aware")
        base = start or (datetime.now(UTC) if realtime else DEFAULT_START)
        self._base = base.astimezone(UTC)
        # Realtime mode measures elapsed time with a monotonic clock so NTP jumps cannot make
        # simulated time run backwards (playback state is only ever advanced forwards).
        self._mono_base = time.monotonic()
        self._offset = timedelta(0)
        self._listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        if self.realtime:
            elapsed = timedelta(seconds=time.monotonic() - self._mono_base)
            return self._base + elapsed + self._offset
        return self._base + self._offset

    def now_ms(self) -> int:
        return to_ms(self.now())

    def advance(self, seconds: float) -> datetime:
        """Move simulated time forward (also allowed in realtime mode, as a jump)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._offset += timedelta(seconds=seconds)
        now = self.now()
        for listener in self._listeners:
            listener(now)
        return now

    def on_advance(self, listener: Callable[[datetime], None]) -> None:
        self._listeners.append(listener)


def to_ms(when: datetime) -> int:
    """Unix milliseconds, the unit of Spotify's cursors and timestamps."""
    return round(when.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(when: datetime) -> str:
    """``2022-01-21T17:53:41.567Z``: the millisecond format of ``played_at``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_s(when: datetime) -> str:
    """``2022-01-21T17:53:41Z``: the second format of ``added_at``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
