"""The store is one translation boundary: a database that does not answer leaves every repository
as ``StoreUnavailable``, whatever the driver raised; a driver error that is a bug goes on."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from echostats.errors import StoreUnavailable
from echostats.store import Store
from echostats.store.boundary import translated
from echostats.store.events import EventLog
from echostats.store.leases import Leases
from echostats.store.poll_state import PollState
from echostats.store.sync_jobs import SyncJobs
from echostats.store.user_settings import set_time_zone
from echostats.store.users import Users

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def impatient(url: str, timeout_ms: int = 300) -> Store:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
    )
    return Store(client=client, db=client[f"t_{uuid.uuid4().hex[:8]}"])


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then given back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def unreachable() -> AsyncIterator[Store]:
    store = impatient(f"mongodb://127.0.0.1:{closed_port()}")
    try:
        yield store
    finally:
        await store.client.close()


Call = Callable[[Store], Awaitable[object]]

CALLS: dict[str, Call] = {
    "PollState.cursor": lambda s: PollState(s).cursor("u"),
    "Users.get": lambda s: Users(s).get("u"),
    "SyncJobs.get": lambda s: SyncJobs(s).get("u", "job"),
    "Leases.acquire": lambda s: Leases(s, "me").acquire("k", NOW, 30),
    "EventLog.insert_many": lambda s: EventLog(s).insert_many([{"origin": "me"}]),
    "set_time_zone": lambda s: set_time_zone(s, "u", "UTC"),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_an_unreachable_database_is_store_unavailable(unreachable: Store, call: Call) -> None:
    """No server at all: the driver's ServerSelectionTimeoutError never leaves the store."""
    with pytest.raises(StoreUnavailable) as caught:
        await call(unreachable)
    assert caught.value.status == 503


async def test_a_driver_error_that_is_a_bug_is_not_translated(store: Store) -> None:
    """The server answered and refused: that is no outage, and must not read as one."""
    with pytest.raises(OperationFailure), translated():
        await store.db.command("noSuchCommand")
