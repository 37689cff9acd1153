"""The spoken-word catalog: podcast shows with episodes, audiobooks with chapters.

A music-stats service meets them anyway: an episode plays in the player (``item.type ==
"episode"``), sits in a playlist or in the library, and development-mode apps still get them by
id (SPOTIFY.md 1.4). Generated from the seed with an RNG of their own, so adding them left the
music catalog's ids as they were.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from echostats.simulator import names

SHOWS = 6
AUDIOBOOKS = 3


@dataclass
class Episode:
    id: str
    name: str
    show_id: str
    duration_ms: int
    release_date: str
    explicit: bool


@dataclass
class Show:
    id: str
    name: str
    publisher: str
    image_key: str
    explicit: bool
    episode_ids: list[str] = field(default_factory=list)


@dataclass
class Chapter:
    id: str
    name: str
    audiobook_id: str
    number: int
    duration_ms: int


@dataclass
class Audiobook:
    id: str
    name: str
    author: str
    narrator: str
    publisher: str
    image_key: str
    release_date: str
    chapter_ids: list[str] = field(default_factory=list)


@dataclass
class Spoken:
    shows: dict[str, Show] = field(default_factory=dict)
    episodes: dict[str, Episode] = field(default_factory=dict)
    audiobooks: dict[str, Audiobook] = field(default_factory=dict)
    chapters: dict[str, Chapter] = field(default_factory=dict)


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def generate(seed: int) -> Spoken:
    rng = names.seeded(f"spoken:{seed}")
    spoken = Spoken()
    for _ in range(SHOWS):
        show = Show(
            id=names.base62_id(rng),
            name=f"The {names.title(rng)} Podcast",
            publisher=names.artist_name(rng),
            image_key=names.hex_token(rng, 24),
            explicit=rng.random() < 0.2,
        )
        for number in range(1, rng.randint(4, 9)):
            episode = Episode(
                id=names.base62_id(rng),
                name=f"#{number}: {names.title(rng)}",
                show_id=show.id,
                duration_ms=rng.randint(600_000, 4_800_000),
                release_date=_date(rng),
                explicit=show.explicit,
            )
            spoken.episodes[episode.id] = episode
            show.episode_ids.append(episode.id)
        spoken.shows[show.id] = show
    for _ in range(AUDIOBOOKS):
        book = Audiobook(
            id=names.base62_id(rng),
            name=names.title(rng),
            author=names.artist_name(rng),
            narrator=names.artist_name(rng),
            publisher=f"{rng.choice(names.NOUNS)} Audio",
            image_key=names.hex_token(rng, 24),
            release_date=_date(rng),
        )
        for number in range(1, rng.randint(5, 12)):
            chapter = Chapter(
                id=names.base62_id(rng),
                name=f"Chapter {number}",
                audiobook_id=book.id,
                number=number,
                duration_ms=rng.randint(300_000, 2_400_000),
            )
            spoken.chapters[chapter.id] = chapter
            book.chapter_ids.append(chapter.id)
        spoken.audiobooks[book.id] = book
    return spoken
