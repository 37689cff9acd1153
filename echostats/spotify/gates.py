"""Shared "do not call before" deadlines set by Spotify's 429 answers.

Spotify's rate limit (rolling 30 s window) and its development-mode quota are counted per app
(the quota even per developer account), not per user, so one gate covers every user of the
client: after a 429 no request leaves until ``Retry-After`` has passed, which is what keeps a 429
storm from turning into more 429s. A quota wait can be many hours; calls during it fail locally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from echostats.errors import SpotifyQuotaExceeded, SpotifyRateLimited


class RateGate:
    def __init__(
        self,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        max_wait: float,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._rate_until = 0.0
        self._quota_until = 0.0

    def quota_remaining(self) -> float:
        return max(0.0, self._quota_until - self._clock())

    def rate_remaining(self) -> float:
        return max(0.0, self._rate_until - self._clock())

    def block_rate(self, seconds: float) -> None:
        self._rate_until = max(self._rate_until, self._clock() + seconds)

    def block_quota(self, seconds: float) -> None:
        self._quota_until = max(self._quota_until, self._clock() + seconds)

    def check_quota(self) -> None:
        if (left := self.quota_remaining()) > 0:
            raise SpotifyQuotaExceeded(quota_sentence(left), retry_after=left)

    async def pass_through(self) -> None:
        """Wait out a short rate-limit block, or raise when the wait is too long (or a quota)."""
        self.check_quota()
        while (left := self.rate_remaining()) > 0:
            if left > self._max_wait:
                raise SpotifyRateLimited(rate_sentence(left), retry_after=left)
            await self._sleep(left)
            self.check_quota()


def rate_sentence(seconds: float) -> str:
    return f"Spotify asked us to slow down; try again in {seconds:.0f} s."


def quota_sentence(seconds: float) -> str:
    hours = seconds / 3600
    when = f"{hours:.1f} h" if hours >= 1 else f"{seconds:.0f} s"
    return (
        "The Spotify app's development-mode request quota is used up; Spotify accepts calls "
        f"again in {when}."
    )
