"""The api-call logger loses no record when it stops between two batches."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
import pytest

from actors import logger
from echostats.spotify import ApiCallRecord
from echostats.store import Store
from echostats.store.api_logs import ApiLogs

pytestmark = pytest.mark.anyio


def record(n: int) -> ApiCallRecord:
    return ApiCallRecord(
        method="GET",
        endpoint=f"/v1/me/player/{n}",
        status_code=200,
        latency_ms=12.5,
        error=None,
        request_id=f"r{n}",
        user_id="u1",
        timestamp=datetime.now(UTC),
    )


async def test_records_held_or_queued_at_shutdown_are_written(store: Store) -> None:
    send, receive = anyio.create_memory_object_stream[ApiCallRecord](100)
    async with anyio.create_task_group() as tg:
        # A batch far from full and a flush a minute away: only the stop can write these.
        await tg.start(lambda **kw: logger.run(receive, ApiLogs(store), flush_interval=60, **kw))
        for n in range(3):
            await send.send(record(n))
        with anyio.fail_after(5):
            while receive.statistics().current_buffer_used:
                await anyio.sleep(0.01)  # the logger holds them now
        for n in range(3, 5):
            send.send_nowait(record(n))  # still queued when the stop comes
        tg.cancel_scope.cancel()
    stored = await store["api_logs"].find({}, {"request_id": 1}).to_list()
    assert sorted(str(d["request_id"]) for d in stored) == [f"r{n}" for n in range(5)]
