"""Stored rollups (``echostats.domain.rollups``): one document per user, level and period.

``_id`` is ``"<user>|<level>|<period>"``; the counters are binary fields (see the domain module
for why), so the server never walks them. Writes are read-modify-write, made safe by ``rev``:
a write only lands if the document still carries the ``rev`` it was read with (a fresh random
token per write, so no ABA), otherwise it is read again and redone. ``applied`` remembers the
last batches a document took, which makes redoing a journal entry after a crash a no-op.

The history timeline lives here too: level ``e`` documents count EVERY stored play (counted or
not) per UTC day of its end, per UTC year, so a history page can find which days hold its rows
without counting plays on the server.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date, tzinfo
from typing import Any

import anyio
from bson import Binary
from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError

from echostats.domain.plays import Play, from_document
from echostats.domain.rollups import (
    SECTIONS,
    Builder,
    Counters,
    Delta,
    Level,
    Rollup,
    RollupId,
    active_days,
    pack_counters,
    pack_pairs,
    unpack_counters,
    unpack_pairs,
)
from echostats.store.duplicates import only_duplicates
from echostats.store.walk import Collections, walk_plays

Document = dict[str, Any]
FORMAT = 1
# A document remembers the last batches applied to it; redoing one of those is a no-op.
APPLIED_MEMORY = 32
# Read-modify-write attempts before giving up (another writer winning 8 times in a row means
# something is wrong, not busy).
MAX_ATTEMPTS = 8
WRITE_BATCH = 200


class WriteConflict(RuntimeError):
    """A rollup kept changing under a read-modify-write."""


def doc_id(user_id: str, rid: RollupId) -> str:
    return f"{user_id}|{rid[0].value}|{rid[1]}"


def encode(user_id: str, rollup: Rollup) -> Document:
    doc: Document = {
        "_id": doc_id(user_id, (rollup.level, rollup.period)),
        "user_id": user_id,
        "level": rollup.level.value,
        "period": rollup.period,
        "fmt": FORMAT,
        "plays": rollup.plays,
        "ms": rollup.ms,
        "days": Binary(pack_pairs(rollup.days)),
        "heat": Binary(pack_pairs(rollup.heat)),
    }
    for section in SECTIONS:
        counters = rollup.sections.get(section)
        if counters is not None and len(counters):
            doc[section] = Binary(pack_counters(counters))
    return doc


def decode(doc: Mapping[str, Any], sections: Sequence[str] = SECTIONS) -> Rollup:
    level, period = Level(doc["level"]), str(doc["period"])
    empty = Rollup.empty(level, period)
    return Rollup(
        level,
        period,
        int(doc.get("plays", 0)),
        int(doc.get("ms", 0)),
        unpack_pairs(doc["days"]) if "days" in doc else empty.days,
        unpack_pairs(doc["heat"]) if "heat" in doc else empty.heat,
        {s: unpack_counters(doc[s]) if s in doc else Counters() for s in sections},
    )


class RollupStore:
    def __init__(self, db: Collections) -> None:
        self._rollups = db["rollups"]

    async def load(
        self, user_id: str, rids: Sequence[RollupId], sections: Sequence[str] = SECTIONS
    ) -> list[Rollup]:
        """The stored rollups among ``rids`` (missing ones are empty and left out), in order."""
        if not rids:
            return []
        projection = dict.fromkeys(["level", "period", "plays", "ms", "days", "heat", *sections], 1)
        ids = [doc_id(user_id, rid) for rid in rids]
        found = {d["_id"]: d async for d in self._rollups.find({"_id": {"$in": ids}}, projection)}
        return [decode(found[i], sections) for i in ids if i in found]

    async def levels(self, user_id: str, level: Level) -> list[Rollup]:
        """Every rollup of one level, days and heat only, in time order."""
        cursor = self._rollups.find(
            {"user_id": user_id, "level": level.value},
            {"level": 1, "period": 1, "plays": 1, "ms": 1, "days": 1, "heat": 1},
        )
        docs = await cursor.to_list()
        return sorted((decode(d, ()) for d in docs), key=lambda r: r.period)

    async def bounds(self, user_id: str) -> tuple[date | None, date | None, int]:
        """First and last local day with counted plays, and how many days have them."""
        days = active_days(await self.levels(user_id, Level.YEAR))
        return (days[0], days[-1], len(days)) if days else (None, None, 0)

    async def apply(self, user_id: str, batch: str, deltas: Mapping[RollupId, Delta]) -> None:
        """Add ``deltas`` to the stored rollups, once per ``batch`` whatever happens.

        All documents go in one unordered bulk write (one round trip, not one per document);
        a write that lost a race (another writer changed ``rev``, or created the document
        first) is found on the next read — its ``applied`` lacks the batch — and redone."""
        pending = {rid: delta for rid, delta in deltas.items() if delta}
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                # Lost a race: back off a random, growing while so contenders spread out
                # instead of colliding again on the next read.
                await anyio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 (jitter)
            ids = {doc_id(user_id, rid): rid for rid in pending}
            docs = {d["_id"]: d async for d in self._rollups.find({"_id": {"$in": list(ids)}})}
            operations: list[InsertOne[Document] | ReplaceOne[Document]] = []
            for key, rid in ids.items():
                doc = docs.get(key)
                if doc is not None and batch in doc.get("applied", ()):
                    del pending[rid]
                    continue
                operations.append(self._write(user_id, batch, doc, rid, pending[rid]))
            if not operations:
                return
            try:
                result = await self._rollups.bulk_write(operations, ordered=False)
                if result.matched_count + result.inserted_count == len(operations):
                    return  # every write landed: no need to read them back
            except BulkWriteError as exc:
                if not only_duplicates(exc):
                    raise
        raise WriteConflict(f"rollups of {user_id} kept changing: {sorted(pending)}")

    def _write(
        self, user_id: str, batch: str, doc: Document | None, rid: RollupId, delta: Delta
    ) -> InsertOne[Document] | ReplaceOne[Document]:
        """The read-modify-write of one document, landing only if nobody wrote it meanwhile."""
        current = decode(doc) if doc is not None else Rollup.empty(*rid)
        fresh = encode(user_id, current.apply(delta))
        fresh["rev"] = uuid.uuid4().hex
        if doc is None:
            return InsertOne({**fresh, "applied": [batch]})
        applied = [*doc.get("applied", ()), batch][-APPLIED_MEMORY:]
        return ReplaceOne({"_id": doc["_id"], "rev": doc.get("rev")}, {**fresh, "applied": applied})

    async def replace_all(self, user_id: str, rollups: Iterable[Rollup], build: str) -> int:
        """Make ``rollups`` the user's whole set of the levels they cover (a rebuild): each is
        replaced whole, then the user's other documents of those levels go."""
        kept: dict[str, list[str]] = {}
        count = 0
        for rollup in rollups:
            doc = encode(user_id, rollup)
            doc.update(rev=uuid.uuid4().hex, applied=[build])
            await self._rollups.replace_one({"_id": doc["_id"]}, doc, upsert=True)
            kept.setdefault(rollup.level.value, []).append(doc["_id"])
            count += 1
        for level in Level:
            await self._rollups.delete_many(
                {"user_id": user_id, "level": level.value, "_id": {"$nin": kept.get(level, [])}}
            )
        return count


