"""Canonical identity by brute force, for references: written from the rules, not the code.

The rules (``echostats/domain/identity.py`` states them): a name seen together with an id links
that name to the id (artist name → artist id; main artist + album name → album id; main artist +
track name → track id); a play's track is its id, else the id its names link to, else its name
key; a track's artists and album come from its richest play (artist ids beat an album id beats
names only); then a person's merges fold one entity into another.

When a name is seen with two ids, the first learned wins: ``plays`` are taken in the order
the app learned them (the order they were stored in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from echostats.domain.plays import Play, name_key, normalise_name

TRACK, ARTIST, ALBUM = "spotify:track:", "spotify:artist:", "spotify:album:"


@dataclass(frozen=True)
class Canon:
    track: str
    artists: tuple[str, ...]
    album: str | None


@dataclass
class Identity:
    """Canonical keys of plays, learned from ``plays`` (every stored play of the user)."""

    plays: Sequence[Play]
    merges: Sequence[tuple[str, str]] = ()  # (source key, target key), any kind, in order
    _tracks: dict[str, str] = field(default_factory=dict)
    _artists: dict[str, str] = field(default_factory=dict)
    _albums: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for p in self.plays:
            main = p.artist_names[0] if p.artist_names else ""
            if p.track_id:
                self._tracks.setdefault(name_key(main, p.track_name), p.track_id)
            if len(p.artist_ids) == len(p.artist_names):
                for n, i in zip(p.artist_names, p.artist_ids, strict=True):
                    self._artists.setdefault(normalise_name(n), i)
            if p.album_id and p.album_name:
                key = f"{normalise_name(main)}|{normalise_name(p.album_name)}"
                self._albums.setdefault(key, p.album_id)

    def fold(self, key: str) -> str:
        """Where a person's merges, applied in order, put ``key``."""
        parent: dict[str, str] = {}

        def find(k: str) -> str:
            while k in parent:
                k = parent[k]
            return k

        for source, target in self.merges:
            a, b = find(source), find(target)
            if a != b:
                parent[a] = b
        return find(key)

    def raw_track(self, p: Play) -> str:
        if p.track_id:
            return TRACK + p.track_id
        linked = self._tracks.get(p.track_key)
        return TRACK + linked if linked else p.track_key

    def artist(self, name: str, artist_id: str | None) -> str:
        if artist_id:
            return self.fold(ARTIST + artist_id)
        linked = self._artists.get(normalise_name(name))
        return self.fold(ARTIST + linked if linked else "name:" + normalise_name(name))

    def album(self, p: Play) -> str | None:
        if p.album_id:
            return self.fold(ALBUM + p.album_id)
        if not p.album_name:
            return None
        main = normalise_name(p.artist_names[0] if p.artist_names else "")
        key = f"{main}|{normalise_name(p.album_name)}"
        linked = self._albums.get(key)
        return self.fold(ALBUM + linked if linked else f"name:{key}")

    def _richest(self, track: str) -> Play:
        def richness(p: Play) -> int:
            ids = len(p.artist_ids) == len(p.artist_names) and bool(p.artist_ids)
            return 2 * ids + bool(p.album_id)

        mine = [p for p in self.plays if self.raw_track(p) == track]
        return max(mine, key=richness)

    def of(self, p: Play) -> Canon:
        raw = self.raw_track(p)
        track = self.fold(raw)
        # A merged track takes its credits from the track it was merged into, when it has plays.
        credited = track if any(self.raw_track(q) == track for q in self.plays) else raw
        rich = self._richest(credited)
        ids: Iterable[str | None] = (
            rich.artist_ids
            if len(rich.artist_ids) == len(rich.artist_names)
            else [None] * len(rich.artist_names)
        )
        artists = tuple(
            dict.fromkeys(self.artist(n, i) for n, i in zip(rich.artist_names, ids, strict=True))
        )
        return Canon(track, artists, self.album(rich))
