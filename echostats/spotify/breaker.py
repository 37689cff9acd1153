"""A per-user circuit breaker.

When Spotify keeps failing for a user (5xx, timeouts, garbled answers), further calls fail at once
instead of piling retries onto an outage; after a cool-down one probe call is let through, and its
outcome closes or re-opens the circuit. Only calls that end in ``SpotifyUnavailable`` count as
failures: a 4xx means Spotify is up and answering.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from echostats.errors import SpotifyUnavailable


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Outcome(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    ABANDONED = "abandoned"  # cancelled before Spotify said anything useful


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class CircuitBreakers:
    """One circuit per key (our user id); ``clock`` is monotonic seconds."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float]) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def state(self, key: str) -> BreakerState:
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return BreakerState.CLOSED
        if circuit.probing or self._clock() - circuit.opened_at >= self._cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def acquire(self, key: str) -> bool:
        """Admit a call or raise ``SpotifyUnavailable``; returns True when the call is the probe."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return False
        waited = self._clock() - circuit.opened_at
        if circuit.probing or waited < self._cooldown:
            retry_in = max(0.0, self._cooldown - waited)
            raise SpotifyUnavailable(
                "Spotify has been failing for this account; not calling it for another "
                f"{retry_in:.0f} s."
            )
        circuit.probing = True
        return True

    def release(self, key: str, outcome: Outcome, *, probe: bool) -> None:
        circuit = self._circuits.setdefault(key, _Circuit())
        if probe:
            circuit.probing = False
        if outcome is Outcome.SUCCESS:
            circuit.failures = 0
            circuit.opened_at = None
        elif outcome is Outcome.FAILURE:
            circuit.failures += 1
            if probe or circuit.failures >= self._threshold:
                circuit.opened_at = self._clock()
