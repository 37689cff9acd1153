"""Recommendations from a person's own listening history: pure, deterministic, explained.

Spotify withdrew ``/recommendations`` from development-mode apps, so suggestions come from what
the person already loves. Every suggestion carries a ``reason``:

- ``forgotten_favourite``: played many times, but not for a long while (for artist seeds:
  the most played track of an artist who used to be a favourite and went quiet);
- ``on_repeat``: heavy rotation in the last weeks (for artist seeds: other tracks of an artist
  on repeat that were not played lately);
- ``co_listened``: played in the same listening sessions (plays less than 30 minutes apart)
  as the seeds, the person's current top tracks or artists;
- ``genre``: tracks of artists in the person's top genres (only where genres are known:
  Spotify no longer sends them to development-mode apps);
- ``spotify``: Spotify's own answer, merged in where its endpoint still answers.

Nothing is random: equal scores are ordered by play count and then by key, so a fixed history
always gives the same list. Tracks played in the last ``recent_days`` are never suggested unless
``include_recent`` is set (suggesting what someone just heard is no suggestion).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

SeedType = Literal["artists", "tracks", "genres", "mixed"]
Reason = Literal["forgotten_favourite", "on_repeat", "co_listened", "genre", "spotify"]
SEED_TYPES: tuple[SeedType, ...] = ("artists", "tracks", "genres", "mixed")

SESSION_GAP = timedelta(minutes=30)
SEED_WINDOW = timedelta(days=30)  # "current" favourites: the seeds and the on-repeat window
SEED_COUNT = 5  # Spotify's own seed limit, kept as a sensible size
FORGOTTEN_MIN_PLAYS = 5
FORGOTTEN_ARTIST_MIN_PLAYS = 10
FORGOTTEN_AFTER = timedelta(days=60)
ON_REPEAT_MIN_PLAYS = 3
ON_REPEAT_ARTIST_MIN_PLAYS = 5
# Round-robin order of the reason lists: what the seeds suggest comes first.
REASON_ORDER: tuple[Reason, ...] = (
    "co_listened",
    "forgotten_favourite",
    "on_repeat",
    "genre",
    "spotify",
)


@dataclass(frozen=True, slots=True)
class Listen:
    """One counted play, reduced to what recommending needs."""

    track_key: str
    track_id: str | None
    track_name: str
    artist_keys: tuple[str, ...]
    artist_names: tuple[str, ...]
    album_name: str | None
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class Options:
    limit: int = 20
    seed_type: SeedType = "mixed"
    include_recent: bool = False
    recent_days: int = 7


@dataclass(frozen=True, slots=True)
class Seed:
    kind: Literal["artist", "track", "genre"]
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A track that could be suggested (from history, or from Spotify's answer)."""

    track_key: str
    track_id: str | None
    track_name: str
    artist_names: tuple[str, ...]
    album_name: str | None


@dataclass(frozen=True, slots=True)
class Recommendation:
    track: Candidate
    reason: Reason
    detail: str
    score: float
    play_count: int
    last_played_at: datetime | None
    seeds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Result:
    items: tuple[Recommendation, ...]
    seeds: tuple[Seed, ...]
    notes: tuple[str, ...] = ()


@dataclass
class _Stats:
    """Play counts and recency of one track or artist."""

    name: str
    count: int = 0
    recent: int = 0  # plays within SEED_WINDOW
    last: datetime | None = None
    tracks: Counter[str] = field(default_factory=Counter)  # artists: plays per track key

    def add(self, ended_at: datetime, recent: bool) -> None:
        self.count += 1
        self.recent += int(recent)
        if self.last is None or ended_at > self.last:
            self.last = ended_at


@dataclass
class _History:
    now: datetime
    tracks: dict[str, _Stats]
    artists: dict[str, _Stats]
    meta: dict[str, Candidate]  # newest spelling of each track
    sessions: list[list[Listen]]