class RollupWriter:
    """Reads every play of a user and replaces that user's rollups."""

    def __init__(self, store: Collections) -> None:
        self._store = store
        self._rollups = RollupStore(store)

    async def count(self, user_id: str) -> int:
        """How many plays the timeline says the user has (a progress total: counting on the
        server would read every play once more)."""
        return sum(r.plays for r in await self._rollups.levels(user_id, Level.ENDED))

    async def plays(self, user_id: str) -> AsyncIterator[tuple[Play, bool]]:
        """Every stored play with whether it counts (the timeline holds uncounted ones too),
        walked in bounded windows (``store.walk``)."""
        async for doc in walk_plays(self._store, user_id, {"_id": 0, "batch": 0}):
            yield from_document(doc), bool(doc.get("counted"))

    async def replace(self, user_id: str, rollups: Iterable[Rollup], build_id: str) -> int:
        """Each rollup is replaced whole (atomic per document); ones no play fills any more go.
        ``applied`` starts with the build id, so the journal's redo guard keeps working."""
        return await self._rollups.replace_all(user_id, rollups, build_id)


async def build_rollups(
    writer: RollupWriter,
    user_id: str,
    tz: tzinfo,
    progress: Callable[[int], Awaitable[None]] | None = None,
    every: int = 5_000,
) -> tuple[list[Rollup], int]:
    """A user's rollups computed from the stored plays, and how many plays were read.
    ``progress`` hears the running count every ``every`` plays."""
    builder = Builder(tz)
    chunk: list[tuple[Play, bool]] = []
    processed = 0
    async for pair in writer.plays(user_id):
        chunk.append(pair)
        if len(chunk) >= every:
            builder.add(chunk)
            processed += len(chunk)
            chunk.clear()
            if progress is not None:
                await progress(processed)
    builder.add(chunk)
    processed += len(chunk)
    return builder.rollups(), processed
