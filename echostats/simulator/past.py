"""What the listener played before autoplay began: a heavy listener's years, by date.

Live listening draws every session from the user's library (playlists, saved albums, favourite
artists). A real past holds far more: each year's era of new artists, played a lot while it
lasts and fading when the next one comes; the favourites, who stay (the library: the same
sessions live listening has); and a long tail of tracks heard once or twice. So a back-filled
history's distinct tracks, artists and albums grow year over year, as a real one's do.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass

from echostats.simulator.catalog import Catalog
from echostats.simulator.eras import Eras

YEAR_MS = 365 * 86_400_000
ERA_SHARE = 0.45  # sessions of an era's artists
PASSING_SHARE = 0.30  # sessions of tracks heard in passing; the rest are the library's
# How fast earlier eras fade: a session goes back one era or more with chance e^-1.5 (22%).
FADING = 1.5


@dataclass(frozen=True)
class Past:
    """A listener's past from ``start_ms`` to ``until_ms``: its year decides the era."""

    catalog: Catalog
    eras: Eras
    start_ms: int  # the first era begins here
    until_ms: int  # live listening begins here

    def session(
        self, now: int, rng: random.Random, length: int
    ) -> tuple[str | None, list[str]] | None:
        """The context and tracks of a session starting at ``now`` (None: a session of the
        library's, as live listening has)."""
        roll = rng.random()
        if roll >= ERA_SHARE + PASSING_SHARE:
            return None
        year = (now - self.start_ms) // YEAR_MS
        if roll < PASSING_SHARE:
            passing = self.eras[year].passing
            return None, [self._any_track(rng, rng.choice(passing)) for _ in range(length)]
        back = min(year, int(rng.expovariate(FADING)))
        artists = self.eras[year - back].artists
        # Zipf over the era's artists: the first gets a sixth of a 300-artist era's sessions.
        artist = rng.choices(artists, cum_weights=_zipf(len(artists)))[0]
        album = rng.choice(self.catalog.artists[artist].album_ids)
        return f"spotify:album:{album}", list(self.catalog.albums[album].track_ids)

    def _any_track(self, rng: random.Random, artist: str) -> str:
        album = rng.choice(self.catalog.artists[artist].album_ids)
        return rng.choice(self.catalog.albums[album].track_ids)


@functools.cache
def _zipf(count: int) -> list[float]:
    return list(itertools.accumulate(1 / rank for rank in range(1, count + 1)))
