"""The deterministic catalog: artists, albums, tracks and playlists generated from the seed.

The same seed always yields the same ids, names and durations, so tests can pin exact values and
a demo run looks the same every time. Playlists live here too because ``/playlists/{id}`` is a
catalog lookup; who may read their contents is decided by the Web API layer.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from echostats.simulator import names, spoken

GENRES = (
    "indie pop",
    "dream pop",
    "synthwave",
    "folk",
    "alt rock",
    "neo soul",
    "house",
    "jazz",
    "post-punk",
    "ambient",
    "hip hop",
    "shoegaze",
    "chamber pop",
    "techno",
    "americana",
)


@dataclass
class Artist:
    id: str
    name: str
    image_key: str
    genres: list[str]
    popularity: int
    followers: int
    album_ids: list[str] = field(default_factory=list)


@dataclass
class Album:
    id: str
    name: str
    album_type: str
    artist_ids: list[str]
    release_date: str
    release_date_precision: str
    image_key: str
    upc: str
    label: str
    popularity: int
    track_ids: list[str] = field(default_factory=list)


@dataclass
class Track:
    id: str
    name: str
    album_id: str
    artist_ids: list[str]
    duration_ms: int
    track_number: int
    disc_number: int
    explicit: bool
    isrc: str
    popularity: int


@dataclass(frozen=True)
class LocalFile:
    """A file from the owner's computer added to a playlist: no Spotify id, only names."""

    artist: str
    album: str
    title: str
    duration_ms: int

    @property
    def uri(self) -> str:
        parts = (self.artist, self.album, self.title)
        return (
            "spotify:local:"
            + ":".join(quote_plus(p) for p in parts)
            + f":{self.duration_ms // 1000}"
        )


@dataclass
class PlaylistEntry:
    track_id: str  # a track or podcast episode ("" for a local file)
    added_at: datetime | None  # None (and added_by None) in very old playlists
    added_by: str | None
    local: LocalFile | None = None
    unavailable: bool = False  # gone from the catalog: Spotify sends the row with item null

    @property
    def playable(self) -> bool:
        return self.local is None and not self.unavailable


@dataclass
class Playlist:
    id: str
    name: str
    description: str
    owner_id: str
    owner_name: str
    collaborative: bool
    public: bool
    image_key: str
    followers: int
    entries: list[PlaylistEntry] = field(default_factory=list)
    collaborators: set[str] = field(default_factory=set)
    version: int = 1

    @property
    def spotify_owned(self) -> bool:
        # Editorial/algorithmic playlists are the ones Spotify withdrew from dev-mode apps.
        return self.owner_id == "spotify"

    @property
    def snapshot_id(self) -> str:
        # Real snapshot ids are opaque base64 strings that change with every edit.
        digest = hashlib.sha256(f"{self.id}:{self.version}".encode()).digest()
        return base64.b64encode(digest[:24]).decode()

    def touch(self) -> None:
        self.version += 1


TITLE_VARIANTS = {
    "album": (" Vol. 2", " (Deluxe Edition)", " Vol. 3", " (Expanded)"),
    "track": (" (Reprise)", " Part II", " (Interlude)", " (Live)", " (Acoustic)"),
}


class _Titles:
    """One artist's titles: no two of their albums, nor two of their tracks, share one.
    Exports and scrobbles name a track by its title and artist only: two tracks of one title
    would be one track to whoever reads them, and the simulator's truth would disagree with
    what an importer can know. A repeated draw becomes a variant of the title rather than a
    new draw, so the RNG draws what it always drew."""

    def __init__(self) -> None:
        self._taken: dict[str, set[str]] = {"album": set(), "track": set()}

    def draw(self, rng: random.Random, kind: str) -> str:
        title, taken = names.title(rng), self._taken[kind]
        variants = (title + variant for variant in TITLE_VARIANTS[kind])
        numbered = (f"{title} {n}" for n in itertools.count(2))
        unique = next(t for t in itertools.chain([title], variants, numbered) if t not in taken)
        taken.add(unique)
        return unique


