"""Stored plays and the journal the aggregator writes through.

Only the aggregator writes here. Every batch is journalled first (the new play documents, the
replaced and deleted ones), then applied (plays written, the ledger moved by what the journal
implies), then the journal entry is removed. Each step is idempotent — duplicate inserts are
ignored, and the ledger adds, replaces and removes plays by id — so after a crash the aggregator
simply redoes every journal entry it finds: no play is lost or doubled and the ledger matches
the plays.

The play documents ride in the journal as ONE binary field of concatenated BSON: the embedded
server then stores the entry without walking a thousand sub-documents, which made the journal
as expensive as the plays themselves when it held them as an array.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import bson
from bson import Binary, ObjectId
from bson.codec_options import CodecOptions
from pymongo.errors import BulkWriteError

from echostats.domain.ledger import Row, ms_of
from echostats.domain.plays import Play, from_document, to_document
from echostats.store.boundary import Repository
from echostats.store.collections import Collections
from echostats.store.duplicates import only_duplicates
from echostats.store.ledger_cache import Ledger

Document = dict[str, Any]


@dataclass(frozen=True)
class StoredPlay:
    id: str
    play: Play
    counted: bool


def new_play_id(play: Play) -> str:
    """The id a new play is stored under: a hash of the store's dedup key (user, track key,
    end), so the ``_id`` index alone refuses a second document of one play — two replicas
    storing the same play, or a retried insert — and the plays collection needs no unique
    index of its own (each index halves the embedded store's insert rate)."""
    key = f"{play.user_id}|{play.track_key}|{ms_of(play.ended_at)}"
    return str(
        ObjectId(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).digest())
    )


def play_document(play_id: str, play: Play, *, counted: bool, batch: str) -> Document:
    doc = to_document(play)
    doc.update({"_id": ObjectId(play_id), "counted": counted, "batch": batch})
    return doc


def stored_play(doc: Mapping[str, Any]) -> StoredPlay:
    return StoredPlay(id=str(doc["_id"]), play=from_document(doc), counted=bool(doc["counted"]))


def _pack(docs: Sequence[Mapping[str, Any]]) -> Binary:
    return Binary(b"".join(bson.encode(doc) for doc in docs))


# As the client decodes (``tz_aware``): a redo must see the same UTC datetimes as the first try.
_JOURNAL: CodecOptions[Document] = CodecOptions(tz_aware=True, tzinfo=UTC)


def _unpack(raw: bytes | None) -> list[Document]:
    return bson.decode_all(raw, _JOURNAL) if raw else []


def _row(doc: Mapping[str, Any]) -> Row:
    return Row(doc["_id"].binary, from_document(doc), bool(doc["counted"]))


def _gone(doc: Mapping[str, Any]) -> tuple[bytes, int]:
    return doc["_id"].binary, ms_of(doc["ended_at"])


@dataclass(frozen=True)
class Changes:
    """One batch's writes to the plays collection, as the documents written and removed."""

    inserts: Sequence[Document] = ()
    replacements: Sequence[tuple[Document, Document]] = ()  # (stored, new)
    deletions: Sequence[Document] = ()

    def entry(self, batch: str, user_id: str, *, now: datetime) -> Document:
        """The journal entry recording these changes (built before anything is written)."""
        return {
            "_id": batch,
            "user_id": user_id,
            "inserts": _pack(self.inserts),
            "replaced": _pack([old for old, _ in self.replacements]),
            "replacements": _pack([new for _, new in self.replacements]),
            "deletions": _pack(self.deletions),
            "created_at": now,
        }

    @classmethod
    def of_entry(cls, entry: Mapping[str, Any]) -> Changes:
        replaced, replacements = _unpack(entry["replaced"]), _unpack(entry["replacements"])
        return cls(
            _unpack(entry["inserts"]),
            list(zip(replaced, replacements, strict=True)),
            _unpack(entry["deletions"]),
        )

    def ledger_rows(self) -> tuple[list[tuple[bytes, int]], list[Row]]:
        """How the ledger moves: the replaced and removed plays out, the new documents in."""
        removed = [_gone(old) for old, _ in self.replacements] + [_gone(d) for d in self.deletions]
        added = [_row(d) for d in self.inserts] + [_row(new) for _, new in self.replacements]
        return removed, added


class PlayStore(Repository):
    def __init__(self, store: Collections, ledger: Ledger | None = None) -> None:
        self._plays = store["plays"]
        self._journal = store["rollup_journal"]
        self.ledger = ledger if ledger is not None else Ledger(store)

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

    async def journal(self, entry: Document) -> None:
        """Record a batch (``Changes.entry``) before writing it."""
        await self._journal.insert_one(entry)

    async def write(self, entry: Document, changes: Changes) -> int:
        """Journal and apply one batch; returns how many plays were new."""
        await self.journal(entry)
        return await self._apply(entry["user_id"], entry["_id"], changes)

    async def apply(self, entry: Mapping[str, Any]) -> int:
        """Apply one journal entry (again, if need be); returns how many plays were new."""
        return await self._apply(entry["user_id"], entry["_id"], Changes.of_entry(entry))

    async def _apply(self, user_id: str, batch: str, changes: Changes) -> int:
        inserted = 0
        if changes.inserts:
            try:
                result = await self._plays.insert_many(changes.inserts, ordered=False)
                inserted = len(result.inserted_ids)
            except BulkWriteError as exc:
                # A refused insert is a play already stored under its id: this batch's own,
                # landed before a crash or a retry, or the same play stored by another replica.
                if not only_duplicates(exc):
                    raise
                inserted = int(exc.details.get("nInserted", 0))
        for _, doc in changes.replacements:
            await self._plays.replace_one({"_id": doc["_id"]}, doc)
        if changes.deletions:
            ids = [doc["_id"] for doc in changes.deletions]
            await self._plays.delete_many({"_id": {"$in": ids}})
        removed, added = changes.ledger_rows()
        await self.ledger.apply(user_id, removed, added)
        await self._journal.delete_one({"_id": batch})
        return inserted

    async def unfinished(self) -> list[Document]:
        """Journal entries a crash left behind, oldest first."""
        return await self._journal.find({}).sort("created_at", 1).to_list()
