"""The stored play ledger (``echostats.domain.ledger``): segments, dictionaries and a head.

Documents (no secondary index: everything is read by ``_id`` or an ``_id`` prefix range):

* ``ledger`` — ``_id`` ``"<user>|<YYYY-MM>"``: one UTC month of a user's plays as binary
  columns, and ``rev``, an integer that grows with every write of the segment. A document holds
  at most ``PART_PLAYS`` plays (~7 MiB of the 16 MiB a document may have): a busier month keeps
  the rest in ``ledger_parts`` documents, written first under fresh ids and named by the
  segment's ``parts`` list, so the compare-and-set of the one segment document still decides
  what a month holds;
* ``ledger_dictionary`` — ``_id`` ``"<user>|<kind>|<chunk:06d>"``: the user's append-only
  dictionaries in chunks of ``CHUNK`` values, with ``size``: kind ``s`` (platforms, reasons,
  countries, contexts) as one JSON array; kind ``t`` (spellings) also with what reads need
  without decoding them (``echostats.domain.spellings``);
* ``ledger_heads`` — ``_id`` = user: ``version`` (grows with every change), the ``rev`` of every
  segment and the size of each dictionary. One small read tells a cache what it must reload.

Writes are compare-and-set: a segment is replaced only if it still has the ``rev`` it was read
with, a dictionary chunk only if it still has the ``size``; a writer that loses reloads and
redoes (several replicas may write one user). Heads are moved with ``$max`` so a slow writer
can never move them back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from bson import Binary
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from echostats.domain.identity import SpellingKeys
from echostats.domain.ledger import Columns, Spelling, pack_columns, unpack_columns
from echostats.domain.spellings import CHUNK, SpellingChunk
from echostats.store.boundary import Repository
from echostats.store.collections import Collections

Document = dict[str, Any]
KINDS = ("t", "s")
SEGMENTS, PARTS, DICTIONARY, HEADS = "ledger", "ledger_parts", "ledger_dictionary", "ledger_heads"
FORMAT = 1
PART_PLAYS = 100_000  # ~70 bytes a play: ~7 MiB a document
MAX_READS = 5


class LedgerConflict(RuntimeError):
    """Another writer changed the document first; reload and try again."""


@dataclass(frozen=True, slots=True)
class Head:
    version: int
    months: Mapping[str, int]  # month → segment rev
    sizes: Mapping[str, int]  # dictionary kind → values stored


@dataclass(frozen=True, slots=True)
class Segment:
    month: str
    rev: int
    columns: Columns


def _packed(columns: Columns) -> dict[str, Binary]:
    return {k: Binary(v) for k, v in pack_columns(columns).items()}


def _segment(doc: Document, parts: Mapping[str, Any]) -> Segment:
    pieces = [doc["cols"], *(parts[part] for part in doc.get("parts", ()))]
    columns = Columns.concat([unpack_columns(piece) for piece in pieces])
    return Segment(str(doc["month"]), int(doc["rev"]), columns)


def segment_id(user_id: str, month: str) -> str:
    return f"{user_id}|{month}"


def chunk_id(user_id: str, kind: str, chunk: int) -> str:
    return f"{user_id}|{kind}|{chunk:06d}"


def _prefix_range(prefix: str) -> dict[str, str]:
    # "|" sorts before "}", so every id starting with the prefix lies in [prefix, prefix + "}").
    return {"$gte": prefix, "$lt": prefix[:-1] + "}"}


def _head(doc: Mapping[str, Any] | None) -> Head:
    if doc is None:
        return Head(0, {}, dict.fromkeys(KINDS, 0))
    return Head(
        int(doc.get("version", 0)),
        {str(k): int(v) for k, v in (doc.get("months") or {}).items()},
        {kind: int(doc.get(f"size_{kind}", 0)) for kind in KINDS},
    )


class LedgerStore(Repository):
    def __init__(self, db: Collections, part_plays: int = PART_PLAYS) -> None:
        self._segments = db[SEGMENTS]
        self._parts = db[PARTS]
        self._part_plays = part_plays
        self._dictionary = db[DICTIONARY]
        self._heads = db[HEADS]

    async def head(self, user_id: str) -> Head:
        return _head(await self._heads.find_one({"_id": user_id}))

    async def move_head(
        self, user_id: str, months: Mapping[str, int], sizes: Mapping[str, int]
    ) -> Head:
        """Record new segment revs and dictionary sizes (never moving either back)."""
        raised: Document = {f"months.{m}": rev for m, rev in months.items()}
        raised.update({f"size_{kind}": size for kind, size in sizes.items()})
        update: Document = {"$inc": {"version": 1}}
        if raised:
            update["$max"] = raised
        doc = await self._heads.find_one_and_update(
            {"_id": user_id}, update, upsert=True, return_document=ReturnDocument.AFTER
        )
        return _head(doc)

    # --- segments ------------------------------------------------------------------------------

    async def segments(self, user_id: str, months: Sequence[str] | None = None) -> list[Segment]:
        """The user's segments (all, or those of ``months``), oldest first."""
        if months is None:
            query: Document = {"_id": _prefix_range(f"{user_id}|")}
        elif not months:
            return []
        else:
            query = {"_id": {"$in": [segment_id(user_id, m) for m in months]}}
        for _ in range(MAX_READS):
            docs = await self._segments.find(query).to_list()
            docs = [d for d in docs if d.get("user_id") == user_id]
            wanted = [part for d in docs for part in d.get("parts", ())]
            found = {}
            if wanted:
                found = {
                    p["_id"]: p["cols"] async for p in self._parts.find({"_id": {"$in": wanted}})
                }
            if len(found) == len(wanted):
                return sorted((_segment(d, found) for d in docs), key=lambda s: s.month)
            # A writer replaced a busy month between the two reads (its old parts are gone).
        raise LedgerConflict(f"the segments of {user_id} kept changing while read")

    async def write_segment(self, user_id: str, segment: Segment, expected_rev: int) -> None:
        """Store ``segment`` (its ``rev`` one above ``expected_rev``) unless another writer
        moved the segment since it was read at ``expected_rev`` (0: it did not exist)."""
        seg_id = segment_id(user_id, segment.month)
        n, size = len(segment.columns), self._part_plays
        pieces = [segment.columns]
        if n > size:
            pieces = [
                segment.columns.take(np.arange(at, min(at + size, n))) for at in range(0, n, size)
            ]
        parts = [
            {
                "_id": f"{seg_id}#{uuid.uuid4().hex}",
                "user_id": user_id,
                "month": segment.month,
                "rev": segment.rev,
                "cols": _packed(piece),
            }
            for piece in pieces[1:]
        ]
        if parts:
            await self._parts.insert_many(parts)
        doc = {
            "_id": seg_id,
            "user_id": user_id,
            "month": segment.month,
            "rev": segment.rev,
            "n": n,
            "fmt": FORMAT,
            "cols": _packed(pieces[0]),
            "parts": [p["_id"] for p in parts],
        }
        try:
            await self._replace(doc, expected_rev)
        except LedgerConflict:
            if parts:  # never named by any segment: nobody reads them
                await self._parts.delete_many({"_id": {"$in": doc["parts"]}})
            raise
        # The parts of earlier revs (and of writers that crashed before their segment).
        await self._parts.delete_many(
            {"_id": _prefix_range(f"{seg_id}#"), "rev": {"$lt": segment.rev}}
        )

    async def _replace(self, doc: Document, expected_rev: int) -> None:
        if expected_rev == 0:
            try:
                await self._segments.insert_one(doc)
            except DuplicateKeyError:
                raise LedgerConflict(doc["month"]) from None
            return
        result = await self._segments.replace_one({"_id": doc["_id"], "rev": expected_rev}, doc)
        if result.matched_count == 0:
            raise LedgerConflict(doc["month"])

    # --- dictionaries ---------------------------------------------------------------------------

    async def _chunks(self, user_id: str, kind: str, start: int) -> list[Document]:
        """The chunk documents of one dictionary from the one holding position ``start``."""
        bounds = _prefix_range(f"{user_id}|{kind}|") | {
            "$gte": chunk_id(user_id, kind, start // CHUNK)
        }
        docs = await self._dictionary.find({"_id": bounds}).to_list()
        return sorted(docs, key=lambda d: str(d["_id"]))

    async def strings(self, user_id: str, start: int) -> list[str]:
        """The string dictionary from position ``start`` (any position)."""
        values: list[str] = []
        for doc in await self._chunks(user_id, "s", start):
            values.extend(json.loads(bytes(doc["values"])))
        return values[start % CHUNK :]

    async def spellings(self, user_id: str, start: int) -> list[SpellingChunk]:
        """The spelling chunks from the one holding position ``start`` (whole chunks)."""
        return [
            SpellingChunk(
                values=bytes(doc["values"]),
                offsets=np.frombuffer(doc["offsets"], "<i8").astype(np.int64),
                keys=SpellingKeys.unpack(doc["keys"]),
                digests=bytes(doc["digests"]),
                search=str(doc["search"]),
            )
            for doc in await self._chunks(user_id, "t", start)
        ]

    async def _put_chunk(self, expected_size: int, doc: Document) -> None:
        """Write a chunk document that held ``expected_size`` values (0: a new chunk)."""
        if expected_size % CHUNK == 0:
            try:
                await self._dictionary.insert_one(doc)
            except DuplicateKeyError:
                raise LedgerConflict(str(doc["_id"])) from None
            return
        result = await self._dictionary.replace_one({"_id": doc["_id"], "size": expected_size}, doc)
        if result.matched_count == 0:
            raise LedgerConflict(str(doc["_id"]))

    async def append_strings(self, user_id: str, size: int, values: Sequence[str]) -> int:
        """Append to a string dictionary the caller knows to hold ``size`` values; returns
        the new size. ``LedgerConflict`` when someone appended first."""
        at, pending = size, list(values)
        while pending:
            chunk, offset = divmod(at, CHUNK)
            part, pending = pending[: CHUNK - offset], pending[CHUNK - offset :]
            existing: list[str] = []
            if offset:
                doc = await self._dictionary.find_one({"_id": chunk_id(user_id, "s", chunk)})
                if doc is None or doc.get("size") != at:
                    raise LedgerConflict("strings")
                existing = json.loads(bytes(doc["values"]))
            blob = json.dumps(existing + part, ensure_ascii=False, separators=(",", ":"))
            await self._put_chunk(
                at,
                {
                    "_id": chunk_id(user_id, "s", chunk),
                    "user_id": user_id,
                    "size": at + len(part),
                    "values": Binary(blob.encode("utf-8")),
                },
            )
            at += len(part)
        return at

    async def append_spellings(
        self,
        user_id: str,
        last: SpellingChunk | None,
        size: int,
        spellings: Sequence[Spelling],
    ) -> list[SpellingChunk]:
        """Append spellings to a dictionary the caller knows to hold ``size`` of them, ending
        with ``last`` (the partly filled chunk, None when the last chunk is full); returns the
        chunks written (the extended last one first). ``LedgerConflict`` when someone
        appended first."""
        written: list[SpellingChunk] = []
        at, pending = size, list(spellings)
        while pending:
            chunk, offset = divmod(at, CHUNK)
            part, pending = pending[: CHUNK - offset], pending[CHUNK - offset :]
            base = last if offset and last is not None else SpellingChunk.of([])
            if offset and last is None:
                raise LedgerConflict("spellings")
            extended = base.extended(part)
            await self._put_chunk(
                at,
                {
                    "_id": chunk_id(user_id, "t", chunk),
                    "user_id": user_id,
                    "size": at + len(part),
                    "values": Binary(extended.values),
                    "offsets": Binary(extended.offsets.astype("<i8").tobytes()),
                    "keys": {k: Binary(v) for k, v in extended.keys.pack().items()},
                    "digests": Binary(extended.digests),
                    "search": extended.search,
                },
            )
            written.append(extended)
            at += len(part)
            last = None
        return written
