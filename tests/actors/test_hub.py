from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
from collections.abc import Callable

import anyio
import pytest
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.events import Event
from actors.facade import Pipeline
from actors.hub import ActorRun, Hub, bounded_stream
from actors.supervisor import Backoff

pytestmark = pytest.mark.anyio

FAST = Backoff(initial=0.01, factor=2, maximum=0.04)


async def wait_until(condition: Callable[[], bool], within: float = 5) -> None:
    with anyio.fail_after(within):
        while not condition():
            await anyio.sleep(0.005)


async def produce(
    send: MemoryObjectSendStream[int],
    count: int,
    sent: list[int],
    *,
    then_return: bool = False,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    task_status.started()
    async with send:
        for n in range(count):
            await send.send(n)
            sent.append(n)
    if not then_return:
        await anyio.sleep_forever()


async def collect(
    receive: MemoryObjectReceiveStream[int],
    into: list[int],
    crash_on: int | None = None,
    *,
    done: anyio.Event | None = None,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    task_status.started()
    async with receive:
        async for n in receive:
            if n == crash_on and n not in into:
                into.append(n)
                raise RuntimeError("consumer bug")
            into.append(n)
    if done is not None:
        done.set()  # the stream ended: every producer is finished


async def test_a_slow_consumer_blocks_the_producer() -> None:
    sent: list[int] = []
    got: list[int] = []
    async with Hub(backoff=FAST) as hub:
        send, receive = bounded_stream(2, int)
        await hub.start_actor("producer", lambda s: functools.partial(produce, s, 10, sent), send)
        await wait_until(lambda: send.statistics().tasks_waiting_send == 1)
        assert sent == [0, 1]
        assert send.statistics().current_buffer_used == 2
        await hub.start_actor("consumer", lambda r: functools.partial(collect, r, got), receive)
        await wait_until(lambda: len(got) == 10)
        assert got == list(range(10))
        assert sent == list(range(10))


async def test_a_restarted_actor_gets_working_stream_ends_again() -> None:
    got: list[int] = []
    async with Hub(backoff=FAST) as hub:
        send, receive = bounded_stream(4, int)
        await hub.start_actor("consumer", lambda r: functools.partial(collect, r, got, 3), receive)
        await hub.start_actor("producer", lambda s: functools.partial(produce, s, 8, []), send)
        await wait_until(lambda: len(got) == 8)
        # The crash closed the first run's own receive end, not the stream.
        assert got == list(range(8))
        assert hub.liveness()["consumer"].restarts == 1
        assert hub.liveness()["producer"].restarts == 0


async def test_closing_a_producer_ends_its_consumer() -> None:
    """A producer that sends its items and returns is finished for good: the hub closes the
    send end it was handed, so the consumer's loop ends and it returns, with the hub running."""
    got: list[int] = []
    consumer_done = anyio.Event()
    async with Hub(backoff=FAST) as hub:
        send, receive = bounded_stream(2, int)
        await hub.start_actor(
            "consumer",
            lambda r: functools.partial(collect, r, got, done=consumer_done),
            receive,
        )
        await hub.start_actor(
            "producer", lambda s: functools.partial(produce, s, 5, [], then_return=True), send
        )
        with anyio.fail_after(5):
            await consumer_done.wait()
        assert got == list(range(5))
        await wait_until(lambda: not hub.liveness()["consumer"].alive)
        statuses = hub.liveness()
        assert statuses["producer"].alive is False
        # Both finished normally: neither crashed nor was restarted.
        assert (statuses["consumer"].restarts, statuses["consumer"].last_error) == (0, None)
        assert (statuses["producer"].restarts, statuses["producer"].last_error) == (0, None)
    # The hub closed the originals it was handed once their actors were finished.
    with pytest.raises(anyio.ClosedResourceError):
        receive.receive_nowait()
    with pytest.raises(anyio.ClosedResourceError):
        send.send_nowait(0)


async def test_the_consumer_ends_only_when_every_producer_has() -> None:
    got: list[int] = []
    consumer_done = anyio.Event()
    async with Hub(backoff=FAST) as hub:
        send, receive = bounded_stream(2, int)
        await hub.start_actor(
            "consumer", lambda r: functools.partial(collect, r, got, done=consumer_done), receive
        )
        await hub.start_actor(
            "quick", lambda s: functools.partial(produce, s, 3, [], then_return=True), send
        )
        stop_slow = anyio.Event()

        async def slow(send: MemoryObjectSendStream[int], *, task_status: TaskStatus[None]) -> None:
            task_status.started()
            async with send:
                await stop_slow.wait()
                await send.send(99)

        await hub.start_actor("slow", lambda s: functools.partial(slow, s), send.clone())
        await wait_until(lambda: not hub.liveness()["quick"].alive)
        await anyio.sleep(0.05)
        assert not consumer_done.is_set()  # the slow producer's end is still open
        assert hub.liveness()["consumer"].alive
        stop_slow.set()
        with anyio.fail_after(5):
            await consumer_done.wait()
        assert sorted(got) == [0, 1, 2, 99]


@dataclasses.dataclass
class RunState:
    """What one run of an actor builds for itself."""

    seen: list[int] = dataclasses.field(default_factory=list)


async def test_a_restarted_actor_starts_from_fresh_state() -> None:
    """The factory runs again for each run: the restart gets a new state object, not the one
    the crashed run left behind with its work half done."""
    states: list[RunState] = []
    seen_at_start: list[list[int]] = []
    send, receive = bounded_stream(4, int)

    async def work(
        inbox: MemoryObjectReceiveStream[int],
        state: RunState,
        *,
        task_status: TaskStatus[None],
    ) -> None:
        seen_at_start.append(list(state.seen))
        task_status.started()
        async with inbox:
            async for n in inbox:
                state.seen.append(n)
                if n == 1 and len(states) == 1:
                    raise RuntimeError("crash with work recorded in this run's state")

    def factory(inbox: MemoryObjectReceiveStream[int]) -> ActorRun:
        state = RunState()
        states.append(state)
        return functools.partial(work, inbox, state)

    async with Hub(backoff=FAST) as hub:
        await hub.start_actor("worker", factory, receive)
        async with send:
            for n in range(4):
                await send.send(n)
        await wait_until(lambda: len(states) == 2 and states[1].seen == [2, 3])
        assert hub.liveness()["worker"].restarts == 1
    assert states[0] is not states[1]
    assert states[0].seen == [0, 1]  # the crashed run's state, left as it was
    assert seen_at_start == [[], []]  # the restart began from nothing


async def test_shutdown_cancels_actors_and_closes_streams() -> None:
    stopped: list[str] = []
    before = len(asyncio.all_tasks())

    async def worker(
        receive: MemoryObjectReceiveStream[str],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        try:
            async for _ in receive:
                pass
        finally:
            stopped.append("worker")

    with anyio.fail_after(5):
        async with Hub(backoff=FAST) as hub:
            send, receive = bounded_stream(8, str)
            # As the wiring does: the facade owns the send end and closes it at shutdown.
            pipeline = Pipeline(hub, signed_in=send)
            hub.at_shutdown(pipeline.close)
            await hub.start_actor("worker", lambda r: functools.partial(worker, r), receive)
            async with pipeline.subscribe(["stats:u1"]) as subscription:
                assert len(asyncio.all_tasks()) > before
    assert stopped == ["worker"]
    assert pipeline.liveness()["worker"].alive is False
    with pytest.raises(anyio.ClosedResourceError):
        send.send_nowait("u1")
    with pytest.raises(anyio.ClosedResourceError):
        receive.receive_nowait()
    assert pipeline.broadcast_stats().subscribers == 0
    assert [e async for e in subscription] == []
    assert len(asyncio.all_tasks()) == before


def test_streams_are_bounded() -> None:
    send, receive = bounded_stream(16, int)
    assert send.statistics().max_buffer_size == 16
    send.close()
    receive.close()
    with pytest.raises(ValueError, match="finite"):
        bounded_stream(math.inf, int)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        bounded_stream(0, int)


async def test_only_stream_ends_are_handed_to_an_actor() -> None:
    async with Hub() as hub:
        with pytest.raises(TypeError, match="only stream ends"):
            await hub.start_actor("x", lambda n: functools.partial(anyio.sleep, n), 1)  # type: ignore[arg-type]
        assert hub.liveness() == {}


async def test_pipeline_facade_publishes_and_subscribes() -> None:
    async with Hub() as hub:
        pipeline = Pipeline(hub)
        async with pipeline.subscribe(["stats:u1"]) as subscription:
            sent = pipeline.publish(Event("stats:u1", "stats_updated", {"periods": ["week"]}))
            with anyio.fail_after(5):
                assert await anext(subscription) == sent
            assert pipeline.broadcast_stats().subscribers == 1
        assert pipeline.broadcast_stats().published == 1
        assert pipeline.liveness() == {}


async def test_supervisor_needs_a_running_hub() -> None:
    async def idle(*, task_status: TaskStatus[None]) -> None:
        task_status.started()

    with pytest.raises(RuntimeError, match="not running"):
        await Hub().start_actor("x", lambda: idle)
