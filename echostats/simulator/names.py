"""Word lists and id helpers for a plausible, deterministic catalog.

Names only need to look like music (so the dashboard reads naturally in demo mode) and be
reproducible from the seed; none of these are real artists or releases.
"""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING, NamedTuple, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")

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
# A wider vocabulary for the thousands of artists a listener's eras bring (``any_artist_name``);
# ``artist_name`` keeps the short lists, so the seed's own artists keep their names.
MORE_FIRST_NAMES = (
    "Alba",
    "Anouk",
    "Bea",
    "Caspian",
    "Dagny",
    "Emil",
    "Freya",
    "Gideon",
    "Hana",
    "Ilse",
    "Joaquin",
    "Kenji",
    "Liv",
    "Malik",
    "Nadia",
    "Oskar",
    "Priya",
    "Rafael",
    "Saoirse",
    "Tariq",
    "Ulla",
    "Viggo",
    "Wanda",
    "Xavi",
    "Yusuf",
    "Zora",
    "Amara",
    "Benedikt",
    "Chiara",
    "Desmond",
    "Esme",
    "Farid",
    "Gwen",
    "Henrik",
    "Iris",
    "Jun",
    "Katja",
    "Leon",
    "Mirela",
    "Nils",
)
MORE_LAST_NAMES = (
    "Achterberg",
    "Bianchi",
    "Carvalho",
    "Delacroix",
    "Engström",
    "Falk",
    "Gunnarsson",
    "Hayashi",
    "Ibsen",
    "Jovanović",
    "Kaur",
    "Lund",
    "Marchetti",
    "Nilsen",
    "Osei",
    "Park",
    "Quint",
    "Rossi",
    "Szabo",
    "Takeda",
    "Umeh",
    "Valdez",
    "Wójcik",
    "Xu",
    "Yilmaz",
    "Zeller",
    "Abara",
    "Berg",
    "Costa",
    "Dahl",
    "Esposito",
    "Fischer",
    "Grieve",
    "Haas",
    "Ionescu",
    "Jensen",
    "Kim",
    "Lopez",
    "Moretti",
    "Nyberg",
)
MORE_ADJECTIVES = (
    "Azure",
    "Bitter",
    "Copper",
    "Drowsy",
    "Emerald",
    "Frozen",
    "Gilded",
    "Hazy",
    "Iron",
    "Jaded",
    "Kind",
    "Lucid",
    "Marble",
    "Nervous",
    "Olive",
    "Pale",
    "Quick",
    "Rusty",
    "Scarlet",
    "Tender",
    "Violet",
    "Weary",
    "Young",
    "Zealous",
    "Analog",
    "Cosmic",
    "Feral",
    "Hidden",
    "Savage",
    "Sleepy",
)
MORE_NOUNS = (
    "Antlers",
    "Beacons",
    "Canyons",
    "Daggers",
    "Engines",
    "Feathers",
    "Glaciers",
    "Hounds",
    "Icons",
    "Jackals",
    "Kites",
    "Lions",
    "Monarchs",
    "Needles",
    "Owls",
    "Prisms",
    "Ravens",
    "Saints",
    "Thieves",
    "Vessels",
    "Waves",
    "Anthems",
    "Bells",
    "Crowns",
    "Drums",
    "Fountains",
    "Magnets",
    "Pylons",
    "Rockets",
    "Tigers",
)
ENSEMBLES = ("Trio", "Quartet", "Band", "Ensemble", "Collective", "Orchestra", "Sound System")
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


class QuickRandom(random.Random):
    """``choice`` from one float draw instead of rejection sampling: several times faster and
    just as reproducible. For the hundreds of thousands of id characters a listener's eras
    draw; the seed's own catalog keeps ``Random`` (tests pin what it draws)."""

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]


def base62_id(rng: random.Random, length: int = 22) -> str:
    """A Spotify-style base62 id (22 characters)."""
    return "".join(rng.choice(BASE62) for _ in range(length))


class Vocabulary(NamedTuple):
    firsts: tuple[str, ...]
    lasts: tuple[str, ...]
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]


SHORT = Vocabulary(FIRST_NAMES, LAST_NAMES, ADJECTIVES, NOUNS)
WIDE = Vocabulary(
    FIRST_NAMES + MORE_FIRST_NAMES,
    LAST_NAMES + MORE_LAST_NAMES,
    ADJECTIVES + MORE_ADJECTIVES,
    NOUNS + MORE_NOUNS,
)


def artist_name(rng: random.Random) -> str:
    return _artist_name(rng, rng.randrange(4), SHORT)


def any_artist_name(rng: random.Random) -> str:
    """An artist name from the wider vocabulary in more styles: ~45,000 possible names, so
    the thousands of artists of a listener's eras can each have their own."""
    return _artist_name(rng, rng.randrange(6), WIDE)


def _artist_name(rng: random.Random, style: int, words: Vocabulary) -> str:
    if style == 0:
        return f"{rng.choice(words.firsts)} {rng.choice(words.lasts)}"
    if style == 1:
        return f"The {rng.choice(words.adjectives)} {rng.choice(words.nouns)}"
    if style == 2:
        return f"{rng.choice(words.adjectives)} {rng.choice(words.nouns)}"
    if style == 3:
        return f"{rng.choice(words.firsts)} & the {rng.choice(words.nouns)}"
    if style == 4:
        return f"{rng.choice(words.firsts)} {rng.choice(words.lasts)} {rng.choice(ENSEMBLES)}"
    return f"{rng.choice(words.lasts)} & {rng.choice(words.lasts)}"


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
