"""The event type published to browsers, and its JSON encoding.

An ``Event`` is addressed to one topic (``"now-playing:<user_id>"``, ``"sync-jobs:<user_id>"``,
``"stats:<user_id>"``); ``name`` becomes the SSE ``event:`` field and ``id`` the SSE ``id:``.
The broadcaster assigns the id when the event is published, so producers leave it at 0.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from echostats.domain.timestamps import iso_utc


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in event data")


def encode_data(data: Mapping[str, Any]) -> str:
    """Compact JSON on one line; datetimes as ISO 8601 UTC with a ``Z`` (``...T12:00:00.000Z``)."""
    return json.dumps(
        data, default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )


@dataclasses.dataclass(frozen=True)
class Event:
    topic: str
    name: str
    data: Mapping[str, Any]
    id: int = 0

    @functools.cached_property
    def json(self) -> str:
        """``data`` encoded once, however many subscribers send it."""
        return encode_data(self.data)
