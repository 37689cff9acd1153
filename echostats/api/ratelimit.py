"""Per-client rate limiting for expensive routes (sign-in, imports, rebuilds).

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
