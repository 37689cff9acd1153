"""The api-call log's writes: a batch retried after the database failed part way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from echostats.store import Store
from echostats.store.api_logs import ApiLogs

pytestmark = pytest.mark.anyio


async def test_a_batch_retried_after_landing_in_part_stores_each_record_once(store: Store) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    batch = [
        {"user_id": "u", "endpoint": f"/v1/me/{i}", "status_code": 200, "timestamp": now}
        for i in range(5)
    ]
    # The first attempt stored two records before the connection broke; PyMongo had already
    # given every record its _id, so the logger's retry sends the same ids again.
    await store["api_logs"].insert_many(batch[:2])
    await ApiLogs(store).insert_many(batch)
    stored = await store["api_logs"].find({}, {"endpoint": 1}).to_list()
    assert sorted(str(d["endpoint"]) for d in stored) == [f"/v1/me/{i}" for i in range(5)]
