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

from echostats.store.ledger_builds import LedgerBuilds

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
    """Version 2: the journal holds its plays as one binary field. Finishes old-format journal
    entries (their plays; what they did to the rollups of that time no longer matters: version
    3 replaced rollups with the ledger, built from the plays)."""
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


async def _play_ledger(db: AsyncDatabase[Document]) -> None:
    """Version 3: analytics read each user's play ledger (``domain.ledger``) instead of rollups.
    The rollups, the history timeline and the display-name cache go; every user gets a ledger
    build, which the ledger builder runs as a job with progress right after start-up (plays go
    on being recorded meanwhile) and continues after the last finished month if stopped."""
    for name in ("rollups", "names"):
        await db[name].drop()
    builds = LedgerBuilds(db)
    async for user in db["users"].find({}, {"_id": 1}):
        await builds.requested(str(user["_id"]), None)


async def _dedup_key_in_id(db: AsyncDatabase[Document]) -> None:
    """Version 4: new plays carry their dedup key in their ``_id`` (``store.plays.new_play_id``),
    so the unique index on (user, track key, end) goes — each index halves the embedded
    store's insert rate. Stored plays keep their ids; the aggregator's dedup keeps them unique."""
    with contextlib.suppress(OperationFailure):  # absent: a database created at version 4
        await db["plays"].drop_index("user_track_ended_unique")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _initial_schema),
    Migration(2, "packed rollups", _packed_rollups),
    Migration(3, "play ledger", _play_ledger),
    Migration(4, "dedup key in the play id", _dedup_key_in_id),
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