class Catalog:
    """Seeded catalog; lookups are plain dicts keyed by Spotify id."""

    def __init__(self, seed: int, *, n_artists: int = 80) -> None:
        self.rng = names.seeded(f"catalog:{seed}")
        self.artists: dict[str, Artist] = {}
        self.albums: dict[str, Album] = {}
        self.tracks: dict[str, Track] = {}
        self.playlists: dict[str, Playlist] = {}
        for _ in range(n_artists):
            self.add_artist(self.rng, names.artist_name)
        self.spoken = spoken.generate(seed)

    # --- generation ----------------------------------------------------------------------

    def _unique_id(self, rng: random.Random, taken: Container[str]) -> str:
        while True:
            candidate = names.base62_id(rng)
            if candidate not in taken:
                return candidate

    def add_artist(
        self,
        rng: random.Random,
        name: Callable[[random.Random], str],
        *,
        releases: tuple[int, int] = (2, 4),
        featuring: Sequence[str] | None = None,
    ) -> Artist:
        """A new artist with their releases, all drawn from ``rng``. A track now and then
        features one of ``featuring`` (by default any artist the catalog holds already)."""
        artist = Artist(
            id=self._unique_id(rng, self.artists),
            name=name(rng),
            image_key=names.hex_token(rng, 24),
            genres=rng.sample(GENRES, k=rng.randint(1, 3)),
            popularity=rng.randint(5, 95),
            followers=rng.randint(100, 5_000_000),
        )
        self.artists[artist.id] = artist
        others = [a for a in self.artists if a != artist.id] if featuring is None else featuring
        titles = _Titles()
        for _ in range(rng.randint(*releases)):
            self._add_album(rng, artist, others, titles)
        return artist

    def _add_album(
        self, rng: random.Random, artist: Artist, others: Sequence[str], titles: _Titles
    ) -> None:
        kind = rng.choices(("album", "single", "compilation"), weights=(6, 3, 1))[0]
        year = rng.randint(1978, 2026)
        precise = rng.random() < 0.85
        album = Album(
            id=self._unique_id(rng, self.albums),
            name=titles.draw(rng, "album"),
            album_type=kind,
            artist_ids=[artist.id],
            release_date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            if precise
            else str(year),
            release_date_precision="day" if precise else "year",
            image_key=names.hex_token(rng, 24),
            upc=names.upc(rng),
            label=f"{rng.choice(names.NOUNS)} Records",
            popularity=rng.randint(0, 90),
        )
        self.albums[album.id] = album
        artist.album_ids.append(album.id)
        n_tracks = rng.randint(1, 2) if kind == "single" else rng.randint(6, 14)
        for number in range(1, n_tracks + 1):
            artist_ids = [artist.id]
            if others and rng.random() < 0.15:
                artist_ids.append(rng.choice(others))
            track = Track(
                id=self._unique_id(rng, self.tracks),
                name=titles.draw(rng, "track"),
                album_id=album.id,
                artist_ids=artist_ids,
                duration_ms=rng.randint(95_000, 380_000),
                track_number=number,
                disc_number=1,
                explicit=rng.random() < 0.2,
                isrc=names.isrc(rng, year),
                popularity=rng.randint(0, 100),
            )
            self.tracks[track.id] = track
            album.track_ids.append(track.id)

    def new_playlist_id(self, *, spotify_owned: bool = False) -> str:
        while True:
            # Spotify-owned editorial ids all start with 37i9dQZF1 (22 characters in total).
            candidate = (
                "37i9dQZF1" + names.base62_id(self.rng, 13)
                if spotify_owned
                else names.base62_id(self.rng)
            )
            if candidate not in self.playlists:
                return candidate

    # --- queries -------------------------------------------------------------------------

    def artist_tracks(self, artist_id: str) -> list[str]:
        """Every track of the artist's own albums, in discography order."""
        return [
            t
            for album_id in self.artists[artist_id].album_ids
            for t in self.albums[album_id].track_ids
        ]

    def duration_ms(self, item_id: str) -> int:
        """Length of a track or podcast episode (the player plays both)."""
        track = self.tracks.get(item_id)
        return track.duration_ms if track is not None else self.spoken.episodes[item_id].duration_ms

    def tracks_of_context(self, uri: str) -> list[str] | None:
        """The play order of an album/playlist/artist/show context, or None for an unknown URI."""
        parts = uri.split(":")
        if len(parts) != 3 or parts[0] != "spotify":
            return None
        kind, ident = parts[1], parts[2]
        if kind == "show" and ident in self.spoken.shows:
            return list(self.spoken.shows[ident].episode_ids)
        if kind == "album" and ident in self.albums:
            return list(self.albums[ident].track_ids)
        if kind == "playlist" and ident in self.playlists:
            return [e.track_id for e in self.playlists[ident].entries if e.playable]
        if kind == "artist" and ident in self.artists:
            return self.artist_tracks(ident)[:10]
        return None

    def search(self, kind: str, query: str) -> list[str]:
        """Ids whose name contains every word of ``query`` (field filters reduced to values)."""
        words = [w.split(":", 1)[-1].lower() for w in query.split() if w.split(":", 1)[-1]]
        pool: dict[str, str] = {}
        if kind == "track":
            pool = {t.id: t.name for t in self.tracks.values()}
        elif kind == "artist":
            pool = {a.id: a.name for a in self.artists.values()}
        elif kind == "album":
            pool = {a.id: a.name for a in self.albums.values()}
        elif kind == "playlist":
            pool = {p.id: p.name for p in self.playlists.values() if p.public}
        elif kind in ("show", "episode", "audiobook"):
            found: dict[str, Any] = getattr(self.spoken, f"{kind}s")
            pool = {i: item.name for i, item in found.items()}
        return [i for i, name in pool.items() if all(w in name.lower() for w in words)]
