"""The plays queries that remain (analytics read the ledger) use the plays indexes WITH their
range bounds.

The embedded server's planner falls back to a collection scan when a query adds an equality
on a field no index holds (``counted``), so each query shape is explained here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from echostats.store import Store
from echostats.store.plays import new_play_id, play_document
from tests.domain.factories import make_play

pytestmark = pytest.mark.anyio
T0 = datetime(2025, 1, 10, tzinfo=UTC)


def stages(plan: Any) -> list[str]:
    """The stage names of an explained plan, outermost first (and the index a scan uses)."""
    found: list[str] = []
    while isinstance(plan, dict):
        found.append(str(plan.get("stage")))
        if plan.get("stage") == "IXSCAN":
            found.append(str(plan.get("indexName")))
        plan = plan.get("inputStage")
    return found


async def explain(store: Store, query: dict[str, Any], sort: Any = None) -> list[str]:
    command: dict[str, Any] = {"find": "plays", "filter": query}
    if sort:
        command["sort"] = dict(sort)
    result = await store.db.command("explain", command)
    return stages(result["queryPlanner"]["winningPlan"])


async def test_hot_query_shapes_use_an_index(store: Store) -> None:
    plays = [
        make_play(user_id=user, track_id=f"t{n % 5}", ended_at=T0 - timedelta(hours=n))
        for user in ("u1", "u2")
        for n in range(200)
    ]
    docs = [play_document(new_play_id(p), p, counted=True, batch="b") for p in plays]
    await store["plays"].insert_many(docs)
    lo, hi = T0 - timedelta(days=2), T0
    shapes: dict[str, tuple[dict[str, Any], Any]] = {
        # the aggregator's dedup candidates (PlayStore.in_window)
        "window": ({"user_id": "u1", "ended_at": {"$gte": lo, "$lte": hi}}, None),
        # one month of a ledger build (store.ledger_build)
        "month": ({"user_id": "u1", "ended_at": {"$gte": lo, "$lt": hi}}, None),
    }
    for name, (query, sort) in shapes.items():
        plan = await explain(store, query, sort)
        assert "COLLSCAN" not in plan, (name, plan)
        assert "IXSCAN" in plan, (name, plan)
    # The pitfall these shapes avoid: a predicate on a field no index holds makes it scan.
    assert "COLLSCAN" in await explain(store, {**shapes["window"][0], "counted": True})
    assert "COLLSCAN" in await explain(store, {**shapes["window"][0], "started_at": {"$lt": hi}})
