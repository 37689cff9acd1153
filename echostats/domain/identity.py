"""Canonical identity: which track, artists and album every spelling of a play is.

Sources name the same music differently. A polled play carries Spotify ids for the track, every
credited artist and the album; an extended-export row carries the track's id but only the main
artist's and the album's *names*; an account-data row carries only the artist's and track's
names. Keyed as they come, one artist would be counted twice (``spotify:artist:…`` and
``name:kaia & the ghosts``). Identity is therefore resolved at read time, over the user's
dictionary of spellings (``domain.ledger.Spelling``), so that whatever is learned — at any time,
in any order — applies to past and future plays at once, with nothing re-keyed:

* a spelling that carries a name together with its id teaches an alias, name → id: artist name
  → artist id, (main artist, album name) → album id, (main artist, track name) → track id;
* a track is its Spotify id when its spelling has one, else the id its name key is an alias
  of, else the name key;
* a track's artists and album come from its richest spelling (one with artist ids beats one
  with an album id beats names only; then the first learned), each linked through the aliases;
* a person's merges (``Merge``) then fold one entity into another, for what no rule can know
  ("Artist feat. X" spellings, remasters); removing a merge undoes it.

Rules that keep it exact: the first alias learned for a name wins and later ones never replace
it, so a result never flips as spellings are added; aliases only ever link a *name* to an id,
so two different Spotify ids are never merged except by a person.

How it stays fast: every key a spelling can stand for is hashed once, when the spelling enters
the dictionary (``SpellingKeys``, stored beside it), so resolving a hundred thousand spellings
is a few numpy sorts and lookups (tens of milliseconds), and names and key strings are
decoded only for the entities a response shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from echostats.domain.counters import key_id
from echostats.domain.plays import (
    ALBUM_KEY_PREFIX,
    ARTIST_KEY_PREFIX,
    NAME_KEY_PREFIX,
    TRACK_URI_PREFIX,
    normalise_name,
)

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
NO_KEY = 0  # a hash no key has (``key_id`` never returns 0: see ``hashed``)


class Kind(StrEnum):
    TRACK = "track"
    ARTIST = "artist"
    ALBUM = "album"


PREFIX_OF: Mapping[Kind, str] = {
    Kind.TRACK: TRACK_URI_PREFIX,
    Kind.ARTIST: ARTIST_KEY_PREFIX,
    Kind.ALBUM: ALBUM_KEY_PREFIX,
}


@dataclass(frozen=True, slots=True)
class Merge:
    """A person's decision: ``source`` is the same entity as ``target`` (keys of one kind)."""

    id: str
    kind: Kind
    source: str
    target: str


@lru_cache(maxsize=262_144)
def _norm(text: str) -> str:
    return normalise_name(text)


def hashed(key: str) -> int:
    """A key's 64-bit hash; never ``NO_KEY``."""
    return key_id(key) or 1


def spotify_id_of(key: str) -> str | None:
    """``spotify:track:<id>`` → ``<id>``; a name key has no Spotify id."""
    if key.startswith("spotify:"):
        return key.rsplit(":", 1)[1]
    return None


def public_id(key: str) -> str:
    """What the API shows and its detail routes accept: the Spotify id, else the name key."""
    return spotify_id_of(key) or key


def key_of(kind: Kind, public: str) -> str:
    """Inverse of ``public_id``: a Spotify id or a ``name:`` key → the entity key."""
    if public.startswith((NAME_KEY_PREFIX, "spotify:")):
        return public
    return PREFIX_OF[kind] + public


# --- the keys of a spelling ----------------------------------------------------------------------


def artist_name_key(name: str) -> str:
    return NAME_KEY_PREFIX + _norm(name)


def album_name_key(main_artist: str, album: str) -> str:
    return f"{NAME_KEY_PREFIX}{_norm(main_artist)}|{_norm(album)}"


def track_name_key(main_artist: str, track: str) -> str:
    return f"{NAME_KEY_PREFIX}{_norm(main_artist)}|{_norm(track)}"


