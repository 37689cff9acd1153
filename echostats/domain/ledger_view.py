"""Every read of a user's plays, over the ledger's columns: numpy, any range, any zone.

A ``LedgerView`` is one consistent snapshot: the user's plays in ledger order (by ``ended_at``,
newest last), their spellings and strings, and the canonical identity of every spelling. It
never changes; a newer snapshot is a new view (``echostats.store.ledger_cache``), and what a
view derives (per-play canonical tracks, first plays, search texts) is computed once per view.

Selecting the plays that *started* in a range uses the ``ended_at`` order: a play ends after it
starts, and no later than ``max_lag`` after (the longest play, or the latest offline report),
so the candidates are one slice of the sorted ends and a mask does the rest.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from echostats.domain import zones
from echostats.domain.counters import HEAT_CELLS, Counters, Merged
from echostats.domain.identity import Identity, Kind, hashed, spotify_id_of
from echostats.domain.ledger import (
    COUNTED,
    ESTIMATED,
    NONE,
    PRECISION_BITS,
    PRECISION_SHIFT,
    PRECISIONS,
    SOURCE_BITS,
    SOURCE_SHIFT,
    SOURCES,
    STRING_FIELDS,
    TRI_SHIFTS,
    VIDEO,
    Columns,
    Spelling,
    instant_of,
    ms_of,
    source_bits,
    tri_bits,
)
from echostats.domain.plays import Play, normalise_name
from echostats.domain.recommend import Candidate, History
from echostats.domain.spellings import Spellings

I64 = npt.NDArray[np.int64]
Index = npt.NDArray[np.intp]
EPOCH_DAY = date(1970, 1, 1)
NEVER = np.iinfo(np.int64).max
REMEMBERED = 16  # answers kept per view (a summary of ten years of plays: ~3 MB at most)
_MISSING = object()
T = TypeVar("T")


def day_number(day: date) -> int:
    return (day - EPOCH_DAY).days


def _sums(codes: npt.NDArray[Any], weights: npt.NDArray[Any], size: int) -> tuple[I64, I64]:
    plays = np.bincount(codes, minlength=size).astype(np.int64)
    ms = np.bincount(codes, weights=weights, minlength=size).round().astype(np.int64)
    return plays, ms


@dataclass(frozen=True, slots=True)
class Counts:
    """Plays and ms per canonical entity of one kind (index = entity)."""

    plays: I64
    ms: I64

    def counters(self) -> Counters:
        nz = np.flatnonzero(self.plays > 0).astype(np.int64)
        return Counters(nz, self.plays[nz], self.ms[nz])


@dataclass(frozen=True, slots=True)
class PlayRow:
    """One play as a history row or export line."""

    id: str
    started_at: datetime
    ended_at: datetime
    ms_played: int
    ms_played_estimated: bool
    duration_ms: int | None
    spelling: Spelling
    track: int  # canonical track
    source: str
    counted: bool
    strings: dict[str, str | None]
    shuffle: bool | None
    skipped: bool | None
    offline: bool | None
    incognito: bool | None
    video: bool
    precision: str


TRI = (None, False, True)  # the ledger's two-bit optional booleans


def _tri(value: int) -> bool | None:
    return TRI[value]


class LedgerView:
    def __init__(
        self,
        columns: Columns,
        spellings: Spellings,
        strings: Sequence[str],
        identity: Identity,
        version: int = 0,
    ) -> None:
        self.columns = columns
        self.spellings = spellings
        self.strings = strings
        self.identity = identity
        self.version = version
        self._in_zone: dict[tzinfo, tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8]]] = {}
        self._candidates: dict[int, Candidate] = {}
        self._remembered: OrderedDict[Hashable, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self.columns)

    def remembered(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, kept with this view for the next request that asks the same: a view
        never changes, and a newer one (a play stored, merged, deleted) starts empty. The
        ``REMEMBERED`` most recent answers are kept."""
        found = self._remembered.get(key, _MISSING)
        if found is _MISSING:
            found = make()
            self._remembered[key] = found
            if len(self._remembered) > REMEMBERED:
                self._remembered.popitem(last=False)
        else:
            self._remembered.move_to_end(key)
        return cast(T, found)

    # --- per-play derived columns ----------------------------------------------------------------

    @cached_property
    def track(self) -> npt.NDArray[np.int32]:
        """Canonical track of every play."""
        out: npt.NDArray[np.int32] = self.identity.track_of_entry[self.columns.entry]
        return out

    @cached_property
    def counted(self) -> npt.NDArray[np.bool_]:
        counted: npt.NDArray[np.bool_] = (self.columns.flags & COUNTED) != 0
        return counted

    @cached_property
    def max_lag(self) -> int:
        c = self.columns
        return int((c.ended - c.started).max()) if len(c) else 0

    # --- selecting -------------------------------------------------------------------------------

    def started_in(self, start: datetime | None, end: datetime | None, *, counted: bool) -> Index:
        """Indices (ledger order) of the plays that started in ``[start, end)``."""
        c = self.columns
        lo = 0 if start is None else int(np.searchsorted(c.ended, ms_of(start), "left"))
        hi = len(c)
        if end is not None:
            hi = int(np.searchsorted(c.ended, ms_of(end) + self.max_lag, "left"))
        mask = np.ones(hi - lo, bool)
        if start is not None:
            mask &= c.started[lo:hi] >= ms_of(start)
        if end is not None:
            mask &= c.started[lo:hi] < ms_of(end)
        if counted:
            mask &= self.counted[lo:hi]
        return np.flatnonzero(mask) + lo

    def same_selection(
        self, start: datetime | None, end: datetime | None
    ) -> tuple[int | None, int | None]:
        """``[start, end)`` in ms, moved to the plays' own first and last start when beyond
        them: the same plays are selected, so a range that ends "now" asks the same question
        (``remembered``) until a newer play arrives."""
        c = self.columns
        lo = None if start is None else ms_of(start)
        hi = None if end is None else ms_of(end)
        if len(c):
            first, last = self._start_bounds
            lo = lo if lo is None or lo > first else first
            hi = hi if hi is None or hi <= last else last + 1
        return lo, hi

    @cached_property
    def _start_bounds(self) -> tuple[int, int]:
        return int(self.columns.started.min()), int(self.columns.started.max())

    @cached_property
    def _first_start(self) -> int | None:
        starts = self.columns.started[self.counted]
        return int(starts.min()) if len(starts) else None

    def first_start(self) -> datetime | None:
        """When the earliest counted play started (what all_time covers)."""
        return instant_of(self._first_start) if self._first_start is not None else None

    def last_end(self) -> datetime | None:
        return instant_of(int(self.columns.ended[-1])) if len(self) else None

    # --- sums ------------------------------------------------------------------------------------

    def _local(self, tz: tzinfo) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
        """Every play's local day of start (days since 1970-01-01) and weekday x hour cell,
        computed once per view and zone (the zone's offsets of a million starts: ~20 ms)."""
        found = self._in_zone.get(tz)
        if found is None:
            local = zones.local_ms(tz, self.columns.started)
            days = zones.day_numbers(local)
            cells = zones.weekdays(days) * 24 + zones.hours(local)
            found = self._in_zone[tz] = (days.astype(np.int32), cells.astype(np.uint8))
        return found

    def counts(self, sel: Index, kind: Kind) -> Counts:
        """Plays and ms of every entity of ``kind`` over the plays ``sel`` (a play counts once
        for each credited artist)."""
        return self._of_kind(self._per_track(sel), kind)

    def _per_track(self, sel: Index) -> Counts:
        return Counts(*_sums(self.track[sel], self.columns.ms[sel], len(self.identity.tracks)))

    def _of_kind(self, per_track: Counts, kind: Kind) -> Counts:
        """Per-track sums folded onto artists or albums (one pass over the tracks, not over
        the plays)."""
        ident = self.identity
        if kind is Kind.TRACK:
            return per_track
        if kind is Kind.ARTIST:
            groups, plays, ms = (
                ident.artist_idx,
                per_track.plays[self._pair_track],
                per_track.ms[self._pair_track],
            )
            size = len(ident.artists)
        else:
            known = ident.album_of_track >= 0
            groups, plays, ms = (
                ident.album_of_track[known],
                per_track.plays[known],
                per_track.ms[known],
            )
            size = len(ident.albums)
        return Counts(
            np.bincount(groups, plays, size).round().astype(np.int64),
            np.bincount(groups, ms, size).round().astype(np.int64),
        )

    @cached_property
    def _pair_track(self) -> I64:
        """The track of each (track, artist) credit, parallel to ``identity.artist_idx``."""
        ident = self.identity
        rows: I64 = np.repeat(
            np.arange(len(ident.tracks), dtype=np.int64), np.diff(ident.artist_ptr)
        )
        return rows

    def merged(
        self, sel: Index, tz: tzinfo, first: date, last: date, kinds: Sequence[Kind] = ()
    ) -> Merged:
        """The range's figures: totals, per local day of start, per weekday x hour, and the
        counters of ``kinds`` keyed by canonical entity."""
        all_days, all_cells = self._local(tz)
        span = max((last - first).days + 1, 0)
        offset = all_days[sel] - day_number(first)
        inside = (offset >= 0) & (offset < span)
        ms = self.columns.ms[sel]
        day_plays, day_ms = _sums(offset[inside], ms[inside], span)
        heat_plays, heat_ms = _sums(all_cells[sel], ms, HEAT_CELLS)
        sections = {}
        per_track = self._per_track(sel) if kinds else None
        for kind in kinds:
            assert per_track is not None
            section = {Kind.TRACK: "t", Kind.ARTIST: "a", Kind.ALBUM: "al"}[kind]
            sections[section] = self._of_kind(per_track, kind).counters()
        return Merged(
            first,
            len(sel),
            int(ms.sum()),
            np.stack([day_plays, day_ms], axis=1),
            np.stack([heat_plays, heat_ms], axis=1),
            sections,
        )

    # --- first plays (discovery) -----------------------------------------------------------------

    @cached_property
    def _first_track_start(self) -> I64:
        first = np.full(len(self.identity.tracks), NEVER, np.int64)
        counted = self.counted
        np.minimum.at(first, self.track[counted], self.columns.started[counted])
        return first

    def first_starts(self, kind: Kind) -> I64:
        """When each entity's first counted play started (``NEVER`` when it has none)."""
        return self._first_track_start if kind is Kind.TRACK else self._first_artist_start

    @cached_property
    def _first_artist_start(self) -> I64:
        first = np.full(len(self.identity.artists), NEVER, np.int64)
        np.minimum.at(first, self.identity.artist_idx, self._first_track_start[self._pair_track])
        return first

    # --- plays of entities -----------------------------------------------------------------------

    def tracks_of(self, kind: Kind, entity: int) -> I64:
        ident = self.identity
        if kind is Kind.TRACK:
            return np.array([entity], np.int64)
        if kind is Kind.ARTIST:
            return ident.tracks_of_artist(entity)
        return ident.tracks_of_album(entity)

    def named(self, kind: Kind, text: str, limit: int) -> list[int]:
        """Up to ``limit`` canonical entities of ``kind`` whose name holds ``text`` (any case,
        any accents), most played first: what a person finds to merge. The spellings' search
        texts narrow the candidates in one scan; only those are decoded and checked."""
        wanted = normalise_name(text)
        ident = self.identity
        tracks = np.unique(ident.track_of_entry[self.spellings.matching(text)]).astype(np.int64)
        if kind is Kind.TRACK:
            candidates = tracks
        elif kind is Kind.ARTIST:
            chosen = np.zeros(len(ident.tracks), bool)
            chosen[tracks] = True
            track_of_credit = np.repeat(chosen, np.diff(ident.artist_ptr))
            candidates = np.unique(ident.artist_idx[track_of_credit])
        else:
            albums = ident.album_of_track[tracks]
            candidates = np.unique(albums[albums >= 0])
        plays = self.counts(np.flatnonzero(self.counted), kind).plays[candidates]
        entities = ident.entities(kind)
        found: list[int] = []
        for entity in candidates[np.argsort(-plays, kind="stable")]:
            if wanted in normalise_name(entities.name(int(entity))):
                found.append(int(entity))
                if len(found) == limit:
                    break
        return found

    def plays_of_tracks(self, tracks: I64, *, counted: bool) -> Index:
        wanted = np.zeros(len(self.identity.tracks), bool)
        wanted[tracks] = True
        mask = wanted[self.track]
        if counted:
            mask &= self.counted
        return np.flatnonzero(mask)

    # --- rows ------------------------------------------------------------------------------------

    def row(self, index: int) -> PlayRow:
        c = self.columns
        flags = int(c.flags[index])
        strings = {
            name: self.strings[code] if (code := int(c.strings[index, j])) != NONE else None
            for j, name in enumerate(STRING_FIELDS)
        }
        duration = int(c.duration[index])
        return PlayRow(
            id=bytes(c.ids[index]).hex(),
            started_at=instant_of(int(c.started[index])),
            ended_at=instant_of(int(c.ended[index])),
            ms_played=int(c.ms[index]),
            ms_played_estimated=bool(flags & ESTIMATED),
            duration_ms=None if duration == NONE else duration,
            spelling=self.spellings.read(int(c.entry[index])),
            track=int(self.track[index]),
            source=SOURCES[(flags >> SOURCE_SHIFT) & SOURCE_BITS],
            counted=bool(flags & COUNTED),
            strings=strings,
            shuffle=_tri((flags >> TRI_SHIFTS["shuffle"]) & 3),
            skipped=_tri((flags >> TRI_SHIFTS["skipped"]) & 3),
            offline=_tri((flags >> TRI_SHIFTS["offline"]) & 3),
            incognito=_tri((flags >> TRI_SHIFTS["incognito"]) & 3),
            video=bool(flags & VIDEO),
            precision=PRECISIONS[(flags >> PRECISION_SHIFT) & PRECISION_BITS].value,
        )

    # --- history filters -------------------------------------------------------------------------

    def spellings_matching(self, text: str) -> npt.NDArray[np.bool_]:
        """Which spellings name ``text`` (normalised substring of a track, artist or album)."""
        return self.spellings.matching(text)

    def spellings_titled(self, title: str) -> npt.NDArray[np.bool_]:
        """Which spellings have this track name (any case, any accents)."""
        titled: npt.NDArray[np.bool_] = self.spellings.keys.title == hashed(normalise_name(title))
        return titled

    def source_mask(self, source: str) -> npt.NDArray[np.bool_]:
        mask: npt.NDArray[np.bool_] = source_bits(self.columns.flags) == SOURCES.index(source)
        return mask

    def tri_known(self, sel: Index, name: str) -> tuple[int, int]:
        """(plays among ``sel`` that report ``name``, of which true)."""
        bits = tri_bits(self.columns.flags[sel], name)
        return int(np.count_nonzero(bits)), int(np.count_nonzero(bits == 2))

    def string_mix(self, sel: Index, name: str) -> dict[str, int]:
        """Plays among ``sel`` per value of a string field (``unknown`` for none)."""
        codes = self.columns.strings[sel, STRING_FIELDS.index(name)]
        values, counts = np.unique(codes, return_counts=True)
        return {
            (self.strings[int(v)] if v != NONE else "unknown"): int(n)
            for v, n in zip(values, counts, strict=True)
        }

    def counted_days(self, tz: tzinfo) -> I64:
        """The local days (days since 1970-01-01) with at least one counted play, ascending."""
        days = self._local(tz)[0][self.counted]
        if not len(days):
            return np.zeros(0, np.int64)
        low = int(days.min())
        found: I64 = np.flatnonzero(np.bincount(days - low)) + low
        return found

    @staticmethod
    def day_numbers(instants_ms: I64, tz: tzinfo) -> I64:
        """Local day (days since 1970-01-01) of each instant."""
        return zones.day_numbers(zones.local_ms(tz, instants_ms))

    @classmethod
    def local_days(cls, instants_ms: I64, tz: tzinfo) -> list[date]:
        return [EPOCH_DAY + timedelta(days=int(d)) for d in cls.day_numbers(instants_ms, tz)]

    def duration_of(self, track: int) -> int | None:
        """The length of a canonical track, as its latest play reported it."""
        sel = np.flatnonzero((self.track == track) & (self.columns.duration != NONE))
        return int(self.columns.duration[sel[-1]]) if len(sel) else None

    # --- recommendations and playlists ------------------------------------------------------------

    def history_since(self, since: datetime) -> History:
        """The counted plays that ended at or after ``since``, as recommending reads them:
        canonical tracks and artists, in start order."""
        c, ident = self.columns, self.identity
        lo = int(np.searchsorted(c.ended, ms_of(since), "left"))
        chosen = np.flatnonzero(self.counted[lo:]) + lo
        chosen = chosen[np.lexsort((c.ended[chosen], c.started[chosen]))]

        return History(
            track=self.track[chosen].astype(np.int64),
            started=c.started[chosen],
            ended=c.ended[chosen],
            tracks=len(ident.tracks),
            artists=len(ident.artists),
            artist_ptr=ident.artist_ptr,
            artist_idx=ident.artist_idx.astype(np.int64),
            candidate=self.candidate,
            artist_key=ident.artists.key,
            artist_name=ident.artists.name,
            find_track=ident.tracks.find,
            find_artist=ident.artists.find,
        )

    def candidate(self, track: int) -> Candidate:
        """A canonical track as recommending names it, made once per view: ranking reads the
        same tracks' keys and names again and again, on every request."""
        found = self._candidates.get(track)
        if found is None:
            ident = self.identity
            key = ident.tracks.key(track)
            album = int(ident.album_of_track[track])
            found = self._candidates[track] = Candidate(
                key,
                spotify_id_of(key),
                ident.tracks.name(track),
                tuple(ident.artists.name(a) for a in ident.artists_of(track)),
                ident.albums.name(album) if album >= 0 else None,
            )
        return found

    def play_counts(self, track_keys: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        """Counted plays and the latest end of each track key (any spelling of the track)."""
        ident = self.identity
        found = {k: ident.tracks.find(k) for k in track_keys}
        wanted = np.array(sorted({e for e in found.values() if e is not None}), np.int64)
        sel = self.plays_of_tracks(wanted, counted=True)
        plays = np.bincount(self.track[sel], minlength=len(ident.tracks))
        last = np.full(len(ident.tracks), -1, np.int64)
        np.maximum.at(last, self.track[sel], self.columns.ended[sel])
        return {
            key: (int(plays[e]), instant_of(int(last[e])) if last[e] >= 0 else None)
            for key, e in found.items()
            if e is not None and plays[e]
        }

    def play(self, index: int, user_id: str) -> Play:
        """The stored play at ``index``, as its source recorded it."""
        return self.plays_in(index, index + 1, user_id)[0]

    def plays_in(self, start: int, stop: int, user_id: str) -> list[Play]:
        """The stored plays ``start .. stop - 1`` (ledger order), as their sources recorded
        them, decoded one numpy call per field."""
        c = self.columns
        flags = c.flags[start:stop]
        tri = {name: tri_bits(flags, name).tolist() for name in TRI_SHIFTS}
        strings = c.strings[start:stop].tolist()
        fields = zip(
            c.started[start:stop].tolist(),
            c.ended[start:stop].tolist(),
            c.ms[start:stop].tolist(),
            c.duration[start:stop].tolist(),
            c.entry[start:stop].tolist(),
            source_bits(flags).tolist(),
            ((flags >> PRECISION_SHIFT) & PRECISION_BITS).tolist(),
            ((flags & ESTIMATED) != 0).tolist(),
            ((flags & VIDEO) != 0).tolist(),
            strict=True,
        )
        out = []
        for n, (
            started,
            ended,
            ms,
            duration,
            entry,
            source,
            precision,
            estimated,
            video,
        ) in enumerate(fields):
            s = self.spellings.read(entry)
            out.append(
                Play(
                    user_id=user_id,
                    track_key=s.track_key,
                    track_id=s.track_id,
                    track_name=s.track_name,
                    artist_names=s.artist_names,
                    artist_ids=s.artist_ids,
                    album_name=s.album_name,
                    album_id=s.album_id,
                    ended_at=instant_of(ended),
                    started_at=instant_of(started),
                    ms_played=ms,
                    ms_played_estimated=estimated,
                    duration_ms=None if duration == NONE else duration,
                    source=SOURCES[source],
                    precision=PRECISIONS[precision],
                    shuffle=TRI[tri["shuffle"][n]],
                    skipped=TRI[tri["skipped"][n]],
                    offline=TRI[tri["offline"][n]],
                    incognito=TRI[tri["incognito"][n]],
                    video=video,
                    **{
                        name: self.strings[code] if (code := strings[n][j]) != NONE else None
                        for j, name in enumerate(STRING_FIELDS)
                    },
                )
            )
        return out
