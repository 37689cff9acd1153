"""The play ledger: every stored play of a user as columns of numpy arrays.

Why: the questions people ask of their plays (top lists of any range in any zone, history
searches and filters, habits, discovery, an artist's page) touch thousands to millions of plays,
and the embedded store reads one play document in ~70 µs but a packed binary column of a
million values in a few milliseconds. So the plays collection stays the source of truth, and
the aggregator keeps, next to it, one *segment* per user and UTC month of ``ended_at``: the
month's plays as a few binary columns (``Columns``), sorted by (``ended_at``, id). Every read
runs in numpy over the concatenated segments, which the app caches.

Names are dictionary-coded: a play's ``entry`` is its *spelling* — the track key with the
track, artist and album names and ids exactly as the source gave them — in the user's
append-only dictionary (``Spelling``); the canonical identity of that spelling (which track,
artists and album it is) is worked out at read time (``domain.identity``), so learning that a
name is a known Spotify id, or a person's merge, re-keys nothing. Other strings (platform,
reasons, country, context) are codes into the user's string dictionary. ``-1`` is "none".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from echostats.domain.identity import SpellingKeys
from echostats.domain.plays import Play, Source, TimePrecision, normalise_name

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U16 = npt.NDArray[np.uint16]
U8 = npt.NDArray[np.uint8]

ID_BYTES = 12  # an ObjectId
NONE = -1
MAX_MS = 2**31 - 1

SOURCES: tuple[Source, ...] = ("poll", "import", "scrobble")
PRECISIONS: tuple[TimePrecision, ...] = tuple(TimePrecision)  # stored by position: append only
# The string columns, coded into the user's string dictionary.
STRING_FIELDS: tuple[str, ...] = (
    "platform",
    "reason_start",
    "reason_end",
    "conn_country",
    "context_type",
    "context_uri",
)

# --- flags: one uint16 per play ------------------------------------------------------------------
COUNTED = 1 << 0
ESTIMATED = 1 << 1
VIDEO = 1 << 2
SOURCE_SHIFT, PRECISION_SHIFT = 3, 5  # two bits (sources), three bits (precisions)
SOURCE_BITS, PRECISION_BITS = 3, 7
# Optional booleans take two bits: 0 unknown, 1 false, 2 true.
TRI_SHIFTS: dict[str, int] = {"shuffle": 8, "skipped": 10, "offline": 12, "incognito": 14}


def _tri(value: bool | None) -> int:
    return 0 if value is None else 2 if value else 1


def flags_of(play: Play, counted: bool) -> int:
    value = (COUNTED if counted else 0) | (ESTIMATED if play.ms_played_estimated else 0)
    value |= VIDEO if play.video else 0
    value |= SOURCES.index(play.source) << SOURCE_SHIFT
    value |= PRECISIONS.index(play.precision) << PRECISION_SHIFT
    for name, shift in TRI_SHIFTS.items():
        value |= _tri(getattr(play, name)) << shift
    return value


def source_bits(flags: U16) -> npt.NDArray[np.integer[Any]]:
    return (flags >> SOURCE_SHIFT) & SOURCE_BITS


def tri_bits(flags: U16, name: str) -> npt.NDArray[np.integer[Any]]:
    return (flags >> TRI_SHIFTS[name]) & 3


# --- spellings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spelling:
    """A track as one source named it; plays are dictionary-coded by spelling."""

    track_key: str
    track_id: str | None
    track_name: str
    artist_names: tuple[str, ...]
    artist_ids: tuple[str, ...]  # parallel to artist_names, or empty
    album_name: str | None
    album_id: str | None

    @classmethod
    def of(cls, play: Play) -> Spelling:
        ids = play.artist_ids if len(play.artist_ids) == len(play.artist_names) else ()
        return cls(
            play.track_key,
            play.track_id,
            play.track_name,
            play.artist_names,
            ids,
            play.album_name,
            play.album_id,
        )

    def encode(self) -> list[Any]:
        return [
            self.track_key,
            self.track_id,
            self.track_name,
            list(self.artist_names),
            list(self.artist_ids),
            self.album_name,
            self.album_id,
        ]

    @classmethod
    def decode(cls, raw: Sequence[Any]) -> Spelling:
        return cls(
            str(raw[0]),
            raw[1],
            str(raw[2]),
            tuple(raw[3]),
            tuple(raw[4]),
            raw[5],
            raw[6],
        )

    def keys(self) -> SpellingKeys:
        return SpellingKeys.of(
            track_id=self.track_id,
            track_name=self.track_name,
            artist_names=self.artist_names,
            artist_ids=self.artist_ids,
            album_name=self.album_name,
            album_id=self.album_id,
        )

    def digest(self) -> bytes:
        """16 bytes that tell this spelling from any other (what finds its code)."""
        raw = json.dumps(self.encode(), ensure_ascii=False, separators=(",", ":"))
        return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def search_text(self) -> str:
        """Its track, artist and album names, normalised, as the history search reads them."""
        names = (self.track_name, *self.artist_names, self.album_name or "")
        return SEARCH_FIELD.join(normalise_name(n).replace(SEARCH_ROW, " ") for n in names)


SEARCH_FIELD, SEARCH_ROW = "\x1f", "\x1e"


# --- columns -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Columns:
    """Plays as parallel arrays (any order unless said; segments keep them sorted)."""

    ids: U8  # (n, 12) ObjectId bytes
    ended: I64  # ms since the epoch, UTC
    started: I64
    ms: I32  # listened time
    duration: I32  # track length, NONE when unknown
    entry: I32  # spelling code
    flags: U16
    strings: I32  # (n, len(STRING_FIELDS)) string codes

    def __len__(self) -> int:
        return len(self.ended)

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, f.name).nbytes) for f in fields(self))

    @classmethod
    def empty(cls) -> Columns:
        return cls(
            np.zeros((0, ID_BYTES), np.uint8),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0, np.uint16),
            np.zeros((0, len(STRING_FIELDS)), np.int32),
        )

    def take(self, index: npt.NDArray[np.integer[Any]]) -> Columns:
        return Columns(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: Sequence[Columns]) -> Columns:
        if not parts:
            return Columns.empty()
        if len(parts) == 1:
            return parts[0]
        return Columns(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Columns))
        )

    def order(self) -> npt.NDArray[np.intp]:
        """Indices sorting by (ended, id): the ledger's order, newest last."""
        id_hi = self.ids[:, :8].copy().view(">u8").ravel()
        id_lo = self.ids[:, 8:].copy().view(">u4").ravel()
        return np.lexsort((id_lo, id_hi, self.ended))

    def id_keys(self) -> npt.NDArray[np.void]:
        """One comparable value per play id (for set operations on ids)."""
        return np.ascontiguousarray(self.ids).view(np.dtype((np.void, ID_BYTES))).ravel()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def ms_of(instant: datetime) -> int:
    """Milliseconds since the epoch (BSON dates hold milliseconds; finer parts are floored)."""
    return (instant - EPOCH) // MILLISECOND


