"""Shared fixtures: one real embedded database server per test session, a fresh database per test.

Nothing here mocks MongoDB: the tests talk to the same SecantusDB server the app launches.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from echostats.settings import Settings
from echostats.store.database import Store, make_client
from echostats.store.embedded import EmbeddedServer, running_embedded_server


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # PyMongo's async API needs asyncio.
    return "asyncio"


@pytest.fixture(scope="session")
async def db_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedServer]:
    async with running_embedded_server(tmp_path_factory.mktemp("db-server")) as server:
        yield server


@pytest.fixture
async def store(db_server: EmbeddedServer) -> AsyncIterator[Store]:
    """A prepared store (indexes, migrations) on a database of its own, dropped afterwards."""
    client = make_client(db_server.url)
    name = f"test_{uuid.uuid4().hex[:12]}"
    store = Store(client=client, db=client[name])
    await store.prepare()
    try:
        yield store
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's environment and .env file."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        update_feed_url="",
        spotify_client_id="test-client-id",
        spotify_client_secret="test-client-secret",
    )
