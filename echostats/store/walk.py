"""Walking a user's plays in time order without asking the embedded server to sort them all.

Given an unbounded sort, the embedded server reads and sorts every play of the user before it
answers (and, being single-threaded, answers nobody else meanwhile). So a walk follows the
history timeline (``rollups.Level.ENDED``) in bounded ``ended_at`` windows — 7 days first,
doubling up to 90 — each a range the ``(user_id, ended_at)`` index bounds and a sort of a few
thousand plays at most.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING

from echostats.domain.history import first_active_day, last_active_day
from echostats.domain.rollups import Level
from echostats.store.rollups import Collections, RollupStore

Document = dict[str, Any]
WALK_FIRST_SPAN = timedelta(days=7)
WALK_MAX_SPAN = timedelta(days=90)
ONE_DAY = timedelta(days=1)


async def walk_plays(
    store: Collections,
    user_id: str,
    projection: Mapping[str, Any] | None = None,
    *,
    newest_first: bool = True,
) -> AsyncIterator[Document]:
    """Every play of a user in ``ended_at`` order (ties by ``_id``), window by window."""
    timeline = await RollupStore(store).levels(user_id, Level.ENDED)
    newest, oldest = last_active_day(timeline), first_active_day(timeline)
    if newest is None or oldest is None:
        return
    floor = datetime.combine(oldest, time(), UTC)
    ceiling = datetime.combine(newest + ONE_DAY, time(), UTC)
    order = [("user_id", ASCENDING), ("ended_at", DESCENDING if newest_first else ASCENDING)]
    span = WALK_FIRST_SPAN
    edge = ceiling if newest_first else floor
    while floor < edge if newest_first else edge < ceiling:
        lo, hi = (
            (max(floor, edge - span), edge) if newest_first else (edge, min(ceiling, edge + span))
        )
        cursor = (
            store["plays"]
            .find({"user_id": user_id, "ended_at": {"$gte": lo, "$lt": hi}}, projection)
            .sort([*order, ("_id", order[1][1])])
        )
        async for doc in cursor:
            yield doc
        edge = lo if newest_first else hi
        span = min(span * 2, WALK_MAX_SPAN)
