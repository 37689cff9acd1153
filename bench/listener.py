"""A heavy listener's ten years, shaped like a real history: what the benchmarks play.

Real histories are not a fixed catalogue drawn at random. Every year brings an *era* of new
artists who are played a lot for a while and then fade; a few *favourites* stay for years; and
a long tail of one-off tracks (radio, playlists, a friend's recommendation) is heard once or
twice and never again. So distinct tracks, artists and albums keep growing with the years —
tens of thousands of tracks for a million plays — and that growth is what the per-key costs of
every read depend on.

``Listener(seed).plays(count, start, span)`` yields ``Listen`` tuples in time order;
``cardinality`` says how many distinct tracks, artists and albums they hold.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

_ID_CHARS = string.ascii_letters + string.digits
TRACKS_PER_ALBUM = 11
FAVOURITES = 25  # artists that stay for years
ERA_ARTISTS = 160  # new artists a year that get real attention
TAIL_ARTISTS = 1_000  # artists a year heard in passing (two albums each)
TAIL_SHARE = 0.10  # plays of tracks heard in passing
FAVOURITE_SHARE = 0.25
WORDS = [
    "love",
    "night",
    "light",
    "heart",
    "fire",
    "dream",
    "blue",
    "gold",
    "summer",
    "rain",
    "city",
    "river",
    "shadow",
    "ghost",
    "wild",
    "lost",
    "home",
    "stars",
    "echo",
    "paper",
    "glass",
    "silver",
    "electric",
    "midnight",
    "ocean",
    "velvet",
    "neon",
    "honey",
    "storm",
    "garden",
    "mirror",
    "winter",
    "golden",
    "falling",
    "broken",
    "lonely",
    "sweet",
    "dark",
    "bright",
]


@dataclass(frozen=True, slots=True)
class Track:
    id: str
    name: str
    artist_id: str
    artist: str
    album_id: str
    album: str


@dataclass(frozen=True, slots=True)
class Listen:
    track: Track
    ended: datetime
    ms: int


class Listener:
    def __init__(self, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self._serial = 0

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def _id(self) -> str:
        """A 22-character base62 id, as Spotify's look."""
        n, out = self._next() * 7_919 + self._rng.getrandbits(40), []
        for _ in range(22):
            n, digit = divmod(n, 62)
            out.append(_ID_CHARS[digit])
        return "".join(out)

    def _title(self, words: int) -> str:
        picked = " ".join(self._rng.choice(WORDS) for _ in range(words))
        return f"{picked.title()} {self._next()}"

    def _artist(self, albums: int) -> list[Track]:
        """A new artist with a few albums of ``TRACKS_PER_ALBUM`` tracks."""
        artist_id, artist = self._id(), self._title(2)
        tracks: list[Track] = []
        for _ in range(albums):
            album_id, album = self._id(), self._title(2)
            tracks.extend(
                Track(self._id(), self._title(3), artist_id, artist, album_id, album)
                for _ in range(TRACKS_PER_ALBUM)
            )
        return tracks

    def _zipf(self, pool: list[Track], skew: float = 1.1) -> Track:
        index = min(int(self._rng.paretovariate(skew)) - 1, len(pool) - 1)
        return pool[index]

    def _year(self) -> tuple[list[Track], list[Track]]:
        """A year's era (played a lot, Zipf) and its passing artists (heard once or twice)."""
        rng = self._rng
        era = [t for _ in range(ERA_ARTISTS) for t in self._artist(rng.randint(1, 3))]
        rng.shuffle(era)
        tail = [t for _ in range(TAIL_ARTISTS) for t in self._artist(2)]
        return era, tail

    def plays(self, count: int, start: datetime, span: timedelta) -> Iterator[Listen]:
        rng = self._rng
        years = max(1, round(span.days / 365))
        favourites = [t for _ in range(FAVOURITES) for t in self._artist(3)]
        rng.shuffle(favourites)
        eras: list[tuple[list[Track], list[Track]]] = []
        step = span / max(count, 1)
        for index in range(count):
            year = min(int(index * years / count), years - 1)
            while len(eras) <= year:
                eras.append(self._year())
            roll = rng.random()
            if roll < TAIL_SHARE:
                track = rng.choice(eras[year][1])
            elif roll < TAIL_SHARE + FAVOURITE_SHARE:
                track = self._zipf(favourites)
            else:
                # Mostly this year's era, sometimes one of the last few (fading) eras.
                back = min(year, int(rng.expovariate(1.5)))
                track = self._zipf(eras[year - back][0], skew=0.9)
            ms = rng.choice((200_000, 180_000, 240_000, 215_000, 12_000, 4_000))
            ended = start + step * index + timedelta(seconds=rng.randint(0, 59))
            yield Listen(track, ended, ms)


def cardinality(listens: list[Listen]) -> dict[str, int]:
    return {
        "plays": len(listens),
        "tracks": len({listen.track.id for listen in listens}),
        "artists": len({listen.track.artist_id for listen in listens}),
        "albums": len({listen.track.album_id for listen in listens}),
    }


if __name__ == "__main__":
    import time

    began = time.perf_counter()
    listens = list(Listener().plays(1_000_000, datetime(2015, 1, 1), timedelta(days=3652)))
    print(cardinality(listens), f"{time.perf_counter() - began:.1f} s")
