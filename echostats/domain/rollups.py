"""Rollups: a user's counted plays summed per local day, month and year, packed into arrays.

Why packed: the embedded server is written in Python, so its cost grows with the number of
fields a document has. A document of 20,000 nested counters takes ~25 ms to read and ~200 ms
to ``$inc``; the same counters as one binary field take under 2 ms for either (measured on the
development machine). So a rollup is a few binary fields of numpy arrays, updated
read-modify-write by the aggregator, and all the maths happens in the app.

Levels (``Level``) and their period ids, in the user's zone at the time of writing:

* ``d`` ``"2024-03-31"`` — the counted plays that STARTED on that local day;
* ``m`` ``"2024-03"`` and ``y`` ``"2024"`` — the same, for a local month and year.

Any run of whole local days is covered exactly by a few of them (``cover``): whole years, then
whole months, then days, so ten years read ~10 year documents plus the edges, not 3,650 days.

A play belongs to the local day and hour in which it started: "when did I listen" means when
the music began, and export rows with a late ``ts`` (offline, unexpected exit) are then filed
where they happened. The whole play goes to that one day and hour (no splitting across
midnight), so the sums equal the play totals exactly.

Every rollup holds ``plays`` and ``ms`` (real listened time), ``days`` (``[plays, ms]`` per
local day of its period), ``heat`` (``[plays, ms]`` per weekday x hour of the start) and three
counter sections: ``t`` tracks, ``a`` artists (every credited artist), ``al`` albums.

Counters are keyed by a 64-bit hash of the key (``key_id``) so documents merge with numpy,
and carry the keys themselves, so a merged result names its entries without another lookup.
Two different keys with the same hash would merge; at 2^64 that is ~10^-10 for a hundred
thousand keys, and ``Counters.add`` refuses such a pair rather than merge it silently.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta, tzinfo
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from echostats.domain.plays import Play, play_album_key, play_artist_keys

I64 = npt.NDArray[np.int64]
# tracks, artists, albums, and artist x track pairs (an artist's own top tracks)
SECTIONS = ("t", "a", "al", "at")
HEAT_CELLS = 7 * 24  # weekday (0 = Monday) x hour


class Level(StrEnum):
    DAY = "d"
    MONTH = "m"
    YEAR = "y"
    # The history timeline: EVERY play (counted or not) per UTC day of its END, per UTC year
    # (only ``plays``, ``ms`` and ``days`` are filled). History pages find their rows with it.
    ENDED = "e"


RollupId = tuple[Level, str]


class KeyCollision(ValueError):
    """Two different keys hashed to the same id (never seen; refused rather than merged)."""


def key_id(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def pair_key(artist: str, track: str) -> str:
    """Key of an artist x track pair (length-prefixed, so any names split back unambiguously)."""
    return f"{len(artist)}|{artist}{track}"


def split_pair(key: str) -> tuple[str, str]:
    length, _, rest = key.partition("|")
    return rest[: int(length)], rest[int(length) :]


def artist_bits(artist: str) -> int:
    """The high 32 bits every pair id of ``artist`` shares."""
    return key_id(artist) >> 32


def pair_id(key: str) -> int:
    """An ``at`` id: the artist's high 32 bits over the track's low 32, so one artist's pairs
    are found with a shift instead of decoding every key."""
    artist, track = split_pair(key)
    return (artist_bits(artist) << 32) | (key_id(track) & 0xFFFFFFFF)


def id_function(section: str) -> Callable[[str], int]:
    return pair_id if section == "at" else key_id


# --- periods -------------------------------------------------------------------------------------


def rollup_ids(day: date) -> tuple[RollupId, RollupId, RollupId]:
    """The day, month and year rollups a local day belongs to."""
    return (
        (Level.DAY, day.isoformat()),
        (Level.MONTH, f"{day.year:04d}-{day.month:02d}"),
        (Level.YEAR, f"{day.year:04d}"),
    )


def first_day(level: Level, period: str) -> date:
    if level is Level.DAY:
        return date.fromisoformat(period)
    if level is Level.MONTH:
        return date(int(period[:4]), int(period[5:7]), 1)
    return date(int(period), 1, 1)  # a year (YEAR or ENDED)


def last_day(level: Level, period: str) -> date:
    start = first_day(level, period)
    if level is Level.DAY:
        return start
    if level is Level.MONTH:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return date(start.year, 12, 31)


def day_count(level: Level, period: str) -> int:
    return (last_day(level, period) - first_day(level, period)).days + 1


def cover(first: date, last: date, top: Level = Level.YEAR) -> list[RollupId]:
    """The fewest rollups whose periods exactly tile ``[first, last]``, in order; ``top`` caps
    the level (``Level.DAY`` gives one rollup per day, ``Level.MONTH`` no years)."""
    out: list[RollupId] = []
    day = first
    while day <= last:
        if top is Level.YEAR and day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= last:
            out.append((Level.YEAR, f"{day.year:04d}"))
            day = date(day.year + 1, 1, 1)
            continue
        if top is not Level.DAY and day.day == 1:
            month_end = last_day(Level.MONTH, f"{day.year:04d}-{day.month:02d}")
            if month_end <= last:
                out.append((Level.MONTH, f"{day.year:04d}-{day.month:02d}"))
                day = month_end + timedelta(days=1)
                continue
        out.append((Level.DAY, day.isoformat()))
        day += timedelta(days=1)
    return out


# --- counters ------------------------------------------------------------------------------------


class KeyTable:
    """The keys of a counter section, decoded only when asked for (a merged all-time section has
    tens of thousands; a page needs a handful). ``chunks`` are (offsets, UTF-8 blob) pairs laid
    end to end; ``positions`` maps entry i to its place in them (``None``: entry i is place i)."""

    __slots__ = ("_chunks", "_positions", "_starts")

    def __init__(
        self,
        chunks: Sequence[tuple[npt.NDArray[np.uint32], bytes]],
        positions: I64 | None = None,
    ) -> None:
        self._chunks = list(chunks)
        sizes = [len(offsets) - 1 for offsets, _ in self._chunks]
        self._starts = np.cumsum([0, *sizes], dtype=np.int64)
        self._positions = positions

    @classmethod
    def of(cls, keys: Sequence[str]) -> KeyTable:
        encoded = [k.encode("utf-8", "surrogatepass") for k in keys]
        offsets = np.cumsum([0, *map(len, encoded)], dtype=np.uint32)
        return cls([(offsets, b"".join(encoded))])

    def _place(self, index: int) -> int:
        return int(self._positions[index]) if self._positions is not None else index

    def key(self, index: int) -> str:
        place = self._place(index)
        chunk = int(np.searchsorted(self._starts, place, side="right")) - 1
        offsets, blob = self._chunks[chunk]
        local = place - int(self._starts[chunk])
        raw = blob[int(offsets[local]) : int(offsets[local + 1])]
        return raw.decode("utf-8", "surrogatepass")

    def reindexed(self, positions: I64) -> KeyTable:
        """The table of entries ``positions`` (indices into this table)."""
        mapped = positions if self._positions is None else self._positions[positions]
        return KeyTable(self._chunks, mapped)

    def concat(self, other: KeyTable) -> KeyTable:
        """This table's places followed by ``other``'s (used before a merge picks entries)."""
        base = int(self._starts[-1])
        mine = self._positions if self._positions is not None else np.arange(base)
        theirs = other._positions if other._positions is not None else None
        if theirs is None:
            theirs = np.arange(int(other._starts[-1]), dtype=np.int64)
        return KeyTable(
            [*self._chunks, *other._chunks], np.concatenate([mine, theirs + base]).astype(np.int64)
        )

    def _ranges(self, indices: I64) -> tuple[bytes, I64, I64]:
        """All chunk blobs joined, and where entries ``indices`` start and end in it."""
        places = self._positions[indices] if self._positions is not None else indices
        blobs, starts, ends = [], [], []
        base = 0
        for offsets, blob in self._chunks:
            blobs.append(blob)
            starts.append(offsets[:-1].astype(np.int64) + base)
            ends.append(offsets[1:].astype(np.int64) + base)
            base += len(blob)
        return b"".join(blobs), np.concatenate(starts)[places], np.concatenate(ends)[places]

    def same_keys(self, indices: I64, keys: Sequence[str]) -> bool:
        """Do entries ``indices`` hold exactly ``keys`` (compared as bytes, nothing decoded)?"""
        joined, start, end = self._ranges(indices)
        return all(
            joined[int(s) : int(e)] == key.encode("utf-8", "surrogatepass")
            for s, e, key in zip(start, end, keys, strict=True)
        )

    def packed(self, count: int) -> tuple[npt.NDArray[np.uint32], bytes]:
        """Offsets and blob of entries ``0..count-1``, for storage: one numpy gather of the
        entries' byte ranges (a year's rollup rewrites ~15,000 keys on every batch)."""
        if self._positions is None and len(self._chunks) == 1:
            return self._chunks[0]
        joined, start, end = self._ranges(np.arange(count, dtype=np.int64))
        lengths = end - start
        offsets = np.zeros(count + 1, dtype=np.uint32)
        np.cumsum(lengths, out=offsets[1:], dtype=np.uint32)
        # Byte i of the output comes from start[entry] + (i - offsets[entry]).
        shift = np.repeat(start - offsets[:-1].astype(np.int64), lengths)
        source = np.frombuffer(joined, dtype=np.uint8)
        picked = source[np.arange(int(offsets[-1]), dtype=np.int64) + shift]
        return offsets, picked.tobytes()


def _empty_i64() -> I64:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Counters:
    """Plays and ms per key of one section, sorted by key id, only entries with plays."""

    ids: I64 = field(default_factory=_empty_i64)
    plays: I64 = field(default_factory=_empty_i64)
    ms: I64 = field(default_factory=_empty_i64)
    keys: KeyTable = field(default_factory=lambda: KeyTable.of([]))

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, key: str, id_of: Callable[[str], int] = key_id) -> int | None:
        wanted = id_of(key)
        at = int(np.searchsorted(self.ids, wanted))
        if at < len(self.ids) and int(self.ids[at]) == wanted:
            return at
        return None

    def of_artist(self, artist: str) -> Counters:
        """The ``at`` entries of one artist (their keys checked, not only their id bits)."""
        chosen = np.flatnonzero((self.ids >> 32) == artist_bits(artist))
        chosen = np.array(
            [i for i in chosen if split_pair(self.keys.key(int(i)))[0] == artist], dtype=np.int64
        )
        return Counters(
            self.ids[chosen], self.plays[chosen], self.ms[chosen], self.keys.reindexed(chosen)
        )

    def add(
        self, delta: Mapping[str, Sequence[int]], id_of: Callable[[str], int] = key_id
    ) -> Counters:
        """These counters plus ``delta`` (key → [plays, ms], negative to remove)."""
        if not delta:
            return self
        keys = list(delta)
        ids = np.array([id_of(k) for k in keys], dtype=np.int64)
        at = np.searchsorted(self.ids, ids)
        found = at < len(self.ids)
        found[found] = self.ids[at[found]] == ids[found]
        if found.any() and not self.keys.same_keys(
            at[found], [k for k, f in zip(keys, found, strict=True) if f]
        ):
            raise KeyCollision(f"two of these keys share an id: {keys!r}")
        plays = np.array([delta[k][0] for k in keys], dtype=np.int64)
        ms = np.array([delta[k][1] for k in keys], dtype=np.int64)
        return merge_counters(
            [self, Counters(ids, plays, ms, KeyTable.of(keys))], drop_empty=True, presorted=False
        )


def merge_counters(
    parts: Sequence[Counters], *, drop_empty: bool = True, presorted: bool = True
) -> Counters:
    """Sum counters by key id. ``presorted`` parts are each sorted and unique (stored ones)."""
    live = [p for p in parts if len(p)]
    if not live:
        return Counters()
    if len(live) == 1 and presorted:
        return live[0]
    ids = np.concatenate([p.ids for p in live])
    table = live[0].keys
    for part in live[1:]:
        table = table.concat(part.keys)
    unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    plays = np.zeros(len(unique), dtype=np.int64)
    ms = np.zeros(len(unique), dtype=np.int64)
    np.add.at(plays, inverse, np.concatenate([p.plays for p in live]))
    np.add.at(ms, inverse, np.concatenate([p.ms for p in live]))
    if drop_empty:
        keep = plays > 0
        unique, first, plays, ms = unique[keep], first[keep], plays[keep], ms[keep]
    return Counters(unique, plays, ms, table.reindexed(first.astype(np.int64)))


# --- rollups -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rollup:
    level: Level
    period: str
    plays: int
    ms: int
    days: I64  # shape (day_count, 2): [plays, ms] per local day of the period
    heat: I64  # shape (168, 2): [plays, ms] per weekday * 24 + hour
    sections: Mapping[str, Counters]

    @classmethod
    def empty(cls, level: Level, period: str) -> Rollup:
        return cls(
            level,
            period,
            0,
            0,
            np.zeros((day_count(level, period), 2), dtype=np.int64),
            np.zeros((HEAT_CELLS, 2), dtype=np.int64),
            {s: Counters() for s in SECTIONS},
        )

    @property
    def first(self) -> date:
        return first_day(self.level, self.period)

    def apply(self, delta: Delta) -> Rollup:
        days = self.days.copy()
        for index, (p, m) in delta.days.items():
            days[index] += (p, m)
        heat = self.heat.copy()
        for cell, (p, m) in delta.heat.items():
            heat[cell] += (p, m)
        sections = {
            s: self.sections.get(s, Counters()).add(delta.sections.get(s, {}), id_function(s))
            for s in SECTIONS
        }
        return Rollup(
            self.level,
            self.period,
            self.plays + delta.plays,
            self.ms + delta.ms,
            days,
            heat,
            sections,
        )


@dataclass
class Delta:
    """What a set of plays adds to (or, negated, removes from) one rollup."""

    plays: int = 0
    ms: int = 0
    days: dict[int, list[int]] = field(default_factory=dict)
    heat: dict[int, list[int]] = field(default_factory=dict)
    sections: dict[str, dict[str, list[int]]] = field(
        default_factory=lambda: {s: {} for s in SECTIONS}
    )

    def __bool__(self) -> bool:
        return bool(self.plays or self.ms or self.days or self.heat) or any(self.sections.values())


def _bump(target: dict[str, list[int]] | dict[int, list[int]], key: object, p: int, m: int) -> None:
    slot = target.get(key)  # type: ignore[call-overload]
    if slot is None:
        target[key] = [p, m]  # type: ignore[index]
    else:
        slot[0] += p
        slot[1] += m


def deltas(
    plays: Iterable[Play], tz: tzinfo, sign: int = 1, levels: Iterable[Level] = Level
) -> dict[RollupId, Delta]:
    """The change ``plays`` make to every rollup they touch (caller keeps only counted plays);
    ``sign=-1`` gives the change that removes them."""
    wanted = frozenset(levels)
    out: dict[RollupId, Delta] = {}
    for play in plays:
        local = play.started_at.astimezone(tz)
        day = local.date()
        p, m = sign, sign * play.ms_played
        cell = day.weekday() * 24 + local.hour
        artists = play_artist_keys(play)
        keys = {
            "t": (play.track_key,),
            "a": artists,
            "al": tuple(k for k in (play_album_key(play),) if k is not None),
            "at": tuple(pair_key(artist, play.track_key) for artist in artists),
        }
        for rid in rollup_ids(day):
            if rid[0] not in wanted:
                continue
            delta = out.get(rid)
            if delta is None:
                delta = out[rid] = Delta()
            delta.plays += p
            delta.ms += m
            _bump(delta.days, (day - first_day(*rid)).days, p, m)
            _bump(delta.heat, cell, p, m)
            for section, section_keys in keys.items():
                for key in section_keys:
                    _bump(delta.sections[section], key, p, m)
    return out


def ended_deltas(plays: Iterable[Play], sign: int = 1) -> dict[RollupId, Delta]:
    """The history-timeline change of ``plays`` (every play, counted or not)."""
    out: dict[RollupId, Delta] = {}
    for play in plays:
        day = play.ended_at.astimezone(UTC).date()
        rid = (Level.ENDED, f"{day.year:04d}")
        delta = out.get(rid)
        if delta is None:
            delta = out[rid] = Delta()
        delta.plays += sign
        delta.ms += sign * play.ms_played
        _bump(delta.days, (day - date(day.year, 1, 1)).days, sign, sign * play.ms_played)
    return out


def change(
    added: Iterable[tuple[Play, bool]], removed: Iterable[tuple[Play, bool]], tz: tzinfo
) -> dict[RollupId, Delta]:
    """Every rollup change of storing ``added`` and dropping ``removed`` ((play, counted)
    pairs): counted plays move the local rollups, every play moves the timeline."""
    added, removed = list(added), list(removed)
    out = deltas([p for p, counted in added if counted], tz)
    add_deltas(out, deltas([p for p, counted in removed if counted], tz, -1))
    add_deltas(out, ended_deltas([p for p, _ in added]))
    add_deltas(out, ended_deltas([p for p, _ in removed], -1))
    return out


def add_deltas(total: dict[RollupId, Delta], more: Mapping[RollupId, Delta]) -> None:
    for rid, delta in more.items():
        target = total.setdefault(rid, Delta())
        target.plays += delta.plays
        target.ms += delta.ms
        for index, (p, m) in delta.days.items():
            _bump(target.days, index, p, m)
        for cell, (p, m) in delta.heat.items():
            _bump(target.heat, cell, p, m)
        for section, counters in delta.sections.items():
            for key, (p, m) in counters.items():
                _bump(target.sections[section], key, p, m)


def active_days(rollups: Iterable[Rollup]) -> list[date]:
    """The days, in order, on which any of ``rollups`` has plays (in the rollups' own days:
    local for DAY/MONTH/YEAR, UTC end days for ENDED)."""
    return sorted(
        r.first + timedelta(days=int(i)) for r in rollups for i in np.flatnonzero(r.days[:, 0] > 0)
    )


def build(plays: Iterable[Play], tz: tzinfo, levels: Iterable[Level] = Level) -> list[Rollup]:
    """Rollups of counted ``plays`` from nothing (the raw-play path), ordered by id."""
    built = deltas(plays, tz, 1, levels)
    return [Rollup.empty(*rid).apply(built[rid]) for rid in sorted(built)]


class Builder:
    """Every rollup of a user from scratch, fed (play, counted) pairs in chunks (rebuilds and
    migrations): memory grows with the number of rollups, not of plays."""

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._rollups: dict[RollupId, Rollup] = {}

    def add(self, plays: Iterable[tuple[Play, bool]]) -> None:
        for rid, delta in change(plays, (), self._tz).items():
            current = self._rollups.get(rid) or Rollup.empty(*rid)
            self._rollups[rid] = current.apply(delta)

    def rollups(self) -> list[Rollup]:
        return [self._rollups[rid] for rid in sorted(self._rollups)]


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Merged:
    """The sum of the rollups covering ``[first, last]``."""

    first: date
    plays: int
    ms: int
    days: I64  # (days in range, 2)
    heat: I64  # (168, 2)
    sections: Mapping[str, Counters]

    def day_of(self, index: int) -> date:
        return self.first + timedelta(days=index)

    def active_days(self) -> list[date]:
        return [self.day_of(int(i)) for i in np.flatnonzero(self.days[:, 0] > 0)]

    def hours(self) -> I64:
        hours: I64 = self.heat.reshape(7, 24, 2).sum(axis=0)
        return hours

    def weekdays(self) -> I64:
        """[plays, ms] per weekday (0 = Monday)."""
        weekdays: I64 = self.heat.reshape(7, 24, 2).sum(axis=1)
        return weekdays


def merge(
    rollups: Iterable[Rollup], first: date, last: date, sections: Sequence[str] = SECTIONS
) -> Merged:
    """Sum rollups lying inside ``[first, last]`` (what ``cover`` lists, missing ones skipped)."""
    span = (last - first).days + 1
    days = np.zeros((max(span, 0), 2), dtype=np.int64)
    heat = np.zeros((HEAT_CELLS, 2), dtype=np.int64)
    plays = ms = 0
    parts: dict[str, list[Counters]] = {s: [] for s in sections}
    for rollup in rollups:
        start = (rollup.first - first).days
        days[start : start + len(rollup.days)] += rollup.days
        heat += rollup.heat
        plays += rollup.plays
        ms += rollup.ms
        for s in sections:
            if s in rollup.sections:
                parts[s].append(rollup.sections[s])
    return Merged(first, plays, ms, days, heat, {s: merge_counters(parts[s]) for s in sections})


def new_keys_by_rollup(
    before: Counters, ordered: Sequence[Rollup], section: str
) -> Iterator[tuple[Rollup, I64]]:
    """For rollups in time order: the key ids each one has that neither ``before`` nor an
    earlier rollup of ``ordered`` has (keys first heard in that rollup's period)."""
    seen = before.ids
    for rollup in ordered:
        ids = rollup.sections[section].ids if section in rollup.sections else _empty_i64()
        fresh = ids[~np.isin(ids, seen, assume_unique=True)]
        if len(fresh):
            seen = np.union1d(seen, fresh)
        yield rollup, fresh


# --- storage encoding (bytes only; the store wraps them) -----------------------------------------

_COUNT = struct.Struct("<I")


def pack_counters(counters: Counters) -> bytes:
    n = len(counters)
    offsets, blob = counters.keys.packed(n)
    return b"".join(
        (
            _COUNT.pack(n),
            counters.ids.astype("<i8").tobytes(),
            counters.plays.astype("<i8").tobytes(),
            counters.ms.astype("<i8").tobytes(),
            offsets.astype("<u4").tobytes(),
            blob,
        )
    )


def unpack_counters(raw: bytes) -> Counters:
    (n,) = _COUNT.unpack_from(raw, 0)
    at = _COUNT.size

    def take(dtype: str, count: int) -> npt.NDArray[np.generic]:
        nonlocal at
        array = np.frombuffer(raw, dtype=dtype, count=count, offset=at)
        at += array.nbytes
        return array

    ids = take("<i8", n).astype(np.int64)
    plays = take("<i8", n).astype(np.int64)
    ms = take("<i8", n).astype(np.int64)
    offsets = take("<u4", n + 1).astype(np.uint32)
    return Counters(ids, plays, ms, KeyTable([(offsets, bytes(raw[at:]))]))


def pack_pairs(array: I64) -> bytes:
    return array.astype("<i8").tobytes()


def unpack_pairs(raw: bytes) -> I64:
    return np.frombuffer(raw, dtype="<i8").astype(np.int64).reshape(-1, 2)