def _history(listens: Sequence[Listen], now: datetime) -> _History:
    ordered = sorted(listens, key=lambda p: (p.started_at, p.ended_at, p.track_key))
    tracks: dict[str, _Stats] = {}
    artists: dict[str, _Stats] = {}
    meta: dict[str, Candidate] = {}
    sessions: list[list[Listen]] = []
    previous_end: datetime | None = None
    for play in ordered:
        recent = now - play.ended_at <= SEED_WINDOW
        tracks.setdefault(play.track_key, _Stats(play.track_name)).add(play.ended_at, recent)
        meta[play.track_key] = Candidate(
            play.track_key, play.track_id, play.track_name, play.artist_names, play.album_name
        )
        for index, key in enumerate(play.artist_keys):
            name = play.artist_names[index] if index < len(play.artist_names) else key
            stats = artists.setdefault(key, _Stats(name))
            stats.add(play.ended_at, recent)
            stats.tracks[play.track_key] += 1
        if previous_end is None or play.started_at - previous_end >= SESSION_GAP:
            sessions.append([])
        sessions[-1].append(play)
        previous_end = play.ended_at if previous_end is None else max(previous_end, play.ended_at)
    return _History(now, tracks, artists, meta, sessions)


def _top(stats: Mapping[str, _Stats], n: int) -> list[str]:
    """Current favourites: most plays in the seed window, else most plays at all."""
    recent = [k for k, s in stats.items() if s.recent]
    pool = recent or list(stats)
    if recent:
        return sorted(pool, key=lambda k: (-stats[k].recent, -stats[k].count, k))[:n]
    return sorted(pool, key=lambda k: (-stats[k].count, k))[:n]


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when is not None else "never"


