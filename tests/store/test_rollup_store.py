"""Stored rollups: concurrent read-modify-writes and redone batches still add up exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from echostats.domain.rollups import change
from echostats.store import Store
from echostats.store.rollups import RollupStore
from tests.domain.factories import make_play
from tests.rollup_views import brute_view, stored_view

pytestmark = pytest.mark.anyio
T0 = datetime(2024, 12, 31, 22, tzinfo=UTC)


async def test_concurrent_writers_and_redone_batches_add_up(store: Store) -> None:
    plays = [
        make_play(user_id="u1", track_id=f"t{n % 7}", ended_at=T0 + timedelta(hours=n))
        for n in range(60)
    ]
    batches = [plays[i : i + 6] for i in range(0, 60, 6)]
    writers = [RollupStore(store) for _ in range(3)]  # as if three replicas wrote at once

    async def write(n: int) -> None:
        moves = change([(p, True) for p in batches[n]], (), UTC)
        await writers[n % 3].apply("u1", f"batch-{n}", moves)
        await writers[(n + 1) % 3].apply("u1", f"batch-{n}", moves)  # a redo is a no-op

    async with anyio.create_task_group() as tg:
        for n in range(len(batches)):
            tg.start_soon(write, n)
    docs = await store["rollups"].find({"user_id": "u1"}).to_list()
    for level in ("d", "m", "y"):
        assert stored_view(docs, level) == brute_view(plays, UTC), level
    assert stored_view(docs, "e")["plays"] == 60
