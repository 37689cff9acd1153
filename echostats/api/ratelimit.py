"""Per-client rate limiting for expensive routes (sign-in, imports, rebuilds), and the
fixed-window limiter of the ListenBrainz API, which tells clients where they stand in
``X-RateLimit-*`` headers as ListenBrainz does.

The client is the socket peer. ``X-Forwarded-For`` is believed only when the peer is a configured
trusted proxy, and then read from the right, skipping our own proxies, so a client cannot pick
its own identity by sending the header itself. Counters live in memory, per replica: the limit is
a brake on floods, not an accounting system.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request

from echostats.errors import RateLimited

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_TRACKED_CLIENTS = 10_000


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_address(request: Request, trusted: Sequence[Network]) -> str:
    peer = request.client.host if request.client else "unknown"
    if not trusted:
        return peer

    def is_trusted(value: str) -> bool:
        ip = _parse_ip(value)
        return ip is not None and any(ip in net for net in trusted)

    if not is_trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop if _parse_ip(hop) else peer
    return peer


class RateLimiter:
    """Sliding window: at most ``limit`` requests per ``window`` seconds per client."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, client: str, what: str = "requests") -> None:
        now = self._clock()
        hits = self._hits.pop(client, None) or deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        self._hits[client] = hits  # most recently seen last
        while len(self._hits) > MAX_TRACKED_CLIENTS:
            self._hits.popitem(last=False)
        if len(hits) >= self.limit:
            wait = hits[0] + self.window - now
            raise RateLimited(
                f"Too many {what} from your address; try again in {math.ceil(wait)} s.",
                retry_after=wait,
            )
        hits.append(now)


@dataclass(frozen=True)
class Allowance:
    """Where a client stands in its current window."""

    allowed: bool
    limit: int
    remaining: int
    reset_in: float  # seconds until the window ends

    def headers(self, wall_clock: float) -> dict[str, str]:
        """ListenBrainz's rate-limit headers (``Reset`` is epoch seconds, ``Reset-In`` seconds
        from now; ListenBrainz recommends the latter, which survives a skewed client clock)."""
        reset_in = max(0, math.ceil(self.reset_in))
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset-In": str(reset_in),
            "X-RateLimit-Reset": str(int(wall_clock) + reset_in),
        }


class WindowLimiter:
    """At most ``limit`` requests per key in each fixed ``window`` (seconds), as ListenBrainz."""

    def __init__(
        self, limit: int, window: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()  # key: (start, used)

    def take(self, key: str) -> Allowance:
        now = self._clock()
        start, used = self._windows.pop(key, (now, 0))
        if now >= start + self.window:
            start, used = now, 0
        allowed = used < self.limit
        used += allowed
        self._windows[key] = (start, used)
        while len(self._windows) > MAX_TRACKED_CLIENTS:
            self._windows.popitem(last=False)
        return Allowance(allowed, self.limit, self.limit - used, start + self.window - now)
