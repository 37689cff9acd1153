from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from echostats.store import Store
from echostats.store.indexes import INDEXES, declared_index_names
from echostats.store.migrations import MIGRATIONS, Migration, current_version, migrate
from echostats.store.plays import new_play_id, play_document
from tests.domain.factories import make_play

pytestmark = pytest.mark.anyio


async def test_every_declared_index_exists(store: Store) -> None:
    for collection, names in declared_index_names().items():
        info = await store[collection].index_information()
        assert names <= set(info), f"{collection} lacks {names - set(info)}"


async def test_index_creation_is_idempotent(store: Store) -> None:
    before = {spec.collection: await store[spec.collection].index_information() for spec in INDEXES}
    await store.ensure_indexes()
    after = {spec.collection: await store[spec.collection].index_information() for spec in INDEXES}
    assert before == after


async def test_play_dedup_key_is_unique(store: Store) -> None:
    """Two documents of one play (user, track key, end) have one id: the store keeps one."""
    play = make_play(user_id="u", ended_at=datetime(2024, 1, 1, tzinfo=UTC))
    await store["plays"].insert_one(play_document(new_play_id(play), play, counted=True, batch="a"))
    again = replace(play, ms_played=1_000)
    with pytest.raises(DuplicateKeyError):
        await store["plays"].insert_one(
            play_document(new_play_id(again), again, counted=False, batch="b")
        )
    other = replace(play, user_id="v")
    await store["plays"].insert_one(
        play_document(new_play_id(other), other, counted=True, batch="c")
    )


async def test_ttl_indexes_are_declared_for_expiring_collections(store: Store) -> None:
    for collection in ("oauth_states", "api_logs", "sync_jobs"):
        info = await store[collection].index_information()
        assert any("expireAfterSeconds" in index for index in info.values()), collection


LATEST = max(m.version for m in MIGRATIONS)


async def test_fresh_database_is_at_latest_schema_version(store: Store) -> None:
    assert await current_version(store.db) == LATEST


async def test_migrations_run_once_in_order(store: Store) -> None:
    applied: list[int] = []

    def step(version: int) -> Any:
        async def apply(db: AsyncDatabase[dict[str, Any]]) -> None:
            applied.append(version)
            await db["meta"].update_one({"_id": "probe"}, {"$inc": {"n": 1}}, upsert=True)

        return apply

    later = [
        Migration(LATEST + 2, "third", step(LATEST + 2)),
        Migration(LATEST + 1, "second", step(LATEST + 1)),
    ]
    assert await migrate(store.db, [Migration(LATEST, "first", step(LATEST)), *later]) == LATEST + 2
    assert applied == [LATEST + 1, LATEST + 2]  # LATEST was already applied by prepare()
    assert await migrate(store.db, later) == LATEST + 2
    assert applied == [LATEST + 1, LATEST + 2]
    probe = await store["meta"].find_one({"_id": "probe"})
    assert probe is not None
    assert probe["n"] == 2


async def test_ping_answers(store: Store) -> None:
    assert await store.ping()
