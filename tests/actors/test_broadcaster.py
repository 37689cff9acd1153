from __future__ import annotations

import anyio
import pytest

from actors.broadcaster import Broadcaster, Subscription
from actors.events import Event

pytestmark = pytest.mark.anyio


def play(topic: str, n: int) -> Event:
    return Event(topic, "now_playing", {"n": n})


async def take(subscription: Subscription, count: int) -> list[Event]:
    with anyio.fail_after(5):
        return [await anext(subscription) for _ in range(count)]


async def test_events_arrive_in_order_with_increasing_ids() -> None:
    broadcaster = Broadcaster()
    async with broadcaster.subscribe(["now-playing:u1", "stats:u1"]) as subscription:
        sent = [
            broadcaster.publish(play("now-playing:u1", 0)),
            broadcaster.publish(Event("stats:u1", "stats_updated", {"periods": ["day"]})),
            broadcaster.publish(play("now-playing:u1", 1)),
            broadcaster.publish(play("now-playing:u2", 9)),  # not subscribed
            broadcaster.publish(play("now-playing:u1", 2)),
        ]
        received = await take(subscription, 4)
    assert received == [sent[0], sent[1], sent[2], sent[4]]
    ids = [event.id for event in sent]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(event.id > 0 for event in sent)


async def test_ids_keep_increasing_when_the_clock_stalls_or_goes_back() -> None:
    readings = iter([1_000, 1_000, 500, 2_000])
    broadcaster = Broadcaster(clock=lambda: next(readings))
    ids = [broadcaster.publish(play("t", n)).id for n in range(4)]
    assert ids == [1_000, 1_001, 1_002, 2_000]


async def test_ids_after_a_restart_are_above_ids_from_before_it() -> None:
    before = Broadcaster().publish(play("t", 0)).id
    after = Broadcaster().publish(play("t", 1)).id  # a fresh process's broadcaster
    assert after > before


async def test_reconnecting_with_last_event_id_replays_only_newer_events() -> None:
    broadcaster = Broadcaster()
    first = broadcaster.publish(play("a", 0))
    second = broadcaster.publish(Event("b", "job", {"n": 1}))
    third = broadcaster.publish(play("a", 2))
    broadcaster.publish(play("elsewhere", 3))
    async with broadcaster.subscribe(["a", "b"], last_event_id=first.id) as subscription:
        live = broadcaster.publish(play("a", 4))
        assert await take(subscription, 3) == [second, third, live]


async def test_without_last_event_id_nothing_is_replayed() -> None:
    broadcaster = Broadcaster()
    broadcaster.publish(Event("a", "job", {"n": 0}))
    async with broadcaster.subscribe(["a"]) as subscription:
        live = broadcaster.publish(Event("a", "job", {"n": 1}))
        assert await take(subscription, 1) == [live]


async def test_a_new_subscriber_gets_each_topics_latest_state_first() -> None:
    broadcaster = Broadcaster()
    broadcaster.publish(play("a", 0))
    state_a = broadcaster.publish(play("a", 1))
    broadcaster.publish(Event("a", "job", {"n": 2}))  # not a state: not sent
    state_b = broadcaster.publish(Event("b", "idle", {}))
    async with broadcaster.subscribe(["a", "b"]) as subscription:
        live = broadcaster.publish(play("a", 3))
        assert await take(subscription, 3) == [state_a, state_b, live]
    assert broadcaster.current_state("a") == live
    # Offered states never replace one the producer published.
    assert broadcaster.offer_state(play("a", 9)) is None
    assert broadcaster.current_state("a") == live
    offered = broadcaster.offer_state(play("c", 0))
    assert offered is not None
    assert broadcaster.current_state("c") == offered


async def test_replay_is_bounded_by_count_and_age() -> None:
    now = [0.0]
    broadcaster = Broadcaster(replay_size=3, replay_seconds=60, monotonic=lambda: now[0])
    sent = [broadcaster.publish(play("a", n)) for n in range(5)]
    async with broadcaster.subscribe(["a"], last_event_id=0) as subscription:
        assert await take(subscription, 3) == sent[2:]
    now[0] = 61.0
    recent = broadcaster.publish(play("a", 5))
    async with broadcaster.subscribe(["a"], last_event_id=0) as subscription:
        assert await take(subscription, 1) == [recent]


async def test_slow_subscriber_is_dropped_while_a_fast_one_keeps_receiving() -> None:
    broadcaster = Broadcaster(subscriber_buffer=4)
    received: list[Event] = []
    got_one = anyio.Event()

    async def fast_consumer(subscription: Subscription) -> None:
        nonlocal got_one
        async for event in subscription:
            received.append(event)
            got_one.set()

    async with (
        broadcaster.subscribe(["a"]) as slow,
        broadcaster.subscribe(["a"]) as fast,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(fast_consumer, fast)
        sent = []
        for n in range(10):
            got_one = anyio.Event()
            # publish() is synchronous: it cannot wait for the slow subscriber.
            sent.append(broadcaster.publish(play("a", n)))
            with anyio.fail_after(5):
                await got_one.wait()
        assert received == sent
        stats = broadcaster.stats()
        assert (stats.subscribers, stats.published, stats.dropped) == (1, 10, 1)
        assert slow.dropped
        assert not fast.dropped
        # The dropped subscriber drains what it had buffered, then its stream ends.
        with anyio.fail_after(5):
            assert [event async for event in slow] == sent[:4]
        tg.cancel_scope.cancel()
    assert broadcaster.subscriber_count == 0


async def test_subscriber_removed_when_the_consumer_raises() -> None:
    broadcaster = Broadcaster()
    counts = []

    async def consume() -> None:
        async with broadcaster.subscribe(["a", "b"]):
            counts.append(broadcaster.subscriber_count)
            raise RuntimeError("consumer failed")

    with pytest.raises(RuntimeError, match="consumer failed"):
        await consume()
    assert counts == [1]
    assert broadcaster.subscriber_count == 0
    broadcaster.publish(play("a", 0))  # nobody left to offer it to
    assert broadcaster.stats().dropped == 0


async def test_subscriber_removed_when_the_consumer_is_cancelled() -> None:
    broadcaster = Broadcaster()
    subscribed = anyio.Event()

    async def consume() -> None:
        async with broadcaster.subscribe(["a"]) as subscription:
            subscribed.set()
            async for _ in subscription:
                pass

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await subscribed.wait()
            assert broadcaster.subscriber_count == 1
            tg.cancel_scope.cancel()
    assert broadcaster.subscriber_count == 0


async def test_close_ends_every_subscription() -> None:
    broadcaster = Broadcaster()
    async with broadcaster.subscribe(["a"]) as subscription:
        last = broadcaster.publish(play("a", 0))
        broadcaster.close()
        assert broadcaster.subscriber_count == 0
        with anyio.fail_after(5):
            assert [event async for event in subscription] == [last]


async def test_subscribing_to_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one topic"):
        async with Broadcaster().subscribe([]):
            pass