@dataclass(frozen=True, slots=True)
class SpellingKeys:
    """Every key identity needs of each spelling, hashed; parallel arrays (one row per
    spelling) plus the spellings' artists laid end to end (``artist_ptr``)."""

    track_id: I64  # TRACK + id, or NO_KEY
    track_name: I64  # the name key (main artist | track name)
    title: I64  # the track name alone, normalised (for "plays of a track named …")
    album_id: I64
    album_name: I64  # main artist | album name, or NO_KEY when no album
    richness: I64  # 2: artist ids, +1: album id
    artist_ptr: I64  # artists of spelling i: [artist_ptr[i], artist_ptr[i + 1])
    artist_id: I64  # ARTIST + id, or NO_KEY
    artist_name: I64  # name:<artist>

    def __len__(self) -> int:
        return len(self.track_id)

    @classmethod
    def of(
        cls,
        *,
        track_id: str | None,
        track_name: str,
        artist_names: Sequence[str],
        artist_ids: Sequence[str],
        album_name: str | None,
        album_id: str | None,
    ) -> SpellingKeys:
        main = artist_names[0] if artist_names else ""
        ids: Sequence[str | None] = (
            artist_ids if len(artist_ids) == len(artist_names) else [None] * len(artist_names)
        )
        return cls(
            np.array([hashed(TRACK_URI_PREFIX + track_id) if track_id else NO_KEY], np.int64),
            np.array([hashed(track_name_key(main, track_name))], np.int64),
            np.array([hashed(_norm(track_name))], np.int64),
            np.array([hashed(ALBUM_KEY_PREFIX + album_id) if album_id else NO_KEY], np.int64),
            np.array(
                [hashed(album_name_key(main, album_name)) if album_name else NO_KEY], np.int64
            ),
            np.array([(2 if artist_ids else 0) + (1 if album_id else 0)], np.int64),
            np.array([0, len(artist_names)], np.int64),
            np.array([hashed(ARTIST_KEY_PREFIX + i) if i else NO_KEY for i in ids], np.int64),
            np.array([hashed(artist_name_key(n)) for n in artist_names], np.int64),
        )

    @classmethod
    def empty(cls) -> SpellingKeys:
        return cls.concat([])

    @staticmethod
    def concat(parts: Sequence[SpellingKeys]) -> SpellingKeys:
        def joined(name: str) -> I64:
            arrays = [getattr(p, name) for p in parts]
            return np.concatenate(arrays) if arrays else np.zeros(0, np.int64)

        ptrs, base = [np.zeros(1, np.int64)], 0
        for part in parts:
            ptrs.append(part.artist_ptr[1:] + base)
            base += int(part.artist_ptr[-1])
        values = {f.name: joined(f.name) for f in fields(SpellingKeys) if f.name != "artist_ptr"}
        return SpellingKeys(artist_ptr=np.concatenate(ptrs), **values)

    def pack(self) -> dict[str, bytes]:
        return {f.name: getattr(self, f.name).astype("<i8").tobytes() for f in fields(self)}

    @classmethod
    def unpack(cls, raw: Mapping[str, bytes]) -> SpellingKeys:
        return cls(
            **{f.name: np.frombuffer(raw[f.name], "<i8").astype(np.int64) for f in fields(cls)}
        )


# --- resolving -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entities:
    """The canonical entities of one kind, ordered by their key's hash (``ids``), with where
    each one's key and name can be read: ``spelling[i]`` and, for artists, ``position[i]``
    among that spelling's artists. ``known`` maps every key hash seen (canonical, raw, aliased,
    merged away) to its entity."""

    kind: Kind
    ids: I64
    spelling: I64
    position: I64
    known_keys: I64  # sorted
    known_entity: I64
    read: Callable[[int], Any]  # spelling code → Spelling (decoded on demand)

    def __len__(self) -> int:
        return len(self.ids)

    def index_of_id(self, key_hash: int) -> int | None:
        at = int(np.searchsorted(self.ids, key_hash))
        return at if at < len(self.ids) and int(self.ids[at]) == key_hash else None

    def find(self, key: str) -> int | None:
        """The entity a key stands for (any key ever seen for it), or None."""
        wanted = hashed(key)
        at = int(np.searchsorted(self.known_keys, wanted))
        if at < len(self.known_keys) and int(self.known_keys[at]) == wanted:
            return int(self.known_entity[at])
        return None

    def key(self, index: int) -> str:
        s = self.read(int(self.spelling[index]))
        main = s.artist_names[0] if s.artist_names else ""
        own = int(self.ids[index])
        if self.kind is Kind.TRACK:
            if s.track_id and hashed(TRACK_URI_PREFIX + s.track_id) == own:
                return TRACK_URI_PREFIX + str(s.track_id)
            return track_name_key(main, s.track_name)
        if self.kind is Kind.ALBUM:
            if s.album_id and hashed(ALBUM_KEY_PREFIX + s.album_id) == own:
                return ALBUM_KEY_PREFIX + str(s.album_id)
            return album_name_key(main, s.album_name or "")
        position = int(self.position[index])
        ids = s.artist_ids if len(s.artist_ids) == len(s.artist_names) else ()
        if ids and hashed(ARTIST_KEY_PREFIX + ids[position]) == own:
            return ARTIST_KEY_PREFIX + str(ids[position])
        return artist_name_key(s.artist_names[position])

    def name(self, index: int) -> str:
        s = self.read(int(self.spelling[index]))
        if self.kind is Kind.TRACK:
            return str(s.track_name)
        if self.kind is Kind.ALBUM:
            return str(s.album_name or "")
        return str(s.artist_names[int(self.position[index])])


