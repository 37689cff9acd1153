"""Schema version and migrations.

The ``meta`` collection holds ``{"_id": "schema", "version": N}``. At startup every migration
newer than the stored version runs in order and the version is advanced after each one, so a
crash between two migrations resumes where it stopped. Migrations must be idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

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


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "initial schema", _initial_schema),)

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