class _Builder:
    def __init__(self, history: _History, options: Options) -> None:
        self.h = history
        self.options = options
        self.cutoff = history.now - timedelta(days=options.recent_days)

    def allowed(self, track_key: str) -> bool:
        if self.options.include_recent:
            return True
        last = self.h.tracks[track_key].last if track_key in self.h.tracks else None
        return last is None or last < self.cutoff

    def make(
        self, key: str, reason: Reason, detail: str, score: float, seeds: Iterable[str] = ()
    ) -> Recommendation:
        stats = self.h.tracks[key]
        return Recommendation(
            self.h.meta[key], reason, detail, score, stats.count, stats.last, tuple(seeds)
        )

    def ranked(self, scores: Mapping[str, float]) -> list[str]:
        keys = [k for k, v in scores.items() if v > 0 and self.allowed(k)]
        return sorted(keys, key=lambda k: (-scores[k], -self.h.tracks[k].count, k))

    # --- reasons -------------------------------------------------------------------------------

    def forgotten_tracks(self) -> list[Recommendation]:
        old = self.h.now - FORGOTTEN_AFTER
        scores = {
            k: float(s.count)
            for k, s in self.h.tracks.items()
            if s.count >= FORGOTTEN_MIN_PLAYS and s.last is not None and s.last < old
        }
        return [
            self.make(
                k,
                "forgotten_favourite",
                f"You played this {self.h.tracks[k].count} times but not since "
                f"{_day(self.h.tracks[k].last)}.",
                scores[k],
            )
            for k in self.ranked(scores)
        ]

    def forgotten_artists(self) -> list[Recommendation]:
        old = self.h.now - FORGOTTEN_AFTER
        found = []
        artists = sorted(
            (
                (k, s)
                for k, s in self.h.artists.items()
                if s.count >= FORGOTTEN_ARTIST_MIN_PLAYS and s.last is not None and s.last < old
            ),
            key=lambda item: (-item[1].count, item[0]),
        )
        for _key, artist in artists:
            best = self.ranked({t: float(n) for t, n in artist.tracks.items()})
            if best:
                detail = (
                    f"{artist.name} was a favourite ({artist.count} plays) but you have not "
                    f"played them since {_day(artist.last)}."
                )
                found.append(
                    self.make(best[0], "forgotten_favourite", detail, artist.count, [artist.name])
                )
        return found

    def on_repeat_tracks(self) -> list[Recommendation]:
        scores = {
            k: float(s.recent) for k, s in self.h.tracks.items() if s.recent >= ON_REPEAT_MIN_PLAYS
        }
        return [
            self.make(
                k,
                "on_repeat",
                f"On repeat: {self.h.tracks[k].recent} plays in the last 30 days.",
                scores[k],
            )
            for k in self.ranked(scores)
        ]

    def on_repeat_artists(self) -> list[Recommendation]:
        found = []
        artists = sorted(
            ((k, s) for k, s in self.h.artists.items() if s.recent >= ON_REPEAT_ARTIST_MIN_PLAYS),
            key=lambda item: (-item[1].recent, -item[1].count, item[0]),
        )
        for _key, artist in artists:
            for track in self.ranked({t: float(n) for t, n in artist.tracks.items()}):
                detail = (
                    f"{artist.name} is on repeat ({artist.recent} plays in the last 30 days); "
                    "you have not played this one lately."
                )
                found.append(self.make(track, "on_repeat", detail, artist.recent, [artist.name]))
        return found

    def co_listened(
        self, seed_tracks: Sequence[str], seed_artists: Sequence[str]
    ) -> list[Recommendation]:
        """Tracks sharing sessions with a seed; each session counts once per track."""
        names = {k: self.h.tracks[k].name for k in seed_tracks}
        names |= {k: self.h.artists[k].name for k in seed_artists}
        seed_track_set, seed_artist_set = set(seed_tracks), set(seed_artists)
        scores: Counter[str] = Counter()
        by_seed: dict[str, Counter[str]] = defaultdict(Counter)
        for session in self.h.sessions:
            present = {p.track_key for p in session} & seed_track_set
            present |= {a for p in session for a in p.artist_keys} & seed_artist_set
            if not present:
                continue
            others = {
                p.track_key
                for p in session
                if p.track_key not in seed_track_set
                and not seed_artist_set.intersection(p.artist_keys)
            }
            for track in others:
                scores[track] += 1
                for seed in present:
                    by_seed[track][seed] += 1
        found = []
        for track in self.ranked({k: float(v) for k, v in scores.items()}):
            seed = min(by_seed[track], key=lambda s: (-by_seed[track][s], s))
            sessions = scores[track]
            detail = (
                f"Played in {sessions} of your listening session{'s' if sessions > 1 else ''} "
                f"with {names[seed]}."
            )
            found.append(self.make(track, "co_listened", detail, sessions, [names[seed]]))
        return found

    def genre(
        self, seeds: Sequence[str], genres_by_artist: Mapping[str, Sequence[str]]
    ) -> list[Recommendation]:
        wanted = set(seeds)
        scores: dict[str, float] = {}
        genre_of: dict[str, str] = {}
        for key, artist in self.h.artists.items():
            shared = sorted(wanted.intersection(genres_by_artist.get(key, ())))
            if not shared:
                continue
            for track, plays in artist.tracks.items():
                if plays > scores.get(track, 0):
                    scores[track] = float(plays)
                    genre_of[track] = shared[0]
        return [
            self.make(
                k,
                "genre",
                f"From {genre_of[k]}, one of your top genres ({self.h.tracks[k].count} plays).",
                scores[k],
                [genre_of[k]],
            )
            for k in self.ranked(scores)
        ]

    def external(self, candidates: Sequence[Candidate]) -> list[Recommendation]:
        found = []
        for candidate in candidates:
            if not self.allowed(candidate.track_key):
                continue
            stats = self.h.tracks.get(candidate.track_key)
            found.append(
                Recommendation(
                    candidate,
                    "spotify",
                    "Suggested by Spotify for your current favourites.",
                    0.0,
                    stats.count if stats else 0,
                    stats.last if stats else None,
                )
            )
        return found


def top_genres(
    listens: Sequence[Listen], genres_by_artist: Mapping[str, Sequence[str]], n: int = 3
) -> list[str]:
    """The person's most played genres (plays weighted by artist); empty when none are known."""
    weights: Counter[str] = Counter()
    for play in listens:
        for key in play.artist_keys:
            for genre in genres_by_artist.get(key, ()):
                weights[genre] += 1
    return sorted(weights, key=lambda g: (-weights[g], g))[:n]


