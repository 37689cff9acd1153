"""Telling an unordered insert refused only for documents already stored from a real failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from echostats.store.boundary import translating

DUPLICATE_KEY = 11000


def only_duplicates(exc: BulkWriteError) -> bool:
    """True when every document the insert was refused is already stored: a race with another
    writer, or the retry of an insert whose first attempt landed in part."""
    return all(err.get("code") == DUPLICATE_KEY for err in exc.details.get("writeErrors", []))


@translating
async def insert_once(
    collection: AsyncCollection[dict[str, Any]], docs: Sequence[dict[str, Any]]
) -> None:
    """Insert ``docs`` (unordered), each stored once however often the insert is retried:
    PyMongo gives every document its ``_id`` on the first attempt, so a retry after an answer
    was lost, or after a batch landed in part, meets duplicate keys, which are documents
    already stored. ``StoreUnavailable`` when the database cannot be reached."""
    try:
        await collection.insert_many(list(docs), ordered=False)
    except BulkWriteError as exc:
        if not only_duplicates(exc):
            raise