@dataclass(frozen=True, slots=True)
class Identity:
    tracks: Entities
    artists: Entities
    albums: Entities
    track_of_entry: I32  # spelling code → track
    artist_ptr: I64  # CSR: the artists of track t are artist_idx[artist_ptr[t]:artist_ptr[t+1]]
    artist_idx: I32
    album_of_track: I32  # -1: no album known
    merges: tuple[Merge, ...]  # the merges that took effect

    def entities(self, kind: Kind) -> Entities:
        return {Kind.TRACK: self.tracks, Kind.ARTIST: self.artists, Kind.ALBUM: self.albums}[kind]

    def artists_of(self, track: int) -> list[int]:
        start, stop = self.artist_ptr[track], self.artist_ptr[track + 1]
        return [int(i) for i in self.artist_idx[start:stop]]

    def tracks_of_artist(self, artist: int) -> I64:
        rows = np.repeat(np.arange(len(self.tracks), dtype=np.int64), np.diff(self.artist_ptr))
        found: I64 = rows[self.artist_idx == artist]
        return found

    def tracks_of_album(self, album: int) -> I64:
        found: I64 = np.flatnonzero(self.album_of_track == album).astype(np.int64)
        return found

    def artists_of_album(self, album: int) -> list[int]:
        """The main artist of each of the album's tracks, each once, in track order."""
        found: dict[int, None] = {}
        for track in self.tracks_of_album(album):
            if self.artist_ptr[track + 1] > self.artist_ptr[track]:
                found[int(self.artist_idx[self.artist_ptr[track]])] = None
        return list(found)


BIG = np.iinfo(np.int64).max


def _first_index(groups: I64, size: int, among: npt.NDArray[np.bool_]) -> I64:
    """For each group ``0..size-1``, the first position ``among`` selects in it (-1: none)."""
    first = np.full(size, BIG, np.int64)
    chosen = np.flatnonzero(among)
    np.minimum.at(first, groups[chosen], chosen)
    first[first == BIG] = -1
    return first


@dataclass(frozen=True, slots=True)
class _Linked:
    """One kind's occurrences (spellings, or their artists) linked through name aliases, in
    dense codes: ``keys[code]`` is a key's hash, codes follow hash order."""

    keys: I64  # every key seen, sorted
    raw: I64  # per occurrence: its key before merges (-1: none, e.g. no album)
    carried: I64  # per occurrence: the key it carries itself, its id else its name (-1: none)
    stands_for: I64  # per key: what it stands for before merges (an id itself; a name the
    # first id seen with it, else itself)

    def code_of(self, key_hash: int) -> int | None:
        at = int(np.searchsorted(self.keys, key_hash))
        return at if at < len(self.keys) and int(self.keys[at]) == key_hash else None


def _link(ids: I64, names: I64) -> _Linked:
    """One sort of every key; everything after is array indexing."""
    keys, inverse = np.unique(np.concatenate([ids, names]), return_inverse=True)
    inverse = inverse.astype(np.int64)
    id_code, name_code = inverse[: len(ids)], inverse[len(ids) :]
    has_id, has_name = ids != NO_KEY, names != NO_KEY
    stands_for = np.arange(len(keys), dtype=np.int64)
    first = _first_index(name_code, len(keys), has_id & has_name)
    named = np.flatnonzero(first >= 0)
    stands_for[named] = id_code[first[named]]
    return _Linked(
        keys=keys,
        raw=np.where(has_id, id_code, np.where(has_name, stands_for[name_code], -1)),
        carried=np.where(has_id, id_code, np.where(has_name, name_code, -1)),
        stands_for=stands_for,
    )


def _folded(merges: Iterable[Merge], kind: Kind, linked: _Linked) -> tuple[I64, list[Merge]]:
    """Where a person's merges put each key code (``remap[code]``), and the merges that took
    effect. A merge that would close a loop (A into B, then B into A) is ignored, as is one
    naming a key never seen."""
    parent: dict[int, int] = {}

    def find(code: int) -> int:
        while code in parent:
            code = parent[code]
        return code

    applied: list[Merge] = []
    for merge in merges:
        if merge.kind is not kind:
            continue
        codes = [linked.code_of(hashed(key)) for key in (merge.source, merge.target)]
        if codes[0] is None or codes[1] is None:
            continue
        source = find(int(linked.stands_for[codes[0]]))
        target = find(int(linked.stands_for[codes[1]]))
        if source != target:
            parent[source] = target
            applied.append(merge)
    remap = np.arange(len(linked.keys), dtype=np.int64)
    for code in parent:
        remap[code] = find(code)
    return remap, applied


