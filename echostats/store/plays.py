"""Stored plays and the rollup journal the aggregator writes through.

Only the aggregator writes here. Every batch is journalled first (new play documents,
replacements and the rollup increments it implies), then applied, then the journal entry is
removed. Each step is idempotent, so after a crash the aggregator simply redoes every journal
entry it finds: no play is lost or doubled and the rollups match the plays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from echostats.domain.plays import Play, from_document, to_document
from echostats.store.database import Store

Document = dict[str, Any]
DUPLICATE_KEY = 11000
# A day document remembers the last batches applied to it; redoing one of those is a no-op.
APPLIED_MEMORY = 32


@dataclass(frozen=True)
class StoredPlay:
    id: str
    play: Play
    counted: bool


def new_play_id() -> str:
    return str(ObjectId())


def play_document(play_id: str, play: Play, *, counted: bool, batch: str) -> Document:
    doc = to_document(play)
    doc.update({"_id": ObjectId(play_id), "counted": counted, "batch": batch})
    return doc


def stored_play(doc: Mapping[str, Any]) -> StoredPlay:
    return StoredPlay(id=str(doc["_id"]), play=from_document(doc), counted=bool(doc["counted"]))


class PlayStore:
    def __init__(self, store: Store) -> None:
        self._plays = store["plays"]
        self._rollups = store["rollups"]
        self._journal = store["rollup_journal"]

    async def in_window(self, user_id: str, lo: datetime, hi: datetime) -> list[StoredPlay]:
        """Plays of ``user_id`` that ended in ``[lo, hi]`` (the dedup candidates of a batch)."""
        cursor = self._plays.find({"user_id": user_id, "ended_at": {"$gte": lo, "$lte": hi}})
        return [stored_play(doc) async for doc in cursor]

    async def get(self, user_id: str, play_id: str) -> StoredPlay | None:
        if not ObjectId.is_valid(play_id):
            return None
        doc = await self._plays.find_one({"_id": ObjectId(play_id), "user_id": user_id})
        return stored_play(doc) if doc else None

    # --- the journalled write ------------------------------------------------------------------

    async def journal(
        self,
        batch: str,
        user_id: str,
        *,
        inserts: Sequence[Document] = (),
        replacements: Sequence[Document] = (),
        deletions: Sequence[str] = (),
        increments: Mapping[str, Mapping[str, int]],
        now: datetime,
    ) -> Document:
        entry: Document = {
            "_id": batch,
            "user_id": user_id,
            "inserts": list(inserts),
            "replacements": list(replacements),
            "deletions": [ObjectId(d) for d in deletions],
            "increments": {day: dict(fields) for day, fields in increments.items()},
            "created_at": now,
        }
        await self._journal.insert_one(entry)
        return entry

    async def apply(self, entry: Mapping[str, Any]) -> int:
        """Apply one journal entry (again, if need be); returns how many plays were new."""
        inserted = 0
        if entry["inserts"]:
            try:
                result = await self._plays.insert_many(entry["inserts"], ordered=False)
                inserted = len(result.inserted_ids)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(err.get("code") != DUPLICATE_KEY for err in errors):
                    raise
                inserted = int(exc.details.get("nInserted", 0))
        for doc in entry["replacements"]:
            await self._plays.replace_one({"_id": doc["_id"]}, doc)
        if entry["deletions"]:
            await self._plays.delete_many({"_id": {"$in": entry["deletions"]}})
        await self._apply_increments(entry["user_id"], entry["_id"], entry["increments"])
        await self._journal.delete_one({"_id": entry["_id"]})
        return inserted

    async def _apply_increments(
        self, user_id: str, batch: str, increments: Mapping[str, Mapping[str, int]]
    ) -> None:
        operations = [
            UpdateOne(
                {"user_id": user_id, "day": day, "applied": {"$ne": batch}},
                {
                    "$inc": dict(fields),
                    "$push": {"applied": {"$each": [batch], "$slice": -APPLIED_MEMORY}},
                },
                upsert=True,
            )
            for day, fields in increments.items()
            if fields
        ]
        if not operations:
            return
        try:
            await self._rollups.bulk_write(operations, ordered=False)
        except BulkWriteError as exc:
            # A duplicate key here means the filter missed because the day already carries this
            # batch (a redo after a crash): exactly the no-op we want.
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise

    async def unfinished(self) -> list[Document]:
        """Journal entries a crash left behind, oldest first."""
        return await self._journal.find({}).sort("created_at", 1).to_list()
