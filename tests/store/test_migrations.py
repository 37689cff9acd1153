"""Schema upgrades: a database of the oldest format reaches today's, losing no play.

Version 2 finished old-format journal entries; version 3 dropped rollups and the name cache for
the play ledger, which the ledger builder then builds from the plays (a job, resumable).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from pymongo import ASCENDING

from echostats.store import Store
from echostats.store.ledger_builds import LedgerBuilds
from echostats.store.migrations import current_version, migrate
from echostats.store.plays import play_document
from tests.domain.factories import make_play

pytestmark = pytest.mark.anyio
T0 = datetime(2024, 12, 31, 20, tzinfo=UTC)


async def old_database(store: Store) -> None:
    """What version 1 stored: day documents with nested counters, plays journalled as an
    array, a display-name cache."""
    await store["meta"].update_one({"_id": "schema"}, {"$set": {"version": 1}})
    await store["users"].insert_one({"_id": "u1", "spotify_id": "s1", "time_zone": "Asia/Tokyo"})
    plays = [
        make_play(user_id="u1", track_id=f"t{n % 4}", ended_at=T0 + timedelta(hours=7 * n))
        for n in range(12)
    ]
    docs = [
        play_document(str(ObjectId()), p, counted=n % 5 != 0, batch="old")
        for n, p in enumerate(plays)
    ]
    await store["plays"].insert_many(docs[:8])
    # Version 1 stored day documents with nested counters and journalled plays as an array.
    await store["rollups"].create_index(
        [("user_id", ASCENDING), ("day", ASCENDING)], unique=True, name="user_day"
    )
    await store["rollups"].insert_one({"user_id": "u1", "day": "2024-12-31", "plays": 99})
    await store["rollup_journal"].insert_one(
        {
            "_id": "b1",
            "user_id": "u1",
            "inserts": docs[6:],
            "replacements": [],
            "deletions": [],
            "increments": {"2024-12-31": {"plays": 1}},
            "created_at": T0,
        }
    )

    await store["names"].insert_one({"_id": "u1|t|x", "user_id": "u1", "key": "x"})


async def test_the_oldest_database_reaches_the_ledger(store: Store) -> None:
    await old_database(store)
    assert await migrate(store.db) == 4
    assert await current_version(store.db) == 4
    assert await store["rollup_journal"].count_documents({}) == 0
    assert await store["plays"].count_documents({}) == 12
    assert "rollups" not in await store.db.list_collection_names()
    assert "names" not in await store.db.list_collection_names()
    assert await LedgerBuilds(store).pending() == [("u1", None)]
    assert "user_track_ended_unique" not in await store["plays"].index_information()
    assert await migrate(store.db) == 4  # nothing left to do