def seeds_for(
    listens: Sequence[Listen],
    now: datetime,
    seed_type: SeedType,
    genres_by_artist: Mapping[str, Sequence[str]] | None = None,
) -> list[Seed]:
    """The seeds a request starts from: the person's current favourites of that kind."""
    h = _history(listens, now)
    return _seeds(h, listens, seed_type, genres_by_artist or {})


def _seeds(
    h: _History,
    listens: Sequence[Listen],
    seed_type: SeedType,
    genres_by_artist: Mapping[str, Sequence[str]],
) -> list[Seed]:
    n_artists, n_tracks = {
        "artists": (SEED_COUNT, 0),
        "tracks": (0, SEED_COUNT),
        "mixed": (3, 2),
        "genres": (0, 0),
    }[seed_type]
    seeds = [Seed("artist", k, h.artists[k].name) for k in _top(h.artists, n_artists)]
    seeds += [Seed("track", k, h.tracks[k].name) for k in _top(h.tracks, n_tracks)]
    if seed_type == "genres":
        seeds += [Seed("genre", g, g) for g in top_genres(listens, genres_by_artist)]
    return seeds


def _interleave(lists: Sequence[Sequence[Recommendation]], limit: int) -> list[Recommendation]:
    chosen: list[Recommendation] = []
    seen: set[str] = set()
    cursors = [0] * len(lists)
    while len(chosen) < limit:
        moved = False
        for index, items in enumerate(lists):
            while cursors[index] < len(items):
                item = items[cursors[index]]
                cursors[index] += 1
                if item.track.track_key not in seen:
                    seen.add(item.track.track_key)
                    chosen.append(item)
                    moved = True
                    break
            if len(chosen) >= limit:
                break
        if not moved:
            break
    return chosen


def recommend(
    listens: Sequence[Listen],
    now: datetime,
    options: Options,
    *,
    genres_by_artist: Mapping[str, Sequence[str]] | None = None,
    spotify: Sequence[Candidate] = (),
) -> Result:
    """Up to ``options.limit`` suggestions from ``listens`` (any order), best first."""
    genres_by_artist = genres_by_artist or {}
    if not listens and not spotify:
        return Result((), (), ("There is no listening history to recommend from yet.",))
    h = _history(listens, now)
    b = _Builder(h, options)
    seeds = _seeds(h, listens, options.seed_type, genres_by_artist)
    seed_tracks = [s.key for s in seeds if s.kind == "track"]
    seed_artists = [s.key for s in seeds if s.kind == "artist"]
    lists: dict[Reason, list[Recommendation]] = {
        "co_listened": b.co_listened(seed_tracks, seed_artists)
        if seed_tracks or seed_artists
        else [],
        "spotify": b.external(spotify),
    }
    notes: list[str] = []
    kind = options.seed_type
    if kind in ("tracks", "mixed"):
        lists["forgotten_favourite"] = b.forgotten_tracks()
        lists["on_repeat"] = b.on_repeat_tracks()
    if kind in ("artists", "mixed"):
        lists["forgotten_favourite"] = _merge(
            lists.get("forgotten_favourite", []), b.forgotten_artists()
        )
        lists["on_repeat"] = _merge(lists.get("on_repeat", []), b.on_repeat_artists())
    if kind == "genres":
        genre_seeds = [s.key for s in seeds if s.kind == "genre"]
        if genre_seeds:
            lists["genre"] = b.genre(genre_seeds, genres_by_artist)
        else:
            notes.append(
                "Genre seeds need genres, and Spotify no longer sends artist genres to this app; "
                "none are known for the artists you played."
            )
    items = _interleave([lists.get(reason, []) for reason in REASON_ORDER], options.limit)
    if not items and not notes:
        notes.append(
            "Nothing to suggest: everything that qualifies was played in the last "
            f"{options.recent_days} days (set include_recent=true to see it)."
        )
    return Result(tuple(items), tuple(seeds), tuple(notes))


def _merge(
    first: Sequence[Recommendation], second: Sequence[Recommendation]
) -> list[Recommendation]:
    """Two ranked lists of one reason as one, alternating, without repeating a track."""
    return _interleave([first, second], len(first) + len(second))
