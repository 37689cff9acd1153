"""Backup and restore on the real store: a lived-in database survives the round trip exactly."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from bson import Binary, Decimal128, Int64, ObjectId

from echostats.errors import BadRequest, Conflict
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.backup import app_collections, backup, restore, verify
from echostats.store.database import make_client
from echostats.store.embedded import EmbeddedServer
from tests.api.test_history_import import run_import
from tests.signin import signin_world

pytestmark = pytest.mark.anyio

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"

ODD_TYPES: dict[str, Any] = {
    "_id": ObjectId(),
    "int64": Int64(2**40),
    "int32": 7,
    "double": 0.1,
    "decimal": Decimal128("1.10"),
    "bytes": b"\x00\xff binary",
    "uuid_like": Binary(uuid.UUID(int=1).bytes, 4),
    "when": datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC),
    "nested": {"list": [1, "two", None, {"deep": True}], "empty": {}},
    "text": 'unicode ✓ "quotes" \\ and\nnewlines',
}


@pytest.fixture
async def empty_store(db_server: EmbeddedServer) -> AsyncIterator[Store]:
    """A second prepared database on the same server, as a fresh installation has it."""
    client = make_client(db_server.url)
    name = f"restore_{uuid.uuid4().hex[:12]}"
    target = Store(client=client, db=client[name])
    await target.prepare()
    try:
        yield target
    finally:
        await client.drop_database(name)
        await client.close()


async def dump(store: Store) -> dict[str, list[dict[str, Any]]]:
    return {
        name: await store[name].find({}).sort("_id", 1).to_list()
        for name in await app_collections(store)
    }


async def lived_in(settings: Settings, store: Store) -> None:
    """Sign in (users, tokens, OAuth state, API logs, leases), import a history (plays,
    rollups, sync jobs, import reports), then stop the app so nothing writes any more."""
    async with signin_world(settings, store) as world:
        assert (await world.sign_in()).status_code == 303
        files = [(p.name, p.read_bytes()) for p in SAMPLES.glob("extended_*.json")]
        job, _ = await run_import(world, files)
        assert job["status"] == "completed"
        with anyio.fail_after(30):  # the logger writes its batch within a second
            while not await store["api_logs"].count_documents({}):
                await anyio.sleep(0.05)
    await store["odd_types"].insert_one(dict(ODD_TYPES))


async def test_round_trip_restores_every_collection_exactly(
    settings: Settings, store: Store, empty_store: Store, tmp_path: Path
) -> None:
    await lived_in(settings, store)
    before = await dump(store)
    for name in ("users", "tokens", "plays", "ledger", "sync_jobs", "api_logs", "odd_types"):
        assert before.get(name), f"the test data should include {name}"
    assert "access_token" not in str(before["tokens"])  # tokens are stored sealed...

    path = tmp_path / "echostats.backup.gz"
    summary = await backup(store, path)
    assert summary.collections == {name: len(docs) for name, docs in before.items()}
    assert not path.with_name(path.name + ".partial").exists()
    restored = await restore(empty_store, path)
    assert restored.collections == summary.collections

    after = await dump(empty_store)
    assert after == before
    odd = after["odd_types"][0]
    assert type(odd["int64"]) is Int64
    assert type(odd["decimal"]) is Decimal128
    assert odd["when"].tzinfo is not None
    sealed = [doc["access"] for doc in after["tokens"]]  # ...and restored sealed, unchanged
    assert sealed == [doc["access"] for doc in before["tokens"]]


async def test_restore_refuses_a_database_with_data_unless_forced(
    settings: Settings, store: Store, empty_store: Store, tmp_path: Path
) -> None:
    await store["users"].insert_one({"_id": "someone", "display_name": "Someone"})
    path = tmp_path / "b.gz"
    await backup(store, path)
    await empty_store["plays"].insert_one({"_id": "stray"})
    await empty_store["users"].insert_one({"_id": "other"})
    with pytest.raises(Conflict, match=r"already holds data \(plays, users\).*--force"):
        await restore(empty_store, path)
    assert await empty_store["users"].find_one({"_id": "other"})  # nothing changed

    await restore(empty_store, path, force=True)
    assert await dump(empty_store) == await dump(store)


async def test_a_damaged_backup_changes_nothing(
    store: Store, empty_store: Store, tmp_path: Path
) -> None:
    await store["notes"].insert_many([{"_id": f"u{i}", "n": i} for i in range(1200)])
    path = tmp_path / "b.gz"
    await backup(store, path)
    whole = gzip.decompress(path.read_bytes())

    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    without_trailer = tmp_path / "no-trailer.gz"
    without_trailer.write_bytes(gzip.compress(whole[: whole.rindex(b'{"end"')]))
    garbled = tmp_path / "garbled.gz"
    garbled.write_bytes(gzip.compress(whole.replace(b'"u7"', b'"u7', 1)))
    plain = tmp_path / "plain.json"
    plain.write_text('{"format": "something else"}\n')
    cases = {
        truncated: "truncated or corrupt",
        without_trailer: "without its trailer",
        garbled: "not Extended JSON",
        plain: "truncated or corrupt",
        tmp_path / "missing.gz": "does not exist",
        tmp_path: "is a directory",
    }
    for bad, reason in cases.items():
        with pytest.raises(BadRequest, match=reason):
            await restore(empty_store, bad)
        assert await empty_store["notes"].count_documents({}) == 0

    not_ours = tmp_path / "other.gz"
    not_ours.write_bytes(gzip.compress(b'{"format": "something else"}\n'))
    with pytest.raises(BadRequest, match="header"):
        await verify(not_ours)


async def test_a_backup_from_a_newer_schema_is_refused(
    store: Store, empty_store: Store, tmp_path: Path
) -> None:
    await store["meta"].update_one({"_id": "schema"}, {"$set": {"version": 99}})
    path = tmp_path / "b.gz"
    await backup(store, path)
    with pytest.raises(BadRequest, match="newer EchoStats"):
        await restore(empty_store, path)


async def test_backup_to_an_unwritable_place_says_so(store: Store, tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="Cannot write"):
        await backup(store, tmp_path / "no" / "such" / "dir" / "b.gz")
