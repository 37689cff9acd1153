"""Backup and restore of every collection of the app's database, to and from one file.

The file is gzip-compressed JSON Lines in MongoDB Extended JSON (canonical mode), so every BSON
type comes back as it was (dates, ObjectIds, 64-bit integers, binary): a header line, then for
each collection a line ``{"collection": name, "count": n}`` followed by its ``n`` documents, then
a trailer listing every count. Tokens are written as stored, that is encrypted: a restore needs
the same ``ECHOSTATS_ENCRYPTION_KEYS``.

A backup is written to ``PATH.partial`` and renamed when complete, so ``PATH`` is never half a
backup. A restore reads the whole file once to check it before writing anything (a truncated or
damaged file changes nothing), refuses a database that already holds data unless forced, and
then brings the schema up to date. Indexes are not in the file: they are declared in code and
created at start-up.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
from bson import json_util
from bson.errors import BSONError
from bson.json_util import JSONMode, JSONOptions
from pymongo.errors import BulkWriteError

from echostats import __version__
from echostats.errors import BadRequest, Conflict, StoreError
from echostats.store.boundary import translating
from echostats.store.database import Store
from echostats.store.migrations import MIGRATIONS, current_version

FORMAT = "echostats-backup"
VERSION = 1
BATCH = 500
# The schema-version document is written by start-up itself, so it does not make a database
# "hold data"; a restore replaces it with the backup's and then migrates.
BOOKKEEPING = frozenset({"meta"})
_JSON = JSONOptions(json_mode=JSONMode.CANONICAL, tz_aware=True, tzinfo=UTC)

Document = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class BackupSummary:
    collections: dict[str, int]
    schema_version: int

    @property
    def documents(self) -> int:
        return sum(self.collections.values())


def _line(value: object) -> bytes:
    return (json_util.dumps(value, json_options=_JSON) + "\n").encode()


@translating
async def app_collections(store: Store) -> list[str]:
    names = await store.db.list_collection_names()
    return sorted(name for name in names if not name.startswith("system."))


@translating
async def collections_with_data(store: Store) -> list[str]:
    """Collections that hold at least one document (bookkeeping aside)."""
    found = []
    for name in await app_collections(store):
        if name not in BOOKKEEPING and await store[name].find_one({}, {"_id": 1}) is not None:
            found.append(name)
    return found


@translating
async def backup(store: Store, path: Path) -> BackupSummary:
    """Write every collection to ``path`` (replaced only once the new backup is complete)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with gzip.open(partial, "wb") as out:
            summary = await _write(store, out)
        await anyio.to_thread.run_sync(partial.replace, path)
    except OSError as exc:
        raise BadRequest(f"Cannot write {path}: {exc.strerror or type(exc).__name__}.") from None
    finally:
        partial.unlink(missing_ok=True)
    return summary


async def _write(store: Store, out: gzip.GzipFile) -> BackupSummary:
    async def write(chunk: list[bytes]) -> None:
        await anyio.to_thread.run_sync(out.write, b"".join(chunk))

    schema = await current_version(store.db)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "echostats_version": __version__,
        "schema_version": schema,
        "created_at": datetime.now(UTC),
    }
    await write([_line(header)])
    counts: dict[str, int] = {}
    for name in await app_collections(store):
        count = await store[name].count_documents({})
        await write([_line({"collection": name, "count": count})])
        written = 0
        chunk: list[bytes] = []
        # At most the announced count, so a document added meanwhile cannot break the file.
        async for doc in store[name].find({}).sort("_id", 1).limit(count):
            chunk.append(_line(doc))
            written += 1
            if len(chunk) >= BATCH:
                await write(chunk)
                chunk = []
        await write(chunk)
        if written < count:
            raise Conflict(
                f"Collection {name} lost documents during the backup; stop EchoStats and run "
                "the backup again."
            )
        counts[name] = count
    await write([_line({"end": True, "collections": counts})])
    return BackupSummary(counts, schema)


