"""Telling an unordered insert refused only for documents already stored from a real failure."""

from __future__ import annotations

from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


def only_duplicates(exc: BulkWriteError) -> bool:
    """True when every document the insert was refused is already stored: a race with another
    writer, or the retry of an insert whose first attempt landed in part."""
    return all(err.get("code") == DUPLICATE_KEY for err in exc.details.get("writeErrors", []))
