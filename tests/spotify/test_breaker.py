from __future__ import annotations

import pytest

from echostats.errors import SpotifyUnavailable
from echostats.spotify.breaker import BreakerState, CircuitBreakers, Outcome


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fail(breakers: CircuitBreakers, key: str, times: int) -> None:
    for _ in range(times):
        probe = breakers.acquire(key)
        breakers.release(key, Outcome.FAILURE, probe=probe)


def test_opens_after_threshold_consecutive_failures_per_user() -> None:
    clock = FakeClock()
    breakers = CircuitBreakers(threshold=3, cooldown=30, clock=clock)
    fail(breakers, "alice", 2)
    breakers.release("alice", Outcome.SUCCESS, probe=breakers.acquire("alice"))
    fail(breakers, "alice", 2)
    assert breakers.state("alice") is BreakerState.CLOSED  # a success reset the count
    fail(breakers, "alice", 1)
    assert breakers.state("alice") is BreakerState.OPEN
    with pytest.raises(SpotifyUnavailable):
        breakers.acquire("alice")
    assert breakers.acquire("bob") is False  # other users unaffected


def test_half_open_probe_closes_or_reopens() -> None:
    clock = FakeClock()
    breakers = CircuitBreakers(threshold=1, cooldown=10, clock=clock)
    fail(breakers, "u", 1)
    clock.now = 9.9
    with pytest.raises(SpotifyUnavailable):
        breakers.acquire("u")
    clock.now = 10.0
    assert breakers.state("u") is BreakerState.HALF_OPEN
    assert breakers.acquire("u") is True
    with pytest.raises(SpotifyUnavailable):  # only one probe at a time
        breakers.acquire("u")
    breakers.release("u", Outcome.FAILURE, probe=True)
    assert breakers.state("u") is BreakerState.OPEN
    clock.now = 20.0
    assert breakers.acquire("u") is True
    breakers.release("u", Outcome.SUCCESS, probe=True)
    assert breakers.state("u") is BreakerState.CLOSED
    assert breakers.acquire("u") is False


def test_abandoned_probe_lets_the_next_call_probe() -> None:
    clock = FakeClock()
    breakers = CircuitBreakers(threshold=1, cooldown=5, clock=clock)
    fail(breakers, "u", 1)
    clock.now = 5
    assert breakers.acquire("u") is True
    breakers.release("u", Outcome.ABANDONED, probe=True)
    assert breakers.acquire("u") is True
