"""Local time of many instants at once: a zone's UTC offsets as a table of transitions.

``zoneinfo`` answers one instant at a time (~1 µs each), far too slow for a million plays. A
zone's offset only changes at its transitions (DST, law changes), so the offsets of every
instant follow from the sorted transition instants with one ``searchsorted``. The table is
found by probing the zone daily from 2000 to 2060 and bisecting each change down to the
second; before and after that span the end offsets hold (no play predates Spotify).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

_FIRST = datetime(2000, 1, 1, tzinfo=UTC)
_LAST = datetime(2060, 1, 1, tzinfo=UTC)
_STEP = timedelta(days=1)  # transitions are months apart
MS_PER_DAY = 86_400_000
MS_PER_HOUR = 3_600_000


def _offset_s(tz: tzinfo, instant: datetime) -> int:
    offset = instant.astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@lru_cache(maxsize=64)
def _table(tz: tzinfo) -> tuple[I64, I64]:
    """(transition instants in ms, offset in ms from each one on); the first entry is -inf."""
    instants = [np.iinfo(np.int64).min]
    offsets = [_offset_s(tz, _FIRST) * 1000]
    at = _FIRST
    before = offsets[0] // 1000
    while at < _LAST:
        probe = at + _STEP
        after = _offset_s(tz, probe)
        if after != before:
            lo, hi = int(at.timestamp()), int(probe.timestamp())  # offset changes in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(tz, datetime.fromtimestamp(mid, UTC)) == before:
                    lo = mid
                else:
                    hi = mid
            instants.append(hi * 1000)
            offsets.append(after * 1000)
            before = after
        at = probe
    return np.array(instants, np.int64), np.array(offsets, np.int64)


def offsets_ms(tz: tzinfo, instants_ms: I64) -> I64:
    """The zone's UTC offset at each instant (ms since the epoch), in ms."""
    starts, offsets = _table(tz)
    if len(starts) == 1:
        return np.full(len(instants_ms), offsets[0], np.int64)
    return offsets[np.searchsorted(starts, instants_ms, side="right") - 1]


def local_ms(tz: tzinfo, instants_ms: I64) -> I64:
    """Wall-clock time of each instant, as ms since the local epoch."""
    local: I64 = instants_ms + offsets_ms(tz, instants_ms)
    return local


def day_numbers(local: I64) -> I64:
    """Local day of each wall-clock time, as days since 1970-01-01."""
    days: I64 = local // MS_PER_DAY
    return days


def weekdays(days: I64) -> I64:
    """0 = Monday (1970-01-01 was a Thursday)."""
    out: I64 = (days + 3) % 7
    return out


def hours(local: I64) -> I64:
    out: I64 = (local // MS_PER_HOUR) % 24
    return out
