"""The ``events`` collection: the bridge that carries live events between app instances.

Each instance inserts the events it publishes (tagged with its ``origin``) and follows the
collection with a change stream, re-publishing what other instances inserted. Documents expire
after a few minutes (TTL): they only need to live long enough to be seen.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.errors import OperationFailure, PyMongoError

from echostats.errors import StoreUnavailable
from echostats.store.boundary import Repository, translated
from echostats.store.database import Store
from echostats.store.duplicates import insert_once

Document = dict[str, Any]


class EventLog(Repository):
    def __init__(self, store: Store) -> None:
        self._c = store["events"]
        self.resume_token: Any = None

    async def insert_many(self, docs: Sequence[Document]) -> None:
        """Insert events, each once even when the driver retries an insert that landed."""
        await insert_once(self._c, docs)

    @contextlib.asynccontextmanager
    async def following(self, exclude_origin: str) -> AsyncIterator[AsyncIterator[Document]]:
        """Open a change stream (resuming after the last document seen, when there was one) and
        yield the inserted documents of other origins as they arrive.

        Raises ``StoreUnavailable`` when the stream cannot be opened or breaks; open it again to
        resume (if the server still has that point in its change history, else from now).
        """
        pipeline = [
            {"$match": {"operationType": "insert", "fullDocument.origin": {"$ne": exclude_origin}}}
        ]
        try:
            with translated():
                stream = await self._c.watch(pipeline, resume_after=self.resume_token)
        except OperationFailure:
            self.resume_token = None  # the resume point is gone: start from now, not never
            raise StoreUnavailable("the event stream had to be restarted") from None
        try:
            yield self._documents(stream, exclude_origin)
        finally:
            with contextlib.suppress(PyMongoError):
                await stream.close()

    async def _documents(
        self, stream: AsyncChangeStream[Document], exclude_origin: str
    ) -> AsyncIterator[Document]:
        try:
            async for change in stream:
                self.resume_token = stream.resume_token
                doc = change.get("fullDocument")
                if doc is not None and doc.get("origin") != exclude_origin:
                    yield doc
        except PyMongoError:
            raise StoreUnavailable("the database is unavailable") from None