class _Reader:
    """Walks a backup file line by line, checking its structure as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _damaged(self, why: str) -> BadRequest:
        return BadRequest(f"{self.path} is not a usable EchoStats backup: {why}.")

    def _lines(self, file: gzip.GzipFile) -> Iterator[Any]:
        try:
            for number, raw in enumerate(file, start=1):
                try:
                    yield json_util.loads(raw, json_options=_JSON)
                except (ValueError, BSONError):
                    raise self._damaged(f"line {number} is not Extended JSON") from None
        except (OSError, EOFError) as exc:
            # gzip checks its length and CRC at the end: a cut or corrupted file fails here.
            raise self._damaged(f"it is truncated or corrupt ({type(exc).__name__})") from None

    def header(self) -> Document:
        try:
            with gzip.open(self.path, "rb") as file:
                first = next(self._lines(file), None)
        except FileNotFoundError:
            raise BadRequest(f"{self.path} does not exist.") from None
        except IsADirectoryError:
            raise BadRequest(f"{self.path} is a directory, not a backup file.") from None
        if not isinstance(first, dict) or first.get("format") != FORMAT:
            raise self._damaged("it does not start with an EchoStats backup header")
        if first.get("version") != VERSION:
            raise self._damaged(f"format version {first.get('version')!r} is not {VERSION}")
        return first

    def collections(self) -> Iterator[tuple[str, int, Iterator[Document]]]:
        """(name, count, its documents) per collection; raises if the file does not add up."""
        with gzip.open(self.path, "rb") as file:
            lines = self._lines(file)
            next(lines)  # the header, checked by ``header``
            seen: dict[str, int] = {}
            for entry in lines:
                if not isinstance(entry, dict):
                    raise self._damaged("a line is not an object")
                if entry.get("end") is True:
                    if entry.get("collections") != seen or next(lines, None) is not None:
                        raise self._damaged("its trailer does not match its contents")
                    return
                name, count = entry.get("collection"), entry.get("count")
                if not isinstance(name, str) or not isinstance(count, int) or name in seen:
                    raise self._damaged("a collection header is malformed")
                docs = _take(lines, count, self._damaged("a collection ends early"))
                yield name, count, docs
                for _ in docs:  # whatever the caller left unread
                    pass
                seen[name] = count
        raise self._damaged("it ends without its trailer (truncated?)")


def _take(lines: Iterator[Any], count: int, short: BadRequest) -> Iterator[Document]:
    for _ in range(count):
        doc = next(lines, None)
        if not isinstance(doc, dict) or "_id" not in doc:
            raise short
        yield doc


async def _in_thread(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Each step of a blocking iterator (file reads, decompression) in a worker thread."""
    end: Any = object()
    while (item := await anyio.to_thread.run_sync(next, iterator, end)) is not end:
        yield item


def _drain(docs: Iterator[Document]) -> int:
    return sum(1 for _ in docs)


async def verify(path: Path) -> BackupSummary:
    """Read the whole file and check it adds up, writing nothing."""
    reader = _Reader(path)
    header = await anyio.to_thread.run_sync(reader.header)
    counts: dict[str, int] = {}
    async for name, count, docs in _in_thread(reader.collections()):
        await anyio.to_thread.run_sync(_drain, docs)
        counts[name] = count
    return BackupSummary(counts, int(header.get("schema_version", 0)))


@translating
async def restore(store: Store, path: Path, *, force: bool = False) -> BackupSummary:
    """Load a backup into the database; with ``force`` whatever it holds is replaced."""
    summary = await verify(path)
    newest = max(m.version for m in MIGRATIONS)
    if summary.schema_version > newest:
        raise BadRequest(
            f"{path} was made by a newer EchoStats (schema {summary.schema_version}, this one "
            f"knows {newest}); upgrade before restoring it."
        )
    occupied = await collections_with_data(store)
    if occupied and not force:
        raise Conflict(
            f"The database already holds data ({', '.join(occupied)}); restore into an empty "
            "database, or pass --force to replace everything in it."
        )
    existing = await app_collections(store)
    for name in existing:
        await store[name].delete_many({})
    async for name, _count, docs in _in_thread(_Reader(path).collections()):
        if name not in existing:  # an empty one too: the database ends up as it was
            await store.db.create_collection(name)
        async for batch in _in_thread(_chunks(docs)):
            try:
                await store[name].insert_many(batch, ordered=True)
            except BulkWriteError as exc:
                first = (exc.details.get("writeErrors") or [{}])[0]
                raise StoreError(
                    f"Restoring {name} stopped at a document the database refused "
                    f"({first.get('errmsg', 'write error')}); the database is only partly "
                    "restored: fix the cause and restore again with --force."
                ) from None
    await store.prepare()  # indexes for collections new to this database, then migrations
    return summary


def _chunks(docs: Iterator[Document]) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