def instant_of(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True, slots=True)
class Row:
    """A stored play as the ledger holds it, before it is coded."""

    id: bytes
    play: Play
    counted: bool


def encode_rows(
    rows: Sequence[Row], spelling_code: Callable[[Spelling], int], string_code: Callable[[str], int]
) -> Columns:
    """Code rows into columns (dictionary codes come from the two callbacks)."""
    n = len(rows)
    ids = np.frombuffer(b"".join(r.id for r in rows), np.uint8).reshape(n, ID_BYTES)
    strings = np.full((n, len(STRING_FIELDS)), NONE, np.int32)
    for i, row in enumerate(rows):
        for j, name in enumerate(STRING_FIELDS):
            value = getattr(row.play, name)
            if value is not None:
                strings[i, j] = string_code(str(value))
    return Columns(
        ids.copy(),
        np.array([ms_of(r.play.ended_at) for r in rows], np.int64),
        np.array([ms_of(r.play.started_at) for r in rows], np.int64),
        np.array([min(max(r.play.ms_played, 0), MAX_MS) for r in rows], np.int32),
        np.array(
            [NONE if r.play.duration_ms is None else min(r.play.duration_ms, MAX_MS) for r in rows],
            np.int32,
        ),
        np.array([spelling_code(Spelling.of(r.play)) for r in rows], np.int32),
        np.array([flags_of(r.play, r.counted) for r in rows], np.uint16),
        strings,
    )


def apply_changes(current: Columns, removed_ids: Iterable[bytes], added: Columns) -> Columns:
    """``current`` without the plays ``removed_ids`` names and with ``added`` (an added id
    replaces a current play of the same id), sorted in ledger order. Applying the same change
    twice gives the same columns, which makes redoing a journal entry safe."""
    gone = {bytes(i) for i in removed_ids}
    if len(added):
        gone.update(bytes(i) for i in added.ids)
    keep = np.ones(len(current), bool)
    if gone and len(current):
        wanted = np.frombuffer(b"".join(sorted(gone)), np.dtype((np.void, ID_BYTES)))
        keep = ~np.isin(current.id_keys(), wanted)
    merged = Columns.concat([current.take(np.flatnonzero(keep)), added])
    return merged.take(merged.order())


# --- storage encoding (bytes only; the store wraps them) -----------------------------------------

_DTYPES: Mapping[str, str] = {
    "ids": "u1",
    "ended": "<i8",
    "started": "<i8",
    "ms": "<i4",
    "duration": "<i4",
    "entry": "<i4",
    "flags": "<u2",
    "strings": "<i4",
}


def pack_columns(columns: Columns) -> dict[str, bytes]:
    return {name: getattr(columns, name).astype(dtype).tobytes() for name, dtype in _DTYPES.items()}


def unpack_columns(raw: Mapping[str, bytes]) -> Columns:
    def load(name: str) -> npt.NDArray[Any]:
        return np.frombuffer(raw[name], _DTYPES[name])

    n = len(load("ended"))
    return Columns(
        load("ids").reshape(n, ID_BYTES),
        load("ended").astype(np.int64),
        load("started").astype(np.int64),
        load("ms").astype(np.int32),
        load("duration").astype(np.int32),
        load("entry").astype(np.int32),
        load("flags").astype(np.uint16),
        load("strings").astype(np.int32).reshape(n, len(STRING_FIELDS)),
    )
