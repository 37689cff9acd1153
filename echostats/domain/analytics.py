"""Analytics maths over rollup day documents: one pass sums what every analytics route needs.

Every route reads a list of day documents (the ``rollups`` format of ``domain.rollups``). They
come either from the ``rollups`` collection (saved zone, whole days) or are built here from raw
plays with ``day_documents`` (another zone, partial-day edges). Both go through the same
``summarise``, so the two paths cannot disagree about what a figure means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from echostats.domain.plays import Play, play_artist_keys
from echostats.domain.rollups import decode_key, increments

SECTIONS = ("t", "a", "al")  # tracks, artists, albums: the counter sections of a day document


class DayDocuments:
    """Accumulates counted plays into nested day documents, exactly as the aggregator's
    ``$inc`` updates would leave them (zero counters aside)."""

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._days: dict[str, dict[str, Any]] = {}

    def add(self, plays: Iterable[Play]) -> None:
        for day, inc in increments(plays, self._tz).items():
            doc = self._days.setdefault(day, {"day": day})
            for path, value in inc.items():
                parts = path.split(".")
                if len(parts) == 1:
                    doc[path] = doc.get(path, 0) + value
                    continue
                slot = doc.setdefault(parts[0], {}).setdefault(parts[1], {})
                slot[parts[2]] = slot.get(parts[2], 0) + value

    def documents(self) -> list[dict[str, Any]]:
        return [self._days[day] for day in sorted(self._days)]


def day_documents(plays: Iterable[Play], tz: tzinfo) -> list[dict[str, Any]]:
    """Day documents (nested, as the store holds them) for counted ``plays`` in zone ``tz``."""
    acc = DayDocuments(tz)
    acc.add(plays)
    return acc.documents()


@dataclass(frozen=True, slots=True)
class Ranked:
    key: str
    plays: int
    ms: int


@dataclass
class Summary:
    """Sums of a run of day documents. Counters hold ``[plays, ms]``; zero entries are dropped
    by ``ranked`` (deletions leave counters at zero in the store)."""

    plays: int = 0
    ms: int = 0
    by_day: dict[str, list[int]] = field(default_factory=dict)
    hours: list[list[int]] = field(default_factory=lambda: [[0, 0] for _ in range(24)])
    weekdays: list[list[int]] = field(default_factory=lambda: [[0, 0] for _ in range(7)])
    # heat[weekday][hour]: a play's hour and day come from the same local start instant.
    heat: list[list[list[int]]] = field(
        default_factory=lambda: [[[0, 0] for _ in range(24)] for _ in range(7)]
    )
    counters: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def ranked(self, section: str) -> list[Ranked]:
        live = [Ranked(k, p, m) for k, (p, m) in self.counters.get(section, {}).items() if p > 0]
        live.sort(key=lambda r: (-r.plays, -r.ms, r.key))
        return live

    @property
    def active_days(self) -> list[date]:
        return sorted(date.fromisoformat(d) for d, (p, _) in self.by_day.items() if p > 0)


def summarise(docs: Iterable[Mapping[str, Any]], sections: Sequence[str] = SECTIONS) -> Summary:
    out = Summary(counters={s: {} for s in sections})
    for doc in docs:
        day = str(doc["day"])
        plays, ms = int(doc.get("plays", 0)), int(doc.get("ms", 0))
        out.plays += plays
        out.ms += ms
        slot = out.by_day.setdefault(day, [0, 0])
        slot[0] += plays
        slot[1] += ms
        weekday = date.fromisoformat(day).weekday()
        out.weekdays[weekday][0] += plays
        out.weekdays[weekday][1] += ms
        for hour, counts in (doc.get("h") or {}).items():
            p, m = int(counts.get("p", 0)), int(counts.get("ms", 0))
            out.hours[int(hour)][0] += p
            out.hours[int(hour)][1] += m
            cell = out.heat[weekday][int(hour)]
            cell[0] += p
            cell[1] += m
        for section in sections:
            target = out.counters[section]
            for encoded, counts in (doc.get(section) or {}).items():
                key = decode_key(encoded)
                entry = target.get(key)
                if entry is None:
                    entry = target[key] = [0, 0]
                entry[0] += int(counts.get("p", 0))
                entry[1] += int(counts.get("ms", 0))
    return out


def page_of(items: Sequence[Any], page: int, limit: int) -> tuple[list[Any], int]:
    """One page (1-based) and the page count; a page past the end is empty, not an error."""
    pages = (len(items) + limit - 1) // limit
    return list(items[(page - 1) * limit : page * limit]), pages


# --- compare -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Movement:
    key: str
    rank_a: int | None  # rank in range A (1-based), None when not played in A
    rank_b: int | None
    plays_a: int
    plays_b: int


def rank_changes(
    a: Sequence[Ranked], b: Sequence[Ranked], top_n: int
) -> tuple[list[Movement], list[Movement], list[Movement]]:
    """Climbers (better rank in A than in B), fallers and new entries (not played in B at all),
    among A's top ``top_n`` (fallers: among B's top ``top_n``); biggest movements first."""
    rank_a = {r.key: i + 1 for i, r in enumerate(a)}
    rank_b = {r.key: i + 1 for i, r in enumerate(b)}
    plays_a = {r.key: r.plays for r in a}
    plays_b = {r.key: r.plays for r in b}

    def move(key: str) -> Movement:
        return Movement(
            key, rank_a.get(key), rank_b.get(key), plays_a.get(key, 0), plays_b.get(key, 0)
        )

    climbers, new = [], []
    for r in a[:top_n]:
        before = rank_b.get(r.key)
        if before is None:
            new.append(move(r.key))
        elif before > rank_a[r.key]:
            climbers.append(move(r.key))
    fallers = [move(r.key) for r in b[:top_n] if rank_a.get(r.key, len(a) + 1) > rank_b[r.key]]
    climbers.sort(key=lambda m: (-((m.rank_b or 0) - (m.rank_a or 0)), m.rank_a or 0, m.key))
    big = len(a) + len(b) + 2
    fallers.sort(key=lambda m: (-((m.rank_a or big) - (m.rank_b or 0)), m.rank_b or 0, m.key))
    return climbers, fallers, new


# --- discovery -----------------------------------------------------------------------------------


def first_days(docs: Iterable[Mapping[str, Any]], section: str) -> dict[str, str]:
    """Key → the first local day it has a counted play on (docs in any order)."""
    first: dict[str, str] = {}
    for doc in docs:
        day = str(doc["day"])
        for encoded, counts in (doc.get(section) or {}).items():
            if int(counts.get("p", 0)) <= 0:
                continue
            key = decode_key(encoded)
            seen = first.get(key)
            if seen is None or day < seen:
                first[key] = day
    return first


def first_starts(plays: Iterable[Play]) -> dict[str, dict[str, datetime]]:
    """Section ("t", "a") → key → the earliest start among ``plays`` (the raw-play path)."""
    out: dict[str, dict[str, datetime]] = {"t": {}, "a": {}}
    for play in plays:
        for section, keys in (("t", (play.track_key,)), ("a", play_artist_keys(play))):
            seen = out[section]
            for key in keys:
                if key not in seen or play.started_at < seen[key]:
                    seen[key] = play.started_at
    return out


# --- habits --------------------------------------------------------------------------------------


@dataclass
class Habits:
    plays: int = 0
    ms: int = 0
    skipped: int = 0
    skip_known: int = 0
    shuffled: int = 0
    shuffle_known: int = 0
    offline: int = 0
    offline_known: int = 0
    platforms: dict[str, int] = field(default_factory=dict)
    reason_start: dict[str, int] = field(default_factory=dict)
    reason_end: dict[str, int] = field(default_factory=dict)


def habits_of(plays: Iterable[Play]) -> Habits:
    """Playback habits over every stored play given (counted or not: a skip is usually too
    short to count, so leaving uncounted plays out would hide most skips). Fields a source does
    not report (polled plays carry no ``offline``) are left out of that share's denominator."""
    out = Habits()
    for play in plays:
        out.plays += 1
        out.ms += play.ms_played
        if play.skipped is not None:
            out.skip_known += 1
            out.skipped += play.skipped
        if play.shuffle is not None:
            out.shuffle_known += 1
            out.shuffled += play.shuffle
        if play.offline is not None:
            out.offline_known += 1
            out.offline += play.offline
        for mix, value in (
            (out.platforms, play.platform),
            (out.reason_start, play.reason_start),
            (out.reason_end, play.reason_end),
        ):
            name = value or "unknown"
            mix[name] = mix.get(name, 0) + 1
    return out


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
