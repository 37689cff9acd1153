"""The relay out: where a user forwards their plays, and the durable queue of plays to forward.

``relay_targets`` holds one document per user who relays: the server's URL and their token
there, sealed like the Spotify tokens (AES-GCM bound to the user id), and the problem that
stopped sending, if any (a refused token waits for the user to fix the settings).

``relay_queue`` holds one document per play to forward, keyed by the play's id, so a play is
queued once however often it is offered. An entry moves from ``pending`` to ``sent`` (or
``rejected``: the server refused that listen; ``dropped``: the play was never stored or was
deleted before it could be sent). Pending entries carry ``next_attempt_at``; failures push it
back. Sent entries are kept 30 days for the record, then expire (a TTL index).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bson import ObjectId
from pymongo import UpdateOne

from echostats.security.crypto import DecryptionError, Sealed, TokenCipher
from echostats.store.boundary import Repository
from echostats.store.database import Store
from echostats.store.duplicates import insert_once

State = Literal["pending", "sent", "rejected", "dropped"]
STATES: tuple[State, ...] = ("pending", "sent", "rejected", "dropped")
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Target:
    user_id: str
    url: str
    token: str | None  # None: it does not open with the configured keys
    problem: str | None  # why sending stopped until the settings change


@dataclass(frozen=True)
class Entry:
    play_id: str
    user_id: str
    state: State
    attempts: int
    track_name: str
    artist_names: tuple[str, ...]
    started_at: datetime
    queued_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Entry:
        return cls(
            play_id=str(doc["_id"]),
            user_id=doc["user_id"],
            state=doc["state"],
            attempts=int(doc.get("attempts", 0)),
            track_name=doc.get("track_name", ""),
            artist_names=tuple(doc.get("artist_names") or ()),
            started_at=doc["started_at"],
            queued_at=doc["queued_at"],
            next_attempt_at=doc.get("next_attempt_at"),
            sent_at=doc.get("sent_at"),
            last_error=doc.get("last_error"),
        )


class RelayTargets(Repository):
    def __init__(self, store: Store, cipher: TokenCipher) -> None:
        self._c = store["relay_targets"]
        self._cipher = cipher

    async def save(self, user_id: str, url: str, token: str, now: datetime) -> None:
        sealed = self._cipher.seal(token, user_id).as_document()
        await self._c.update_one(
            {"_id": user_id},
            {"$set": {"url": url, "token": sealed, "problem": None, "updated_at": now}},
            upsert=True,
        )

    async def get(self, user_id: str) -> Target | None:
        doc = await self._c.find_one({"_id": user_id})
        if doc is None:
            return None
        try:
            token: str | None = self._cipher.open(Sealed.from_document(doc["token"]), user_id)
        except DecryptionError:
            token = None
        return Target(user_id, doc["url"], token, doc.get("problem"))

    async def relaying(self, user_id: str) -> bool:
        return await self._c.count_documents({"_id": user_id}, limit=1) > 0

    async def set_problem(self, user_id: str, problem: str) -> None:
        await self._c.update_one({"_id": user_id}, {"$set": {"problem": problem[:MAX_ERROR_CHARS]}})

    async def remove(self, user_id: str) -> bool:
        return (await self._c.delete_one({"_id": user_id})).deleted_count == 1


class RelayQueue(Repository):
    def __init__(self, store: Store) -> None:
        self._queue = store["relay_queue"]
        self._plays = store["plays"]

    async def enqueue(self, docs: Iterable[Mapping[str, Any]], now: datetime) -> None:
        """Queue plays (their stored documents) once each, however often they are offered."""
        entries = [
            {
                "_id": doc["_id"],
                "user_id": doc["user_id"],
                "state": "pending",
                "attempts": 0,
                "track_name": doc.get("track_name", ""),
                "artist_names": list(doc.get("artist_names") or ()),
                "started_at": doc["started_at"],
                "queued_at": now,
                "next_attempt_at": now,
            }
            for doc in docs
        ]
        if entries:
            await insert_once(self._queue, entries)

    async def due(self, now: datetime, limit: int) -> list[Entry]:
        """Pending entries whose time has come, oldest first."""
        cursor = (
            self._queue.find({"state": "pending", "next_attempt_at": {"$lte": now}})
            .sort("next_attempt_at", 1)
            .limit(limit)
        )
        return [Entry.from_document(doc) async for doc in cursor]

    async def next_due(self) -> datetime | None:
        doc = await self._queue.find_one(
            {"state": "pending"}, {"next_attempt_at": 1}, sort=[("next_attempt_at", 1)]
        )
        return doc["next_attempt_at"] if doc else None

    async def plays(self, play_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored plays behind queue entries (a deleted one is missing)."""
        cursor = self._plays.find({"_id": {"$in": [ObjectId(i) for i in play_ids]}})
        return {str(doc["_id"]): doc async for doc in cursor}

    async def sent(self, play_ids: Sequence[str], now: datetime) -> None:
        await self._queue.update_many(
            {"_id": {"$in": [ObjectId(i) for i in play_ids]}},
            {
                "$set": {"state": "sent", "sent_at": now, "last_error": None},
                "$unset": {"next_attempt_at": ""},
                "$inc": {"attempts": 1},
            },
        )

    async def finish(self, play_ids: Sequence[str], state: State, error: str) -> None:
        """Give up on entries for good (``rejected`` or ``dropped``), saying why."""
        await self._queue.update_many(
            {"_id": {"$in": [ObjectId(i) for i in play_ids]}},
            {
                "$set": {"state": state, "last_error": error[:MAX_ERROR_CHARS]},
                "$unset": {"next_attempt_at": ""},
            },
        )

    async def retry_later(
        self, retries: Mapping[str, datetime], error: str, *, count_attempt: bool = True
    ) -> None:
        """Push pending entries back to ``retries[play_id]``, noting the error."""
        updates = [
            UpdateOne(
                {"_id": ObjectId(play_id), "state": "pending"},
                {
                    "$set": {"next_attempt_at": at, "last_error": error[:MAX_ERROR_CHARS]},
                    "$inc": {"attempts": 1 if count_attempt else 0},
                },
            )
            for play_id, at in retries.items()
        ]
        if updates:
            await self._queue.bulk_write(updates, ordered=False)

    async def release_user(self, user_id: str, now: datetime) -> None:
        """Make a user's pending entries due now (their settings changed)."""
        await self._queue.update_many(
            {"user_id": user_id, "state": "pending"}, {"$set": {"next_attempt_at": now}}
        )

    async def forget_user(self, user_id: str) -> None:
        await self._queue.delete_many({"user_id": user_id})

    async def counts(self, user_id: str) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATES, 0)
        pipeline: list[dict[str, Any]] = [
            {"$match": {"user_id": user_id}},
            {"$group": {"_id": "$state", "n": {"$sum": 1}}},
        ]
        async for row in await self._queue.aggregate(pipeline):
            counts[row["_id"]] = int(row["n"])
        return counts

    async def latest(self, user_id: str, state: State | None, limit: int) -> list[Entry]:
        query: dict[str, Any] = {"user_id": user_id}
        if state is not None:
            query["state"] = state
        cursor = self._queue.find(query).sort("queued_at", -1).limit(limit)
        return [Entry.from_document(doc) async for doc in cursor]
