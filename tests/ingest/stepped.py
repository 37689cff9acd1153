"""Discrete-event time for whole-app tests: every sleeper waits for the simulator's clock.

``SteppedTime`` is the app's ``Timing`` (wall clock, monotonic clock, sleep) bound to the
simulator's stepped clock. Sleepers never move the clock themselves; the test does, with
``run_until``: it waits until every sleeper is asleep and none is due (the app has done all it
can at this instant), then jumps the clock to the earliest wake-up, and repeats. So a 5-second
poll cadence or a 13-hour quota wait take only as long as the app's real work.
"""

from __future__ import annotations

import heapq
import itertools
import math
from datetime import datetime

import anyio
import anyio.lowlevel

from actors.timing import Timing
from echostats.simulator import Simulator


class SteppedTime:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._origin = sim.clock.now()
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._seq = itertools.count()
        self.slept: list[tuple[float, float]] = []
        self.timing = Timing(now=self.now, monotonic=self.monotonic, sleep=self.sleep)

    def now(self) -> datetime:
        return self._sim.clock.now()

    def monotonic(self) -> float:
        return (self._sim.clock.now() - self._origin).total_seconds()

    async def sleep(self, seconds: float) -> None:
        # The simulator's clock counts whole milliseconds: wake-ups are rounded up to one.
        deadline = math.ceil((self.monotonic() + max(0.0, seconds)) * 1000) / 1000
        self.slept.append((round(self.monotonic(), 1), round(seconds, 3)))
        woken = anyio.Event()
        entry = (deadline, next(self._seq), woken)
        heapq.heappush(self._sleepers, entry)
        try:
            await woken.wait()
        finally:
            if not woken.is_set():
                self._sleepers.remove(entry)
                heapq.heapify(self._sleepers)

    @property
    def sleeping(self) -> int:
        return len(self._sleepers)

    async def settle(self, sleepers: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a bound, passed to fail_after
        """Wait until ``sleepers`` tasks sleep and none is due (the app is quiet)."""
        with anyio.fail_after(timeout):
            while True:
                self._wake_due()
                if len(self._sleepers) >= sleepers and not self._due():
                    # Give I/O that just finished a chance to schedule more work first.
                    for _ in range(3):
                        await anyio.lowlevel.checkpoint()
                    if len(self._sleepers) >= sleepers and not self._due():
                        return
                await anyio.sleep(0.001)

    def _due(self) -> bool:
        return bool(self._sleepers) and self._sleepers[0][0] <= self.monotonic()

    def _wake_due(self) -> None:
        while self._due():
            _, _, woken = heapq.heappop(self._sleepers)
            woken.set()

    async def run_until(self, seconds: float, sleepers: int, timeout: float = 120.0) -> None:  # noqa: ASYNC109 - a bound, passed to fail_after
        """Let the app run until ``seconds`` on the monotonic clock, wake-up by wake-up."""
        try:
            with anyio.fail_after(timeout):
                while True:
                    await self.settle(sleepers, timeout)
                    if self.monotonic() >= seconds:
                        return
                    target = min(seconds, self._sleepers[0][0]) if self._sleepers else seconds
                    ahead = target - self.monotonic()
                    if ahead > 0:
                        self._sim.clock.advance(max(ahead, 0.001))
                        while self.monotonic() < target:  # never stop short of a wake-up
                            self._sim.clock.advance(0.001)
        except TimeoutError:
            raise TimeoutError(
                f"run_until({seconds:.0f}) reached only t={self.monotonic():.1f}s in {timeout} s; "
                f"{len(self._sleepers)} sleeper(s); last sleeps {self.slept[-12:]}"
            ) from None

    async def run_for(self, seconds: float, sleepers: int, timeout: float = 120.0) -> None:  # noqa: ASYNC109 - a bound, passed to fail_after
        await self.run_until(self.monotonic() + seconds, sleepers, timeout)