def _entities(
    kind: Kind,
    linked: _Linked,
    remap: I64,
    *,
    spelling: I64,
    position: I64,
    read: Callable[[int], Any],
) -> tuple[Entities, I64]:
    """The entities of one kind, and each occurrence's entity (-1: none). An entity's key and
    name are read from the first occurrence that carries its key itself (so a name linked to
    an id never names the id's entity), else from its first occurrence."""
    present = linked.raw >= 0
    final = np.where(present, remap[linked.raw.clip(0)], -1)
    is_entity = np.zeros(len(linked.keys), bool)
    is_entity[final[present]] = True
    entity_of = np.cumsum(is_entity) - 1  # key code → entity (codes follow hash order)
    of_occurrence = np.where(present, entity_of[final.clip(0)], -1)
    count = int(is_entity.sum())
    carries = (linked.carried >= 0) & is_entity[linked.carried.clip(0)]
    defining = _first_index(entity_of[linked.carried.clip(0)], count, carries)
    fallback = _first_index(of_occurrence.clip(0), count, present)
    defining = np.where(defining >= 0, defining, fallback)
    stands = remap[linked.stands_for]
    known = is_entity[stands]
    entities = Entities(
        kind,
        linked.keys[is_entity],
        spelling[defining],
        position[defining],
        linked.keys[known],
        entity_of[stands[known]],
        read,
    )
    return entities, of_occurrence


def resolve(
    keys: SpellingKeys, read: Callable[[int], Any], merges: Sequence[Merge] = ()
) -> Identity:
    """The identity of every spelling (code ``i`` is row ``i`` of ``keys``), after the person's
    ``merges``; ``read(code)`` decodes a spelling when a key or name is asked for."""
    codes = np.arange(len(keys), dtype=np.int64)
    no_position = np.zeros(len(keys), np.int64)

    track_links = _link(keys.track_id, keys.track_name)
    track_remap, track_merges = _folded(merges, Kind.TRACK, track_links)
    tracks, track_of = _entities(
        Kind.TRACK, track_links, track_remap, spelling=codes, position=no_position, read=read
    )

    # The richest spelling of each track, its own spellings before merged-in ones.
    own = track_remap[track_links.raw] == track_links.raw
    order = np.lexsort((codes, -keys.richness, ~own, track_of))
    richest = order[np.flatnonzero(np.diff(track_of[order], prepend=-1) != 0)]

    artist_links = _link(keys.artist_id, keys.artist_name)
    artist_remap, artist_merges = _folded(merges, Kind.ARTIST, artist_links)
    spelling_of = np.repeat(codes, np.diff(keys.artist_ptr))
    position_of = np.arange(len(spelling_of), dtype=np.int64) - keys.artist_ptr[spelling_of]
    artists, artist_of = _entities(
        Kind.ARTIST,
        artist_links,
        artist_remap,
        spelling=spelling_of,
        position=position_of,
        read=read,
    )

    # Each track's artists: its richest spelling's, in order, each once.
    lengths = keys.artist_ptr[richest + 1] - keys.artist_ptr[richest]
    owner = np.repeat(np.arange(len(richest), dtype=np.int64), lengths)
    flat = keys.artist_ptr[richest][owner] + (
        np.arange(len(owner), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    credited = artist_of[flat]
    _, first = np.unique(owner * max(len(artists), 1) + credited, return_index=True)
    keep = np.sort(first)
    owner, credited = owner[keep], credited[keep]
    artist_ptr = np.zeros(len(richest) + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=len(richest)), out=artist_ptr[1:])

    album_links = _link(keys.album_id, keys.album_name)
    album_remap, album_merges = _folded(merges, Kind.ALBUM, album_links)
    albums, album_of = _entities(
        Kind.ALBUM, album_links, album_remap, spelling=codes, position=no_position, read=read
    )

    return Identity(
        tracks=tracks,
        artists=artists,
        albums=albums,
        track_of_entry=track_of.astype(np.int32),
        artist_ptr=artist_ptr,
        artist_idx=credited.astype(np.int32),
        album_of_track=album_of[richest].astype(np.int32),
        merges=(*track_merges, *artist_merges, *album_merges),
    )
