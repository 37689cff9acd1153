"""Schema version and migrations.

The ``meta`` collection holds ``{"_id": "schema", "version": N}``. At startup every migration
newer than the stored version runs in order and the version is advanced after each one, so a
crash between two migrations resumes where it stopped. Migrations must be idempotent.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from echostats.domain.periods import parse_tz
from echostats.store.rollups import RollupStore, RollupWriter, build_rollups

log = logging.getLogger(__name__)

Document = dict[str, Any]
MigrationStep = Callable[[AsyncDatabase[Document]], Awaitable[None]]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: MigrationStep


async def _initial_schema(db: AsyncDatabase[Document]) -> None:
    """Version 1 is the schema the indexes module declares; nothing to transform."""


async def _packed_rollups(db: AsyncDatabase[Document]) -> None:
    """Version 2: rollups become packed day/month/year documents (``domain.rollups``), and the
    journal holds its plays as one binary field. Finishes old-format journal entries (their
    plays; the rollups are rebuilt anyway), drops the old day documents and their index, then
    rebuilds every user's rollups from the stored plays."""
    journal, plays = db["rollup_journal"], db["plays"]
    async for entry in journal.find({"increments": {"$exists": True}}):
        if entry.get("inserts"):
            with contextlib.suppress(BulkWriteError):  # already inserted before the crash
                await plays.insert_many(entry["inserts"], ordered=False)
        for doc in entry.get("replacements") or ():
            await plays.replace_one({"_id": doc["_id"]}, doc)
        if entry.get("deletions"):
            await plays.delete_many({"_id": {"$in": entry["deletions"]}})
        await journal.delete_one({"_id": entry["_id"]})
    await db["rollups"].delete_many({"day": {"$exists": True}})
    with contextlib.suppress(OperationFailure):  # absent on a database created at version 2
        await db["rollups"].drop_index("user_day")
    writer = RollupWriter(db)
    async for user in db["users"].find({}, {"time_zone": 1}):
        user_id = str(user["_id"])
        rollups, _ = await build_rollups(writer, user_id, parse_tz(user.get("time_zone") or "UTC"))
        await RollupStore(db).replace_all(user_id, rollups, "migration-2")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _initial_schema),
    Migration(2, "packed rollups", _packed_rollups),
)

SCHEMA_DOC_ID = "schema"


async def current_version(db: AsyncDatabase[Document]) -> int:
    doc = await db["meta"].find_one({"_id": SCHEMA_DOC_ID})
    return int(doc["version"]) if doc else 0


async def migrate(db: AsyncDatabase[Document], migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply pending migrations in order; return the resulting schema version."""
    version = await current_version(db)
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= version:
            continue
        log.info(
            "applying schema migration",
            extra={"version": migration.version, "migration": migration.description},
        )
        await migration.apply(db)
        await db["meta"].update_one(
            {"_id": SCHEMA_DOC_ID}, {"$set": {"version": migration.version}}, upsert=True
        )
        version = migration.version
    return version
