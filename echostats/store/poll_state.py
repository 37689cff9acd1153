"""What the poller remembers per user: its recently-played cursor, and the gaps it found.

``poll_state`` holds one document per user (``_id`` = user id) with ``cursor``, the ``played_at``
(Unix ms) of the newest polled play the aggregator has acknowledged. ``gaps`` records stretches
of time whose plays were lost (more than 50 plays between two reads). ``pollable_users`` reads the
tokens collection because "who can be polled" is "who has usable Spotify tokens".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from echostats.store.boundary import Repository
from echostats.store.database import Store

Document = dict[str, Any]


@dataclass(frozen=True)
class Gap:
    user_id: str
    start: datetime  # the cursor: the last play we have before the loss
    end: datetime  # the oldest play Spotify still had
    detected_at: datetime


class PollState(Repository):
    def __init__(self, store: Store) -> None:
        self._state = store["poll_state"]
        self._gaps = store["gaps"]
        self._tokens = store["tokens"]

    async def cursor(self, user_id: str) -> int | None:
        doc = await self._state.find_one({"_id": user_id}, {"cursor": 1})
        return None if doc is None else doc.get("cursor")

    async def advance(self, user_id: str, cursor: int, now: datetime) -> None:
        """Move the cursor forward (never back: a late writer cannot rewind it)."""
        await self._state.update_one(
            {"_id": user_id},
            {"$max": {"cursor": cursor}, "$set": {"updated_at": now}},
            upsert=True,
        )

    async def record_gap(self, gap: Gap) -> None:
        """Idempotent: the same gap found again (a retry after a crash) is stored once."""
        start_ms = int(gap.start.timestamp() * 1000)
        await self._gaps.update_one(
            {"_id": f"{gap.user_id}:{start_ms}"},
            {
                "$setOnInsert": {
                    "user_id": gap.user_id,
                    "from": gap.start,
                    "to": gap.end,
                    "detected_at": gap.detected_at,
                }
            },
            upsert=True,
        )

    async def pollable_users(self) -> list[str]:
        """Users with stored tokens that Spotify has not rejected."""
        docs = await self._tokens.find({"reauth_required": {"$ne": True}}, {"_id": 1}).to_list()
        return sorted(str(d["_id"]) for d in docs)
