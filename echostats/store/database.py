"""The store: one ``AsyncMongoClient`` (tz-aware) and its database, owned by the app lifespan.

The same code runs on the embedded SecantusDB server and on MongoDB 7/8; only the URL differs.
PyMongo exceptions are translated into ``echostats.errors`` at the store boundary
(``boundary.py``), so nothing above the store imports or tells apart pymongo's errors.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import pymongo
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ExecutionTimeout, OperationFailure, PyMongoError

from echostats.errors import StoreStartError, StoreUnavailable
from echostats.settings import Settings
from echostats.store.boundary import is_unavailable
from echostats.store.embedded import EmbeddedServer, running_embedded_server
from echostats.store.indexes import INDEXES
from echostats.store.migrations import migrate

log = logging.getLogger(__name__)

Document = dict[str, Any]

SERVER_SELECTION_TIMEOUT_MS = 2_000
CONNECT_TIMEOUT_MS = 5_000
# A database that accepts a connection and then never answers must not hang requests forever.
SOCKET_TIMEOUT_MS = 30_000
# Closing a client waits for its monitors; a broken topology lock must not hold up shutdown.
CLOSE_TIMEOUT = 5.0


@contextlib.contextmanager
def skipped_while_unavailable(logger: logging.Logger, what: str) -> Iterator[None]:
    """Run the block; when the database does not answer (down, restarting, busy past the
    driver's timeouts) log "<what> skipped: database unavailable" and carry on: the caller's
    loop tries again later, no crash. Any other error goes on."""
    try:
        yield
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("%s skipped: database unavailable", what)


def redact_url(url: str) -> str:
    """``mongodb://user:pw@host/db?x`` → ``mongodb://host`` for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


@dataclass
class Store:
    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    embedded: EmbeddedServer | None = None

    def __getitem__(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    @property
    def private(self) -> bool:
        """No other process can use this database: the embedded store, whose data directory
        is locked to the process that started it. (Any MongoDB URL may be shared.)"""
        return self.embedded is not None

    async def ping(self, within: float = 2.0) -> bool:
        """Is the database answering right now? Never raises.

        Bounded by the driver's own timeout, never by cancelling it: on Python 3.11 a task
        cancelled (and cancelled again, as anyio does) inside PyMongo's server selection can
        leave the client's topology lock held for ever, after which every operation on the
        client, and closing it, waits for ever.
        """
        try:
            with pymongo.timeout(within):
                await self.db.command("ping")
        except PyMongoError:
            return False
        return True

    async def ensure_indexes(self) -> None:
        """Create every declared index; already existing ones are left as they are."""
        for spec in INDEXES:
            await self.db[spec.collection].create_indexes(list(spec.indexes))

    async def prepare(self) -> int:
        """Indexes and migrations; returns the schema version."""
        await self.ensure_indexes()
        return await migrate(self.db)


def make_client(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
        connectTimeoutMS=CONNECT_TIMEOUT_MS,
        socketTimeoutMS=SOCKET_TIMEOUT_MS,
        appname="echostats",
    )


async def _connect(
    url: str, database_name: str, embedded: EmbeddedServer | None, wait: float
) -> Store:
    client = make_client(url)
    store = Store(client=client, db=client[database_name], embedded=embedded)
    # Deadlines checked between calls, not a cancel scope around them (see ``Store.ping``).
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        if not await store.ping(within=min(2.0, left)):
            await anyio.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
            continue
        try:
            with pymongo.timeout(max(0.1, deadline - time.monotonic())):
                await store.prepare()
        except ExecutionTimeout:  # the schema work ran out of time: try again until the deadline
            continue
        except OperationFailure as exc:
            await close_client(client)
            raise StoreStartError(f"the database refused to set up its schema: {exc}") from None
        except PyMongoError:  # unreachable or timed out: try again until the deadline
            continue
        return store
    await close_client(client)
    raise StoreUnavailable(f"the database at {redact_url(url)} did not answer within {wait:g} s")


async def close_client(client: AsyncMongoClient[Document]) -> None:
    """Close ``client``; give up after ``CLOSE_TIMEOUT`` rather than hang a shutdown."""
    with anyio.move_on_after(CLOSE_TIMEOUT, shield=True) as scope:
        await client.close()
    if scope.cancelled_caught:
        log.warning("the database client did not close in time; leaving it")


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The store for the app's lifetime: embedded server when no URL is set, else MongoDB."""
    url = settings.mongodb_url.get_secret_value()
    if url:
        store = await _connect(
            url, settings.database_name, embedded=None, wait=settings.store_start_timeout
        )
        try:
            yield store
        finally:
            await close_client(store.client)
        return
    async with running_embedded_server(
        settings.data_dir, start_timeout=settings.store_start_timeout
    ) as server:
        log.info("embedded database started", extra={"port": server.port, "pid": server.pid})
        store = await _connect(
            server.url, settings.database_name, embedded=server, wait=settings.store_start_timeout
        )
        try:
            yield store
        finally:
            await close_client(store.client)
