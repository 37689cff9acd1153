"""Rollup maths: per-user, per-LOCAL-day documents updated with ``$inc``, and reading them back.

A rollup document (one per user and local day, unique on ``user_id`` + ``day``)::

    {"user_id": ..., "day": "2024-03-31",            # local date in the user's zone
     "plays": 12, "ms": 2_700_000,                     # counted plays, real listened ms
     "h":  {"<hour 0-23>": {"p": plays, "ms": ms}},    # local hour of the play's start
     "t":  {"<track key>":  {"p": ..., "ms": ...}},
     "a":  {"<artist key>": {"p": ..., "ms": ...}},    # every credited artist
     "al": {"<album key>":  {"p": ..., "ms": ...}}}

A play belongs to the local day and hour in which it STARTED: "when did I listen" means when the
music began, and export rows with a late ``ts`` (offline, unexpected exit) are then filed where
they happened. The whole play goes to that one day/hour (no splitting across midnight), so the
day sums equal the play totals exactly. Only counted plays (``counting.decide``) belong here.

Keys become field names, so they are escaped reversibly: '%' → %25, '.' → %2E, '$' → %24,
NUL → %00 (every '$', so no name can start with one), and the empty key → "%" (which no
non-empty key encodes to). Ordinary keys (``spotify:track:<id>``) pass unchanged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from echostats.domain.plays import Play, play_album_key, play_artist_keys

_ESCAPE = str.maketrans({"%": "%25", ".": "%2E", "$": "%24", "\x00": "%00"})
_UNESCAPE = re.compile(r"%(25|2E|24|00)")
_UNESCAPED = {"25": "%", "2E": ".", "24": "$", "00": "\x00"}
_EMPTY = "%"


def encode_key(key: str) -> str:
    if not key:
        return _EMPTY
    return key.translate(_ESCAPE)


def decode_key(field: str) -> str:
    if field == _EMPTY:
        return ""
    if "%" not in field:
        return field
    return _UNESCAPE.sub(lambda match: _UNESCAPED[match.group(1)], field)


def day_and_hour(instant: datetime, tz: tzinfo) -> tuple[str, int]:
    """Local day ("YYYY-MM-DD") and hour of an aware instant; pass a play's ``started_at``."""
    local = instant.astimezone(tz)
    return local.date().isoformat(), local.hour


def increments(plays: Iterable[Play], tz: tzinfo) -> dict[str, dict[str, int]]:
    """Day → ``$inc`` document for adding these plays (caller filters with ``decide`` first)."""
    out: dict[str, dict[str, int]] = {}
    for play in plays:
        day, hour = day_and_hour(play.started_at, tz)
        inc = out.get(day)
        if inc is None:
            inc = out[day] = {}
        ms = play.ms_played
        paths = [f"h.{hour}", "t." + encode_key(play.track_key)]
        paths.extend("a." + encode_key(key) for key in play_artist_keys(play))
        album = play_album_key(play)
        if album is not None:
            paths.append("al." + encode_key(album))
        inc["plays"] = inc.get("plays", 0) + 1
        inc["ms"] = inc.get("ms", 0) + ms
        for path in paths:
            p, m = path + ".p", path + ".ms"
            inc[p] = inc.get(p, 0) + 1
            inc[m] = inc.get(m, 0) + ms
    return out


def negate(incs: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    return {day: {path: -value for path, value in inc.items()} for day, inc in incs.items()}


def decrements(plays: Iterable[Play], tz: tzinfo) -> dict[str, dict[str, int]]:
    """``$inc`` documents that undo ``increments`` of the same plays (deleting or replacing).

    Counters may be left at zero; readers ignore entries with no plays.
    """
    return negate(increments(plays, tz))


@dataclass(frozen=True, slots=True)
class Counter:
    key: str
    plays: int
    ms: int


@dataclass(frozen=True, slots=True)
class Totals:
    plays: int
    ms: int
    days: tuple[str, ...]  # local days with at least one play, ascending
    unique_tracks: int
    unique_artists: int
    unique_albums: int
    top_tracks: tuple[Counter, ...]  # by plays, then ms, then key; cut to top_n
    top_artists: tuple[Counter, ...]
    top_albums: tuple[Counter, ...]
    hours: tuple[Counter, ...]  # 24 entries, key "0".."23"
    weekdays: tuple[Counter, ...]  # 7 entries, key "0" (Monday) .. "6"


def _add_counters(target: dict[str, list[int]], section: Any) -> None:
    if not isinstance(section, Mapping):
        return
    for field, counts in section.items():
        if isinstance(counts, Mapping):
            slot = target[decode_key(field)]
            slot[0] += int(counts.get("p", 0))
            slot[1] += int(counts.get("ms", 0))


def _ranked(
    counters: Mapping[str, list[int]], top_n: int | None
) -> tuple[int, tuple[Counter, ...]]:
    live = [Counter(key, plays, ms) for key, (plays, ms) in counters.items() if plays > 0]
    live.sort(key=lambda c: (-c.plays, -c.ms, c.key))
    return len(live), tuple(live if top_n is None else live[:top_n])


def merge_days(docs: Iterable[Mapping[str, Any]], top_n: int | None = 10) -> Totals:
    """Sum rollup day documents into totals, ranked top lists and hour/weekday distributions."""
    plays = ms = 0
    days: list[str] = []
    tracks: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    artists: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    albums: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    hours = [[0, 0] for _ in range(24)]
    weekdays = [[0, 0] for _ in range(7)]
    for doc in docs:
        day_plays, day_ms = int(doc.get("plays", 0)), int(doc.get("ms", 0))
        plays += day_plays
        ms += day_ms
        if day_plays > 0:
            days.append(str(doc["day"]))
            weekday = weekdays[date.fromisoformat(str(doc["day"])).weekday()]
            weekday[0] += day_plays
            weekday[1] += day_ms
        for hour, counts in (doc.get("h") or {}).items():
            bucket = hours[int(hour)]
            bucket[0] += int(counts.get("p", 0))
            bucket[1] += int(counts.get("ms", 0))
        _add_counters(tracks, doc.get("t"))
        _add_counters(artists, doc.get("a"))
        _add_counters(albums, doc.get("al"))
    unique_tracks, top_tracks = _ranked(tracks, top_n)
    unique_artists, top_artists = _ranked(artists, top_n)
    unique_albums, top_albums = _ranked(albums, top_n)
    return Totals(
        plays=plays,
        ms=ms,
        days=tuple(sorted(days)),
        unique_tracks=unique_tracks,
        unique_artists=unique_artists,
        unique_albums=unique_albums,
        top_tracks=top_tracks,
        top_artists=top_artists,
        top_albums=top_albums,
        hours=tuple(Counter(str(h), p, m) for h, (p, m) in enumerate(hours)),
        weekdays=tuple(Counter(str(d), p, m) for d, (p, m) in enumerate(weekdays)),
    )


@dataclass(frozen=True, slots=True)
class Streaks:
    current: int  # consecutive days with plays ending today, or yesterday if today has none
    longest: int


def streaks(days: Iterable[date], today: date) -> Streaks:
    """Streaks over local days with at least one play (days after ``today`` are ignored)."""
    ordered = sorted({day for day in days if day <= today})
    longest = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    if previous is not None and (today - previous).days <= 1:
        current = run
    return Streaks(current=current, longest=longest)
