"""Schema 2: a database with old-format rollups and journal moves to packed rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pymongo import ASCENDING

from echostats.domain.plays import from_document
from echostats.store import Store
from echostats.store.migrations import current_version, migrate
from echostats.store.plays import new_play_id, play_document
from tests.domain.factories import make_play
from tests.rollup_views import brute_view, stored_view

pytestmark = pytest.mark.anyio
T0 = datetime(2024, 12, 31, 20, tzinfo=UTC)


async def test_old_rollups_and_journal_become_packed_rollups(store: Store) -> None:
    await store["meta"].update_one({"_id": "schema"}, {"$set": {"version": 1}})
    await store["users"].insert_one({"_id": "u1", "spotify_id": "s1", "time_zone": "Asia/Tokyo"})
    plays = [
        make_play(user_id="u1", track_id=f"t{n % 4}", ended_at=T0 + timedelta(hours=7 * n))
        for n in range(12)
    ]
    docs = [
        play_document(new_play_id(), p, counted=n % 5 != 0, batch="old")
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

    assert await migrate(store.db) == 2
    assert await current_version(store.db) == 2
    assert await store["rollup_journal"].count_documents({}) == 0
    assert await store["plays"].count_documents({}) == 12
    assert "user_day" not in await store["rollups"].index_information()
    assert await store["rollups"].count_documents({"day": {"$exists": True}}) == 0
    rollups = await store["rollups"].find({}).to_list()
    stored = [from_document(d) for d in await store["plays"].find({"counted": True}).to_list()]
    expected = brute_view(stored, ZoneInfo("Asia/Tokyo"))
    assert expected["plays"] == 9
    for level in ("d", "m", "y"):
        assert stored_view(rollups, level) == expected, level
    assert stored_view(rollups, "e")["plays"] == 12
