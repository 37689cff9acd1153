"""Rate limits, quota, 5xx, timeouts, garbled bodies and the circuit breaker, on the simulator."""

from __future__ import annotations

import anyio
import pytest

from echostats.errors import (
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from echostats.simulator import Simulator
from echostats.spotify import ApiCallRecord, SpotifyClient, TokenSet
from echostats.spotify.breaker import BreakerState
from tests.spotify.conftest import ClientFactory, VirtualTime, connect, start_listening
from tests.spotify.memory_store import MemoryTokenStore

pytestmark = pytest.mark.anyio


def api_calls(sim: Simulator, path: str = "/v1/me") -> list[int]:
    return [c.status for c in sim.calls if c.path == path]


async def run_concurrently(n: int, func: object, *args: object) -> list[object]:
    results: list[object] = []

    async def one() -> None:
        try:
            results.append(await func(*args))  # type: ignore[operator]
        except SpotifyError as exc:
            results.append(exc)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for _ in range(n):
                tg.start_soon(one)
    return results


# --- 429 -------------------------------------------------------------------------------------


async def test_429_storm_rate_drops_to_what_retry_after_allows(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    sim.faults.rate_limit(retry_after=5, count=30)
    results = await run_concurrently(20, client.me, "alice")
    served = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    # A caller gives up (with the wait) only after max_retries 429s of its own.
    assert all(isinstance(r, SpotifyRateLimited) and r.retry_after == 5 for r in refused)
    # ... so each refusal used up max_retries + 1 = 4 of the 30 rejections.
    assert len(refused) <= 30 // 4
    me_calls = [c for c in sim.calls if c.path == "/v1/me"]
    rejected = [c for c in me_calls if c.status == 429]
    assert len(rejected) == 30
    assert len(me_calls) == 30 + len(served)  # nothing but the fault budget was wasted
    # No request left while a Retry-After was running.
    for rejection in rejected:
        quiet = [c for c in me_calls if 0 < (c.at - rejection.at).total_seconds() < 5]
        assert not quiet, f"{len(quiet)} calls during a Retry-After window"


async def test_rolling_window_storm_never_exceeds_the_window(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    sim.limits.window.configure(10, 30_000)
    results = await run_concurrently(40, client.me, "alice")
    assert all(not isinstance(r, Exception) for r in results), results
    me_calls = [c for c in sim.calls if c.path == "/v1/me"]
    served = [c for c in me_calls if c.status == 200]
    rejected = [c for c in me_calls if c.status == 429]
    assert len(served) == 40
    # After a rejection nobody calls until Retry-After has passed, so each 30 s window costs
    # a handful of 429s at most (a client that retried at once would collect hundreds).
    for rejection in rejected:
        retry_after = 30 - (rejection.at - me_calls[0].at).total_seconds() % 30
        quiet = [c for c in me_calls if 0 < (c.at - rejection.at).total_seconds() < retry_after]
        assert not quiet
    assert len(rejected) < len(served)


async def test_long_retry_after_raises_with_the_wait_and_fails_fast(
    sim: Simulator, client: SpotifyClient, alice: TokenSet, vtime: VirtualTime
) -> None:
    sim.faults.rate_limit(retry_after=120, count=1)  # over the 30 s cap
    with pytest.raises(SpotifyRateLimited) as caught:
        await client.me("alice")
    assert caught.value.retry_after == 120
    assert type(caught.value) is SpotifyRateLimited
    before = len(sim.calls)
    vtime.advance(60)
    with pytest.raises(SpotifyRateLimited) as again:  # still blocked: no request leaves
        await client.me("alice")
    assert again.value.retry_after == pytest.approx(60)
    assert len(sim.calls) == before
    vtime.advance(60)
    assert (await client.me("alice")).id


async def test_short_retry_after_is_waited_out(
    sim: Simulator, client: SpotifyClient, alice: TokenSet, vtime: VirtualTime
) -> None:
    sim.faults.rate_limit(retry_after=7, count=1)
    await client.me("alice")
    assert api_calls(sim) == [429, 200]
    assert vtime.slept == [7]


async def test_quota_exceeded_blocks_every_user_until_it_passes(
    sim: Simulator,
    client: SpotifyClient,
    store: MemoryTokenStore,
    alice: TokenSet,
    vtime: VirtualTime,
) -> None:
    sim.add_user("bob", display_name="Bob", premium=False)
    connect(sim, store, "bob")
    sim.faults.quota_exceeded(retry_after=48925)
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        await client.me("alice")
    assert caught.value.retry_after == pytest.approx(48925)
    assert "quota" in caught.value.detail
    calls = len(sim.calls)
    vtime.advance(3600)
    for user in ("alice", "bob"):
        with pytest.raises(SpotifyQuotaExceeded) as local:
            await client.currently_playing(user)
        assert local.value.retry_after == pytest.approx(48925 - 3600)
    assert len(sim.calls) == calls  # failed locally, Spotify never asked
    assert client.transport.breakers.state("alice") is BreakerState.CLOSED
    vtime.advance(48925 - 3600)
    assert (await client.me("bob")).id


# --- 5xx, timeouts, garbage ------------------------------------------------------------------


async def test_5xx_burst_then_success(
    sim: Simulator,
    client: SpotifyClient,
    alice: TokenSet,
    vtime: VirtualTime,
    records: list[ApiCallRecord],
) -> None:
    sim.faults.server_errors(count=2, status=503)
    assert (await client.me("alice")).id
    assert api_calls(sim) == [503, 503, 200]
    assert [r.status_code for r in records] == [503, 503, 200]
    assert vtime.slept == [0.5, 1.0]  # doubling backoff (jitter pinned to the middle)


async def test_5xx_beyond_retries_is_unavailable(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    sim.faults.server_errors(count=50, status=500)
    with pytest.raises(SpotifyUnavailable):
        await client.me("alice")
    assert api_calls(sim) == [500] * 4  # one try plus max_retries


async def test_post_commands_retry_only_gateway_errors(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    start_listening(sim, "alice")
    sim.faults.server_errors(count=1, status=500)
    with pytest.raises(SpotifyUnavailable):
        await client.next_track("alice")
    assert len(api_calls(sim, "/v1/me/player/next")) == 1  # next must not be applied twice
    sim.faults.server_errors(count=1, status=503)
    await client.next_track("alice")
    statuses = api_calls(sim, "/v1/me/player/next")
    assert statuses[:2] == [500, 503]
    assert len(statuses) == 3
    assert 200 <= statuses[2] < 300


async def test_timeout_then_success(
    sim: Simulator,
    make_client: ClientFactory,
    alice: TokenSet,
    records: list[ApiCallRecord],
) -> None:
    client = make_client(timeout=0.2)
    sim.faults.timeout(count=1)
    with anyio.fail_after(10):
        assert (await client.me("alice")).id
    assert [r.status_code for r in records] == [0, 200]
    assert records[0].error is not None
    assert "0.2" in records[0].error


async def test_timeouts_exhaust_retries(
    sim: Simulator, make_client: ClientFactory, alice: TokenSet, records: list[ApiCallRecord]
) -> None:
    client = make_client(timeout=0.1, max_retries=2)
    sim.faults.latency(5.0)
    with anyio.fail_after(10), pytest.raises(SpotifyUnavailable):
        await client.me("alice")
    assert [r.status_code for r in records] == [0, 0, 0]


async def test_garbage_json_is_bad_gateway_never_a_crash(
    sim: Simulator, client: SpotifyClient, alice: TokenSet, records: list[ApiCallRecord]
) -> None:
    sim.faults.garbage_json(count=10)
    with pytest.raises(SpotifyUnavailable) as caught:
        await client.me("alice")
    assert caught.value.status == 502
    assert {r.status_code for r in records} == {200}
    assert all(r.error == "unreadable JSON body" for r in records)
    sim.faults.clear()
    sim.faults.garbage_json(count=1)
    assert (await client.recently_played("alice")).limit == 50


async def test_player_command_accepts_a_non_json_200(
    sim: Simulator, client: SpotifyClient, alice: TokenSet, records: list[ApiCallRecord]
) -> None:
    sim.faults.garbage_json(count=1, path="/v1/me/player")
    await client.set_volume("alice", 40)
    assert records[-1].status_code == 200
    assert records[-1].error is None


# --- circuit breaker -------------------------------------------------------------------------


async def test_breaker_opens_fails_fast_and_recovers(
    sim: Simulator,
    client: SpotifyClient,
    store: MemoryTokenStore,
    alice: TokenSet,
    vtime: VirtualTime,
) -> None:
    sim.add_user("bob", display_name="Bob")
    connect(sim, store, "bob")
    sim.faults.server_errors(count=10_000, status=502, user="alice")
    for _ in range(3):  # breaker_threshold
        with pytest.raises(SpotifyUnavailable):
            await client.me("alice")
    assert client.transport.breakers.state("alice") is BreakerState.OPEN
    calls = len(sim.calls)
    with pytest.raises(SpotifyUnavailable) as caught:
        await client.me("alice")
    assert "not calling" in caught.value.detail
    assert len(sim.calls) == calls  # open: Spotify not called
    assert (await client.me("bob")).id  # other users unaffected

    vtime.advance(30)  # cool-down over: one probe, still failing → open again
    with pytest.raises(SpotifyUnavailable):
        await client.me("alice")
    assert client.transport.breakers.state("alice") is BreakerState.OPEN

    sim.faults.clear()
    vtime.advance(30)
    assert (await client.me("alice")).id  # the probe succeeds
    assert client.transport.breakers.state("alice") is BreakerState.CLOSED
    assert (await client.me("alice")).id


async def test_client_errors_do_not_open_the_breaker(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    for _ in range(5):
        with pytest.raises(SpotifyError):
            await client.track("alice", "0000000000000000000000")
    assert client.transport.breakers.state("alice") is BreakerState.CLOSED
