"""Read-only views of a user's plays for recommendations and per-item play counts.

Both queries start with an indexed ``$match`` (plays carry two indexes: ``user_ended`` and the
unique ``user_track_ended``), so they touch only the user's plays in range, never the whole
collection; the plans are checked in ``tests/store/test_listening.py``. Neither is pinned with
``hint``: the embedded server then scans the index's whole ``user_id`` prefix instead of the
range, while its own planner picks the same index WITH the range bounds.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from echostats.domain.plays import from_document as play_from_document
from echostats.domain.plays import play_artist_keys
from echostats.domain.recommend import Listen
from echostats.store.database import Store

_FIELDS = (
    "user_id",
    "counted",
    "track_key",
    "track_id",
    "track_name",
    "artist_names",
    "artist_ids",
    "album_name",
    "album_id",
    "started_at",
    "ended_at",
)
# Play fields ``from_document`` needs that recommending does not read; filled with neutral values.
_NEUTRAL: dict[str, Any] = {
    "ms_played": 0,
    "ms_played_estimated": False,
    "duration_ms": None,
    "source": "import",
}


def window_filter(user_id: str, since: datetime) -> dict[str, Any]:
    # ``counted`` is checked in the app: an equality on a field no index holds makes the
    # embedded server's planner drop the index and scan the whole collection.
    return {"user_id": user_id, "ended_at": {"$gte": since}}


def counts_pipeline(user_id: str, track_keys: Collection[str]) -> list[dict[str, Any]]:
    return [
        {"$match": {"user_id": user_id, "track_key": {"$in": sorted(track_keys)}}},
        {
            "$group": {
                "_id": "$track_key",
                "plays": {"$sum": {"$cond": ["$counted", 1, 0]}},
                "last": {"$max": {"$cond": ["$counted", "$ended_at", None]}},
            }
        },
    ]


class Listening:
    def __init__(self, store: Store) -> None:
        self._plays = store["plays"]

    async def listens_since(self, user_id: str, since: datetime, limit: int) -> list[Listen]:
        """The user's newest ``limit`` counted plays that ended at or after ``since``."""
        projection = dict.fromkeys(_FIELDS, 1) | {"_id": 0}
        cursor = self._plays.find(window_filter(user_id, since), projection).sort(
            [("user_id", 1), ("ended_at", -1)]
        )
        listens: list[Listen] = []
        async for doc in cursor:
            if len(listens) >= limit:
                break
            if not doc.pop("counted", False):
                continue
            play = play_from_document({**_NEUTRAL, **doc})
            listens.append(
                Listen(
                    track_key=play.track_key,
                    track_id=play.track_id,
                    track_name=play.track_name,
                    artist_keys=play_artist_keys(play),
                    artist_names=play.artist_names,
                    album_name=play.album_name,
                    started_at=play.started_at,
                    ended_at=play.ended_at,
                )
            )
        return listens

    async def play_counts(
        self, user_id: str, track_keys: Collection[str]
    ) -> dict[str, tuple[int, datetime]]:
        """Track key → (counted plays, last ended_at), in one aggregation; absent when unplayed."""
        if not track_keys:
            return {}
        cursor = await self._plays.aggregate(counts_pipeline(user_id, track_keys))
        return {
            doc["_id"]: (int(doc["plays"]), doc["last"]) async for doc in cursor if doc["plays"]
        }
