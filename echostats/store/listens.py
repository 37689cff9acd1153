"""Reading a user's plays back the way ListenBrainz lists listens: by START time, newest first.

Plays are indexed by ``user + ended_at``; a play ends after it starts and (for matching,
``dedup.MAX_SPAN``) not much later, so the scan walks ``ended_at`` and stops as soon as no
later document can start inside the page. Only counted plays are listens.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from echostats.domain.dedup import MAX_SPAN
from echostats.domain.plays import Play
from echostats.store.database import Store
from echostats.store.plays import stored_play


@dataclass(frozen=True)
class ListenPage:
    plays: list[Play]  # newest start first
    newest_start: datetime | None  # of all the user's listens
    oldest_start: datetime | None


async def _start_of(store: Store, user_id: str, direction: int) -> datetime | None:
    doc = await store["plays"].find_one(
        {"user_id": user_id, "counted": True},
        {"started_at": 1},
        sort=[("ended_at", direction)],
    )
    if doc is None:
        return None
    started: datetime = doc["started_at"]
    return started if started.tzinfo else started.replace(tzinfo=UTC)


async def listens(
    store: Store,
    user_id: str,
    *,
    before: datetime | None,
    after: datetime | None,
    count: int,
) -> ListenPage:
    """Up to ``count`` counted plays that started strictly between ``after`` and ``before``:
    the newest ones, or with only ``after`` given the ones right after it."""
    query: dict[str, object] = {"user_id": user_id, "counted": True}
    bounds: dict[str, datetime] = {}
    if after is not None:
        bounds["$gt"] = after
    if before is not None:
        bounds["$lt"] = before + MAX_SPAN
    if bounds:
        query["ended_at"] = bounds
    forward = after is not None and before is None  # paging towards newer listens

    def rank(play: Play) -> float:  # higher is better: newer, or older when paging forward
        return -play.started_at.timestamp() if forward else play.started_at.timestamp()

    best: list[tuple[float, int, Play]] = []  # the best ``count`` so far, the worst on top
    order = itertools.count()
    if count > 0:
        async for doc in store["plays"].find(query).sort("ended_at", 1 if forward else -1):
            play = stored_play(doc).play
            if (before is not None and play.started_at >= before) or (
                after is not None and play.started_at <= after
            ):
                continue
            entry = (rank(play), next(order), play)
            if len(best) < count:
                heapq.heappush(best, entry)
            elif entry[0] > best[0][0]:
                heapq.heapreplace(best, entry)
            if len(best) == count and _past(play, best[0][2], forward):
                break
    plays = sorted((p for _, _, p in best), key=lambda p: p.started_at, reverse=True)
    newest, oldest = await _start_of(store, user_id, -1), await _start_of(store, user_id, 1)
    return ListenPage(plays, newest, oldest)


def _past(current: Play, worst_kept: Play, forward: bool) -> bool:
    """No document after ``current`` in scan order can start better than ``worst_kept``."""
    if forward:  # later ends; a play starts at most MAX_SPAN before it ends
        return current.ended_at - MAX_SPAN > worst_kept.started_at
    return current.ended_at < worst_kept.started_at  # earlier ends, so earlier starts
