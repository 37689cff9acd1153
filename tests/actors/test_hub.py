from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

import anyio
import pytest
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.events import Event
from actors.facade import Pipeline
from actors.hub import Hub
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
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    task_status.started()
    async with send:
        for n in range(count):
            await send.send(n)
            sent.append(n)
    await anyio.sleep_forever()


async def collect(
    receive: MemoryObjectReceiveStream[int],
    into: list[int],
    crash_on: int | None = None,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    task_status.started()
    async with receive:
        async for n in receive:
            if n == crash_on and n not in into:
                into.append(n)
                raise RuntimeError("consumer bug")
            into.append(n)


async def test_a_slow_consumer_blocks_the_producer() -> None:
    sent: list[int] = []
    got: list[int] = []
    async with Hub(backoff=FAST) as hub:
        send, receive = hub.stream("numbers", 2, int)
        await hub.start_actor("producer", produce, send, 10, sent)
        await wait_until(lambda: send.statistics().tasks_waiting_send == 1)
        assert sent == [0, 1]
        assert send.statistics().current_buffer_used == 2
        await hub.start_actor("consumer", collect, receive, got)
        await wait_until(lambda: len(got) == 10)
        assert got == list(range(10))
        assert sent == list(range(10))


async def test_a_restarted_actor_gets_working_stream_ends_again() -> None:
    got: list[int] = []
    async with Hub(backoff=FAST) as hub:
        send, receive = hub.stream("numbers", 4, int)
        await hub.start_actor("consumer", collect, receive, got, 3)
        await hub.start_actor("producer", produce, send, 8, [])
        await wait_until(lambda: len(got) == 8)
        # The crash closed the first run's own receive end, not the stream.
        assert got == list(range(8))
        assert hub.liveness()["consumer"].restarts == 1
        assert hub.liveness()["producer"].restarts == 0


async def test_shutdown_cancels_actors_and_closes_streams() -> None:
    stopped: list[str] = []
    before = len(asyncio.all_tasks())

    async def worker(
        receive: MemoryObjectReceiveStream[int],
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
            pipeline = Pipeline(hub)
            send, receive = hub.stream("work", 8, int)
            await hub.start_actor("worker", worker, receive)
            async with pipeline.subscribe(["stats:u1"]) as subscription:
                assert len(asyncio.all_tasks()) > before
    assert stopped == ["worker"]
    assert pipeline.liveness()["worker"].alive is False
    with pytest.raises(anyio.ClosedResourceError):
        send.send_nowait(1)
    with pytest.raises(anyio.ClosedResourceError):
        receive.receive_nowait()
    assert pipeline.broadcast_stats().subscribers == 0
    assert [e async for e in subscription] == []
    assert len(asyncio.all_tasks()) == before


async def test_streams_are_named_bounded_and_wired_once() -> None:
    async with Hub() as hub:
        first = hub.stream("plays", 16, int)
        assert hub.stream("plays", 16, int) == first
        assert first[0].statistics().max_buffer_size == 16
        with pytest.raises(ValueError, match="exists with buffer 16 of int"):
            hub.stream("plays", 32, int)
        with pytest.raises(ValueError, match="exists"):
            hub.stream("plays", 16, str)
        with pytest.raises(ValueError, match="finite"):
            hub.stream("unbounded", math.inf, int)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="finite"):
            hub.stream("empty", 0, int)


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
    with pytest.raises(RuntimeError, match="not running"):
        await Hub().start_actor("x", produce)
