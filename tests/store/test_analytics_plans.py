"""The plays queries of the analytics read side use the plays indexes WITH their range bounds.

The embedded server's planner falls back to a collection scan when a query adds an equality
on a field no index holds (``counted``), so each hot query shape is explained here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from echostats.store import Store
from echostats.store.analytics import NEWEST_FIRST
from echostats.store.plays import new_play_id, play_document
from tests.domain.factories import make_play
from tests.store.test_listening import stages

pytestmark = pytest.mark.anyio
T0 = datetime(2025, 1, 10, tzinfo=UTC)


async def explain(store: Store, query: dict[str, Any], sort: Any = None) -> list[str]:
    command: dict[str, Any] = {"find": "plays", "filter": query}
    if sort:
        command["sort"] = dict(sort)
    result = await store.db.command("explain", command)
    return stages(result["queryPlanner"]["winningPlan"])


async def test_hot_query_shapes_use_an_index(store: Store) -> None:
    docs = [
        play_document(
            new_play_id(),
            make_play(user_id=user, track_id=f"t{n % 5}", ended_at=T0 - timedelta(hours=n)),
            counted=n % 3 > 0,
            batch="b",
        )
        for user in ("u1", "u2")
        for n in range(200)
    ]
    await store["plays"].insert_many(docs)
    lo, hi = T0 - timedelta(days=2), T0
    shapes: dict[str, tuple[dict[str, Any], Any]] = {
        # a history page's days (store.analytics._recent_page) and a walk window (store.walk)
        "window": ({"user_id": "u1", "ended_at": {"$gte": lo, "$lt": hi}}, NEWEST_FIRST),
        # the raw-play path and one day's plays (AnalyticsStore._started_in)
        "started_in": ({"user_id": "u1", "ended_at": {"$gte": lo}}, NEWEST_FIRST),
        "one_day": (
            {"user_id": "u1", "ended_at": {"$gte": lo, "$lt": hi + timedelta(days=31)}},
            NEWEST_FIRST,
        ),
        # a track's plays (track_plays)
        "track": ({"user_id": "u1", "track_key": "spotify:track:t1"}, None),
    }
    for name, (query, sort) in shapes.items():
        plan = await explain(store, query, sort)
        assert "COLLSCAN" not in plan, (name, plan)
        assert "IXSCAN" in plan, (name, plan)
    # The pitfall these shapes avoid: a predicate on a field no index holds makes it scan.
    assert "COLLSCAN" in await explain(store, {**shapes["window"][0], "counted": True})
    assert "COLLSCAN" in await explain(store, {**shapes["window"][0], "started_at": {"$lt": hi}})
