"""Spotify's two throttles: a rolling 30-second window per app and the long dev-mode quota."""

from __future__ import annotations

import math
from collections import deque


class RollingWindow:
    """At most ``limit`` accepted requests in any ``window_ms``; rejected ones are not counted."""

    def __init__(self, limit: int | None, window_ms: int) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self._stamps: deque[int] = deque()

    def configure(self, limit: int | None, window_ms: int | None = None) -> None:
        self.limit = limit
        if window_ms is not None:
            self.window_ms = window_ms
        self._stamps.clear()

    def check(self, now_ms: int) -> int | None:
        """Count the request and return None, or return the Retry-After in whole seconds."""
        if self.limit is None:
            return None
        while self._stamps and self._stamps[0] <= now_ms - self.window_ms:
            self._stamps.popleft()
        if len(self._stamps) >= self.limit:
            wait_ms = self._stamps[0] + self.window_ms - now_ms
            return max(1, math.ceil(wait_ms / 1000))
        self._stamps.append(now_ms)
        return None


class Limits:
    """The per-app rate window (30 s by default) and the per-developer quota (24 h)."""

    def __init__(self, rate_limit: int | None, quota: int | None, *, window_s: int = 30) -> None:
        self.window = RollingWindow(rate_limit, window_s * 1000)
        self.quota = RollingWindow(quota, 86_400_000)
