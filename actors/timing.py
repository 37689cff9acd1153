"""The time an actor lives in: wall clock, monotonic clock and sleep, injectable as one value.

Production uses the real ones. Tests bind all three to the Spotify simulator's stepped clock, so
a poll every 5 s or a 13-hour quota wait passes in milliseconds while Spotify (the simulator)
and the app agree on what time it is.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Timing:
    now: Callable[[], datetime] = field(default=utc_now)
    monotonic: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], Awaitable[None]] = field(default=anyio.sleep)


REAL_TIME = Timing()
