"""Eras: the music each year of a listener's past brought, added to the catalog from the seed.

A real heavy listener's distinct tracks, artists and albums keep growing: every year brings an
era of new artists played a lot for a while and then fading, and a long tail of artists heard
in passing (a radio, someone else's playlist, a friend's link). The seed's own catalog is the
music the listener lives with today; ``Eras`` adds one era per year of the past, made on first
use and always in order, each from its own seeded RNG, so the same seed and the same calls give
the same eras. Era music is catalog music like any other: every track has its album, artists
and artwork, and every lookup, search and player command finds it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from echostats.simulator import names
from echostats.simulator.catalog import Catalog


@dataclass(frozen=True)
class Era:
    artists: tuple[str, ...]  # in the order the listener favours them, the first the most
    passing: tuple[str, ...]


PASSING_PER_ARTIST = 5  # artists heard in passing for each an era brings to stay a while


class Eras:
    """The catalog's eras, indexed from the first year of a listener's past; each brings
    ``artists`` artists played a lot and five times as many heard in passing."""

    def __init__(self, catalog: Catalog, seed: int, artists: int) -> None:
        self._catalog = catalog
        self._seed = seed
        self.artists = artists
        self._made: list[Era] = []
        self._names = {artist.name for artist in catalog.artists.values()}

    def __getitem__(self, index: int) -> Era:
        while len(self._made) <= index:
            self._made.append(self._make(len(self._made)))
        return self._made[index]

    def _make(self, index: int) -> Era:
        rng = names.QuickRandom(f"era:{self._seed}:{index}")
        add = self._catalog.add_artist
        # Their tracks feature each other, as a scene's do (and a lookup stays cheap).
        artists: list[str] = []
        for _ in range(self.artists):
            artists.append(add(rng, self._fresh_name, featuring=artists).id)
        passing = [
            add(rng, self._fresh_name, releases=(1, 2), featuring=artists).id
            for _ in range(self.artists * PASSING_PER_ARTIST)
        ]
        return Era(tuple(artists), tuple(passing))

    def _fresh_name(self, rng: random.Random) -> str:
        """A name no artist of the catalog has: an export names artists by name only, so two
        artists of one name would be one artist to whoever imports it."""
        while True:
            name = names.any_artist_name(rng)
            if name not in self._names:
                self._names.add(name)
                return name
