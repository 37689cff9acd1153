"""Building a user's ledger from the stored plays, month by month (a rebuild, or the first
build after upgrading from rollups).

Each month is read with one bounded ``(user_id, ended_at)`` range — the embedded server reads
only that month's plays — and written while no other ledger write of the user can run in this
process (``Ledger.rebuild_month``), so plays recorded during a build are never lost: the
aggregator keeps running. A build can stop at any month and continue from the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import numpy as np

from echostats.domain.ledger import Row
from echostats.domain.plays import from_document
from echostats.store.boundary import translating
from echostats.store.collections import Collections
from echostats.store.ledger_cache import Ledger, month_of

Progress = Callable[[str, int], Awaitable[None]]  # (month just built, plays so far)
# Spotify launched in October 2008: one month at a time from there, and one query for the
# handful of plays before it (or reported in the future).
SPOTIFY_LAUNCH = datetime(2008, 10, 1, tzinfo=UTC)


def month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=UTC)


def next_month(month: str) -> str:
    return str(np.datetime64(month, "M") + 1)


async def _months_outside(db: Collections, user_id: str, lo: datetime, hi: datetime) -> list[str]:
    """Months holding the user's plays that ended before ``lo`` or at/after ``hi`` (a
    handful at most: before Spotify existed, or reported in the future)."""
    found = set()
    # Two indexed ranges (an ``$or`` makes the embedded server scan the whole collection).
    for bounds in ({"$lt": lo}, {"$gte": hi}):
        cursor = db["plays"].find({"user_id": user_id, "ended_at": bounds}, {"ended_at": 1})
        async for doc in cursor:
            ended: datetime = doc["ended_at"]
            found.add(f"{ended.year:04d}-{ended.month:02d}")
    return sorted(found)


async def months_to_build(db: Collections, user_id: str, now: datetime) -> AsyncIterator[str]:
    """Every month that can hold the user's plays, oldest first."""
    first = month_of(int(SPOTIFY_LAUNCH.timestamp() * 1000))
    last = month_of(int((now + timedelta(days=1)).timestamp() * 1000))
    outside = await _months_outside(db, user_id, month_start(first), month_start(next_month(last)))
    for month in (m for m in outside if m < first):
        yield month
    month = first
    while month <= last:
        yield month
        month = next_month(month)
    for month in (m for m in outside if m > last):
        yield month


@translating
async def build_ledger(
    db: Collections,
    ledger: Ledger,
    user_id: str,
    now: datetime,
    *,
    after: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Rebuild every month of the user's ledger (those after ``after`` when resuming) from
    the stored plays; returns how many plays were read."""
    total = 0
    async for month in months_to_build(db, user_id, now):
        if after is not None and month <= after:
            continue

        async def read(month: str = month) -> list[Row]:
            cursor = db["plays"].find(
                {
                    "user_id": user_id,
                    "ended_at": {"$gte": month_start(month), "$lt": month_start(next_month(month))},
                },
                {"batch": 0},
            )
            return [
                Row(doc["_id"].binary, from_document(doc), bool(doc.get("counted")))
                async for doc in cursor
            ]

        total += await ledger.rebuild_month(user_id, month, read)
        if progress is not None:
            await progress(month, total)
    return total
