"""One text form for every instant EchoStats hands out: ISO 8601, UTC, milliseconds, ``Z``.

``2026-11-27T05:09:59.000Z`` — the same width for every instant, so the strings sort as the
instants do (``...T05:09:59Z`` would sort after ``...T05:09:59.701Z``), and the precision the
store keeps (milliseconds) is the precision shown. REST responses, SSE events and exports share it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime) -> str:
    """``value`` as ``YYYY-MM-DDTHH:MM:SS.mmmZ``; a naive datetime is a bug upstream, refused."""
    if value.tzinfo is None:
        # Everything is UTC-aware; guessing the zone of a naive value would hide the bug.
        raise TypeError(f"naive datetime {value!r}; use an aware UTC datetime")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"
