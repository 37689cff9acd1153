"""Word lists and id helpers for a plausible, deterministic catalog.

Names only need to look like music (so the dashboard reads naturally in demo mode) and be
reproducible from the seed; none of these are real artists or releases.
"""

from __future__ import annotations

import random
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

FIRST_NAMES = (
    "Ada",
    "Bruno",
    "Clara",
    "Dario",
    "Elin",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaia",
    "Lior",
    "Maren",
    "Nico",
    "Odile",
    "Pavel",
    "Quinn",
    "Rosa",
    "Soren",
    "Tove",
    "Umar",
    "Vera",
    "Wren",
    "Yara",
    "Zeno",
    "Mila",
    "Otto",
    "Lena",
    "Ravi",
    "Noor",
)
LAST_NAMES = (
    "Halden",
    "Moreau",
    "Okafor",
    "Lindqvist",
    "Serrano",
    "Vasquez",
    "Nakamura",
    "Brandt",
    "Castell",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Gallo",
    "Holm",
    "Ivers",
    "Janssen",
    "Kowal",
    "Laine",
    "Mbeki",
    "Novak",
    "Oduya",
    "Petrov",
    "Rahman",
    "Sato",
    "Thorne",
    "Varga",
    "Weiss",
)
ADJECTIVES = (
    "Silver",
    "Velvet",
    "Hollow",
    "Golden",
    "Quiet",
    "Electric",
    "Paper",
    "Neon",
    "Wild",
    "Lunar",
    "Crimson",
    "Static",
    "Glass",
    "Amber",
    "Midnight",
    "Northern",
    "Wandering",
    "Faded",
    "Bright",
    "Distant",
    "Restless",
    "Tidal",
    "Borrowed",
    "Secret",
    "Burning",
    "Cold",
    "Gentle",
    "Broken",
)
NOUNS = (
    "Harbor",
    "Orchard",
    "Comet",
    "Lanterns",
    "Rivers",
    "Machines",
    "Foxes",
    "Satellites",
    "Gardens",
    "Ghosts",
    "Parade",
    "Signals",
    "Tides",
    "Mirrors",
    "Wolves",
    "Horizon",
    "Pilots",
    "Echoes",
    "Islands",
    "Embers",
    "Dunes",
    "Cathedral",
    "Arcade",
    "Meadow",
    "Avenue",
    "Sparrows",
)
TITLE_WORDS = (
    "Love",
    "Night",
    "Summer",
    "Light",
    "Heart",
    "Road",
    "Fire",
    "Rain",
    "Dream",
    "City",
    "Sky",
    "Home",
    "Stars",
    "Ocean",
    "Shadow",
    "Morning",
    "Gold",
    "Water",
    "Window",
    "Train",
    "Letter",
    "Dance",
    "Storm",
    "Season",
    "Moon",
    "Room",
    "Voices",
    "Color",
    "Silence",
    "Wire",
)
TITLE_PATTERNS = (
    "{a} {n}",
    "{w}",
    "The {w} {n}",
    "{w} of {w2}",
    "{a} {w}",
    "Into the {w}",
    "{w} ({a} Mix)",
    "No {w}",
    "{w} Again",
    "Last {w}",
    "{a}",
    "All the {n}",
    "{w} & {w2}",
    "Under {a} {w}",
)
DEVICE_NAMES = (
    ("Living Room", "Speaker"),
    ("Kitchen", "Speaker"),
    ("Phone", "Smartphone"),
    ("Laptop", "Computer"),
    ("Web Player (Chrome)", "Computer"),
    ("Car", "Automobile"),
    ("TV", "TV"),
    ("Receiver", "AVR"),
)


def seeded(label: str) -> random.Random:
    """A reproducible RNG for one purpose: the simulator is deterministic by design, not secure."""
    return random.Random(label)  # noqa: S311 - determinism is the point; nothing here is secret


def base62_id(rng: random.Random, length: int = 22) -> str:
    """A Spotify-style base62 id (22 characters)."""
    return "".join(rng.choice(BASE62) for _ in range(length))


def artist_name(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    if style == 1:
        return f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    if style == 2:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    return f"{rng.choice(FIRST_NAMES)} & the {rng.choice(NOUNS)}"


def title(rng: random.Random) -> str:
    pattern = rng.choice(TITLE_PATTERNS)
    return pattern.format(
        a=rng.choice(ADJECTIVES),
        n=rng.choice(NOUNS),
        w=rng.choice(TITLE_WORDS),
        w2=rng.choice(TITLE_WORDS),
    )


def isrc(rng: random.Random, year: int) -> str:
    """ISRC: country, registrant, two-digit year, five-digit designation."""
    country = rng.choice(("US", "GB", "SE", "DE", "FR", "NL", "JP"))
    registrant = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(3))
    return f"{country}{registrant}{year % 100:02d}{rng.randrange(100000):05d}"


def upc(rng: random.Random) -> str:
    return "".join(rng.choice(string.digits) for _ in range(12))


def hex_token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))
