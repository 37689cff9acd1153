"""Walking a user's plays in time order without asking the embedded server to read them all.

The embedded server materialises an index range before returning the first document: a query
bounded only by ``user_id`` (or a sort over it) reads every play of the user first — 35 s at a
million plays, during which it answers nobody else. A bounded ``ended_at`` range costs in
proportion to the plays inside it (~70 µs each). So a walk asks for ``ended_at`` windows — 7
days first, doubling up to 90 — from the present back to Spotify's launch, plus the two open
ends (ends before the launch, ends in the future), which hold next to nothing and so cost
next to nothing. It needs no rollup, so rebuilds and migrations can walk too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]


class Collections(Protocol):
    """A ``Store`` or a bare database (migrations get the latter)."""

    def __getitem__(self, name: str) -> AsyncCollection[Document]: ...


WALK_FIRST_SPAN = timedelta(days=7)
WALK_MAX_SPAN = timedelta(days=90)
ONE_DAY = timedelta(days=1)
# Spotify launched in October 2008: windows stop there, and one open-ended query takes the rest.
SPOTIFY_LAUNCH = datetime(2008, 10, 1, tzinfo=UTC)


async def walk_plays(
    store: Collections,
    user_id: str,
    projection: Mapping[str, Any] | None = None,
    *,
    newest_first: bool = True,
    since: datetime | None = None,
    now: datetime | None = None,
) -> AsyncIterator[Document]:
    """Every play of a user in ``ended_at`` order (ties by ``_id``), window by window; with
    ``since``, only those that ended at or after it."""
    present = (now or datetime.now(UTC)).replace(microsecond=0) + ONE_DAY
    direction = DESCENDING if newest_first else ASCENDING
    for window in _windows(present, newest_first):
        bounds = window
        if since is not None:
            if "$lt" in window and window["$lt"] <= since:
                continue
            bounds = {**window, "$gte": max(window.get("$gte", since), since)}
        cursor = (
            store["plays"]
            .find({"user_id": user_id, "ended_at": bounds}, projection)
            .sort([("user_id", ASCENDING), ("ended_at", direction), ("_id", direction)])
        )
        async for doc in cursor:
            yield doc


def _windows(present: datetime, newest_first: bool) -> list[dict[str, datetime]]:
    """``ended_at`` conditions that tile all of time, in walk order."""
    bounded = []
    hi, span = present, WALK_FIRST_SPAN
    while hi > SPOTIFY_LAUNCH:
        lo = max(SPOTIFY_LAUNCH, hi - span)
        bounded.append({"$gte": lo, "$lt": hi})
        hi, span = lo, min(span * 2, WALK_MAX_SPAN)
    windows = [{"$gte": present}, *bounded, {"$lt": SPOTIFY_LAUNCH}]
    return windows if newest_first else windows[::-1]
