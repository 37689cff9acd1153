"""Which days hold a page of history, from the history timeline (``rollups.Level.ENDED``).

The timeline counts every stored play per UTC day of its end. A page of rows ``skip ..
skip + limit - 1`` (newest first) lies in the run of days from the one holding row ``skip`` back
to the one holding the page's last row, so only those days' plays need to be read and sorted,
however long the history is. ``skip`` in the result is how many of those days' rows come before
the page (rows of the newest day in the run that belong to earlier pages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np

from echostats.domain.rollups import Rollup


@dataclass(frozen=True, slots=True)
class Window:
    total: int  # plays in the whole history
    lo: datetime | None  # UTC, inclusive; None when the page is past the end
    hi: datetime | None  # UTC, exclusive
    skip: int  # rows of [lo, hi) before the page, newest first


def history_window(timeline: Sequence[Rollup], skip: int, limit: int) -> Window:
    """``timeline``: the user's ENDED rollups (any order)."""
    ordered = sorted(timeline, key=lambda r: r.first, reverse=True)
    counts = np.concatenate([r.days[::-1, 0] for r in ordered]) if ordered else np.zeros(0)
    total = int(counts.sum())
    if skip >= total or limit <= 0:
        return Window(total, None, None, 0)
    after = np.cumsum(counts)  # rows in this day and every newer one
    newest = int(np.searchsorted(after, skip, side="right"))  # day holding row `skip`
    oldest = int(np.searchsorted(after, min(skip + limit, total) - 1, side="right"))
    starts = [r.first for r in ordered]
    lengths = np.cumsum([len(r.days) for r in ordered])

    def day_at(index: int) -> datetime:
        year = int(np.searchsorted(lengths, index, side="right"))
        offset = index - (int(lengths[year - 1]) if year else 0)
        last_of_year = starts[year] + timedelta(days=len(ordered[year].days) - 1)
        return datetime.combine(last_of_year - timedelta(days=offset), time(), UTC)

    before = int(after[newest - 1]) if newest else 0
    return Window(total, day_at(oldest), day_at(newest) + timedelta(days=1), skip - before)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """What a filtered history page keeps, checked on each play document in the app (the
    embedded server scans the collection for any predicate no index holds)."""

    start: datetime | None = None  # played_at (the start) >= start
    end: datetime | None = None  # played_at < end
    artist_id: str | None = None
    artist_name: str | None = None  # whole name, any case
    track_id: str | None = None
    track_name: str | None = None  # whole name, any case
    source: str | None = None
    q: str | None = None  # substring of track, artist or album name, any case

    @property
    def unfiltered(self) -> bool:
        return all(getattr(self, name) is None for name in self.__slots__)

    def matches(self, doc: Mapping[str, Any]) -> bool:
        started = doc["started_at"]
        if (self.start is not None and started < self.start) or (
            self.end is not None and started >= self.end
        ):
            return False
        artists = [str(a) for a in doc.get("artist_names") or ()]
        checks = (
            self.artist_id is None or self.artist_id in (doc.get("artist_ids") or ()),
            self.artist_name is None or _folded(self.artist_name) in map(_folded, artists),
            self.track_id is None or doc.get("track_id") == self.track_id,
            self.track_name is None or _folded(self.track_name) == _folded(doc.get("track_name")),
            self.source is None or doc.get("source") == self.source,
            self.q is None
            or _contains(self.q, [doc.get("track_name"), doc.get("album_name"), *artists]),
        )
        return all(checks)


def _folded(value: Any) -> str:
    return str(value or "").casefold()


def _contains(needle: str, haystack: Sequence[Any]) -> bool:
    wanted = needle.casefold()
    return any(wanted in _folded(value) for value in haystack)
