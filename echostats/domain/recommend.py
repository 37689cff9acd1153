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

The history is columnar (``History``): a play is a track number, a start and an end, and every
count, recency and listening session is a numpy pass, so two years of a heavy listener's plays
cost tens of milliseconds; keys and names are asked for only for the few tracks and artists an
answer holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

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


I64 = npt.NDArray[np.int64]
NEVER = np.iinfo(np.int64).min
MS = timedelta(milliseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How far down each reason's ranking an answer can reach: the interleave takes round-robin
# from every reason and skips tracks already chosen, so no list gives more than this.
DEPTH_PER_ITEM = len(REASON_ORDER) + 1


def _ms(instant: datetime) -> int:
    return (instant - EPOCH) // MS


def _instant(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True, slots=True)
class Listen:
    """One counted play, as a list of them describes a history (tests, small callers)."""

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


@dataclass(frozen=True)
class History:
    """Counted plays in start order (``track``, ``started``, ``ended`` in ms), the artists of
    each track (``artist_ptr``/``artist_idx``), and how to name tracks and artists."""

    track: I64
    started: I64
    ended: I64
    tracks: int
    artists: int
    artist_ptr: I64
    artist_idx: I64
    candidate: Callable[[int], Candidate]
    artist_key: Callable[[int], str]
    artist_name: Callable[[int], str]
    find_track: Callable[[str], int | None]
    find_artist: Callable[[str], int | None]

    def __len__(self) -> int:
        return len(self.track)

    def track_key(self, track: int) -> str:
        return self.candidate(track).track_key

    @classmethod
    def of_listens(cls, listens: Sequence[Listen]) -> History:
        """A history from a list of listens (any order)."""
        ordered = sorted(listens, key=lambda p: (p.started_at, p.ended_at, p.track_key))
        tracks: dict[str, int] = {}
        artists: dict[str, int] = {}
        meta: dict[int, Candidate] = {}
        credited: dict[int, list[int]] = {}
        artist_names: dict[int, str] = {}
        for listen in ordered:
            t = tracks.setdefault(listen.track_key, len(tracks))
            meta[t] = Candidate(
                listen.track_key,
                listen.track_id,
                listen.track_name,
                listen.artist_names,
                listen.album_name,
            )  # the newest spelling names the track
            mine = []
            for index, key in enumerate(listen.artist_keys):
                a = artists.setdefault(key, len(artists))
                names = listen.artist_names
                artist_names.setdefault(a, names[index] if index < len(names) else key)
                mine.append(a)
            credited.setdefault(t, list(dict.fromkeys(mine)))
        ptr = np.zeros(len(tracks) + 1, np.int64)
        np.cumsum([len(credited[t]) for t in range(len(tracks))], out=ptr[1:])
        keys = list(artists)
        return cls(
            track=np.array([tracks[p.track_key] for p in ordered], np.int64),
            started=np.array([_ms(p.started_at) for p in ordered], np.int64),
            ended=np.array([_ms(p.ended_at) for p in ordered], np.int64),
            tracks=len(tracks),
            artists=len(artists),
            artist_ptr=ptr,
            artist_idx=np.array([a for t in range(len(tracks)) for a in credited[t]], np.int64),
            candidate=meta.__getitem__,
            artist_key=keys.__getitem__,
            artist_name=artist_names.__getitem__,
            find_track=tracks.get,
            find_artist=artists.get,
        )

    def genres_of_artists(
        self, genres_by_artist: Mapping[str, Sequence[str]]
    ) -> dict[int, list[str]]:
        """Artist number → genres, for the artists of this history that have any."""
        found: dict[int, list[str]] = {}
        for key, genres in genres_by_artist.items():
            artist = self.find_artist(key)
            if artist is not None and genres:
                found[artist] = list(genres)
        return found


class _Stats:
    """Per track and per artist: plays, plays in the seed window, last end."""

    def __init__(self, h: History, now: datetime) -> None:
        self.h = h
        recent = h.ended >= _ms(now - SEED_WINDOW)
        self.count = np.bincount(h.track, minlength=h.tracks).astype(np.int64)
        self.count_scores = self.count.astype(np.float64)
        self.recent = np.bincount(h.track[recent], minlength=h.tracks).astype(np.int64)
        self.last = np.full(h.tracks, NEVER, np.int64)
        np.maximum.at(self.last, h.track, h.ended)
        self.pair_track = np.repeat(np.arange(h.tracks, dtype=np.int64), np.diff(h.artist_ptr))
        pairs = h.artist_idx
        # Each artist's tracks, found by slicing: ranking asks for them artist after artist.
        self._by_artist = np.argsort(pairs, kind="stable")
        self._artist_bounds = np.searchsorted(pairs[self._by_artist], np.arange(h.artists + 1))
        self.a_count = np.bincount(pairs, self.count[self.pair_track], h.artists).astype(np.int64)
        self.a_recent = np.bincount(pairs, self.recent[self.pair_track], h.artists).astype(np.int64)
        self.a_last = np.full(h.artists, NEVER, np.int64)
        np.maximum.at(self.a_last, pairs, self.last[self.pair_track])

    def tracks_of(self, artist: int) -> I64:
        at = self._by_artist[self._artist_bounds[artist] : self._artist_bounds[artist + 1]]
        found: I64 = np.unique(self.pair_track[at])
        return found

    def last_played(self, track: int) -> datetime | None:
        last = int(self.last[track])
        return None if last == NEVER else _instant(last)


def _best(
    scores: npt.NDArray[np.float64],
    tiebreak: I64,
    keep: npt.NDArray[np.bool_],
    key: Callable[[int], str],
    depth: int,
    *,
    among: I64 | None = None,
) -> list[int]:
    """The ``depth`` best of the entries ``keep`` selects with a positive score (only those
    ``among``, when given), by score, then ``tiebreak``, then key: numpy orders them all,
    keys are read only for the first ``depth`` and the entries tied with the last of them."""
    if among is None:
        chosen = np.flatnonzero(keep & (scores > 0))
    else:
        chosen = among[keep[among] & (scores[among] > 0)]
    if not len(chosen) or depth <= 0:
        return []
    order = chosen[np.lexsort((-tiebreak[chosen], -scores[chosen]))]
    if len(order) > depth:
        edge = order[depth - 1]
        tied = (scores[order] == scores[edge]) & (tiebreak[order] == tiebreak[edge])
        order = order[: max(depth, int(np.flatnonzero(tied)[-1]) + 1)]
    return sorted((int(i) for i in order), key=lambda i: (-scores[i], -tiebreak[i], key(i)))[:depth]


class _Builder:
    def __init__(self, h: History, stats: _Stats, now: datetime, options: Options) -> None:
        self.h, self.s, self.options = h, stats, options
        self.now = now
        self.depth = max(1, options.limit) * DEPTH_PER_ITEM
        cutoff = _ms(now - timedelta(days=options.recent_days))
        self.allowed = np.ones(h.tracks, bool) if options.include_recent else stats.last < cutoff

    def make(
        self, track: int, reason: Reason, detail: str, score: float, seeds: Sequence[str] = ()
    ) -> Recommendation:
        return Recommendation(
            self.h.candidate(track),
            reason,
            detail,
            score,
            int(self.s.count[track]),
            self.s.last_played(track),
            tuple(seeds),
        )

    def ranked(
        self, scores: npt.NDArray[np.float64], depth: int | None = None, among: I64 | None = None
    ) -> list[int]:
        depth = depth or self.depth
        return _best(scores, self.s.count, self.allowed, self.h.track_key, depth, among=among)

    # --- reasons -------------------------------------------------------------------------------

    def forgotten_tracks(self) -> list[Recommendation]:
        s = self.s
        old = _ms(self.now - FORGOTTEN_AFTER)
        chosen = (s.count >= FORGOTTEN_MIN_PLAYS) & (s.last < old)
        scores = np.where(chosen, s.count, 0).astype(np.float64)
        return [
            self.make(
                t,
                "forgotten_favourite",
                f"You played this {int(s.count[t])} times but not since {_day(s.last_played(t))}.",
                float(scores[t]),
            )
            for t in self.ranked(scores)
        ]

    def _artists(self, chosen: npt.NDArray[np.bool_], first: I64, second: I64) -> Iterator[int]:
        """Artists ``chosen`` selects, by ``first``, ``second`` (descending), then key."""
        yield from _best(
            np.where(chosen, first, 0).astype(np.float64),
            second,
            np.ones(self.h.artists, bool),
            self.h.artist_key,
            self.h.artists,
        )

    def _artist_tracks(self, artist: int, depth: int) -> list[int]:
        s = self.s
        return self.ranked(s.count_scores, depth, among=s.tracks_of(artist))

    def forgotten_artists(self) -> list[Recommendation]:
        s = self.s
        old = _ms(self.now - FORGOTTEN_AFTER)
        chosen = (s.a_count >= FORGOTTEN_ARTIST_MIN_PLAYS) & (s.a_last < old)
        found: list[Recommendation] = []
        for artist in self._artists(chosen, s.a_count, np.zeros(self.h.artists, np.int64)):
            best = self._artist_tracks(artist, 1)
            if best:
                name = self.h.artist_name(artist)
                last = _instant(int(s.a_last[artist]))
                detail = (
                    f"{name} was a favourite ({int(s.a_count[artist])} plays) but you have not "
                    f"played them since {_day(last)}."
                )
                count = float(s.a_count[artist])
                found.append(self.make(best[0], "forgotten_favourite", detail, count, [name]))
                if len(found) >= self.depth:
                    break
        return found

    def on_repeat_tracks(self) -> list[Recommendation]:
        s = self.s
        scores = np.where(s.recent >= ON_REPEAT_MIN_PLAYS, s.recent, 0).astype(np.float64)
        return [
            self.make(
                t,
                "on_repeat",
                f"On repeat: {int(s.recent[t])} plays in the last 30 days.",
                float(scores[t]),
            )
            for t in self.ranked(scores)
        ]

    def on_repeat_artists(self) -> list[Recommendation]:
        s = self.s
        found: list[Recommendation] = []
        chosen = s.a_recent >= ON_REPEAT_ARTIST_MIN_PLAYS
        for artist in self._artists(chosen, s.a_recent, s.a_count):
            name = self.h.artist_name(artist)
            recent = int(s.a_recent[artist])
            for track in self._artist_tracks(artist, self.depth - len(found)):
                detail = (
                    f"{name} is on repeat ({recent} plays in the last 30 days); "
                    "you have not played this one lately."
                )
                found.append(self.make(track, "on_repeat", detail, recent, [name]))
            if len(found) >= self.depth:
                break
        return found

    def co_listened(
        self, seed_tracks: Sequence[int], seed_artists: Sequence[int]
    ) -> list[Recommendation]:
        """Tracks sharing sessions with a seed; each session counts once per track."""
        h, s = self.h, self.s
        if not len(h):
            return []
        previous_end = np.maximum.accumulate(h.ended)
        gaps = h.started[1:] - previous_end[:-1] >= SESSION_GAP // MS
        session = np.cumsum(np.concatenate([[True], gaps])) - 1
        # Each seed is a bit; a track carries the bits of the seeds it is or credits.
        seeds = [
            *((h.track_key(t), h.candidate(t).track_name) for t in seed_tracks),
            *((h.artist_key(a), h.artist_name(a)) for a in seed_artists),
        ]
        carries = np.zeros(h.tracks, np.int64)
        for bit, track in enumerate(seed_tracks):
            carries[track] |= 1 << bit
        for bit, artist in enumerate(seed_artists, start=len(seed_tracks)):
            carries[s.tracks_of(artist)] |= 1 << bit
        of_play = carries[h.track]
        present = np.zeros(int(session[-1]) + 1, np.int64)
        np.bitwise_or.at(present, session, of_play)
        others = (present[session] != 0) & (of_play == 0)
        pairs = np.unique(session[others] * h.tracks + h.track[others])
        pair_track, pair_session = pairs % h.tracks, pairs // h.tracks
        scores = np.bincount(pair_track, minlength=h.tracks).astype(np.float64)
        by_track = np.argsort(pair_track, kind="stable")
        bounds = np.searchsorted(pair_track[by_track], np.arange(h.tracks + 1))
        found = []
        for track in self.ranked(scores):
            shared = present[pair_session[by_track[bounds[track] : bounds[track + 1]]]]
            counts = [int(np.count_nonzero(shared & (1 << bit))) for bit in range(len(seeds))]
            best = min(
                (bit for bit, n in enumerate(counts) if n),
                key=lambda bit: (-counts[bit], seeds[bit][0]),
            )
            sessions = int(scores[track])
            detail = (
                f"Played in {sessions} of your listening session{'s' if sessions > 1 else ''} "
                f"with {seeds[best][1]}."
            )
            found.append(self.make(track, "co_listened", detail, sessions, [seeds[best][1]]))
        return found

    def genre(
        self, seeds: Sequence[str], genres: Mapping[int, Sequence[str]]
    ) -> list[Recommendation]:
        s = self.s
        wanted = set(seeds)
        scores = np.zeros(self.h.tracks, np.float64)
        genre_of: dict[int, str] = {}
        for artist in sorted(genres):
            shared = sorted(wanted.intersection(genres[artist]))
            if not shared:
                continue
            for track in s.tracks_of(artist):
                if s.count[track] > scores[track]:
                    scores[track] = float(s.count[track])
                    genre_of[int(track)] = shared[0]
        return [
            self.make(
                t,
                "genre",
                f"From {genre_of[t]}, one of your top genres ({int(s.count[t])} plays).",
                float(scores[t]),
                [genre_of[t]],
            )
            for t in self.ranked(scores)
        ]

    def external(self, candidates: Sequence[Candidate]) -> list[Recommendation]:
        found = []
        for candidate in candidates:
            track = self.h.find_track(candidate.track_key)
            if track is not None and not self.allowed[track]:
                continue
            count = int(self.s.count[track]) if track is not None else 0
            last = self.s.last_played(track) if track is not None else None
            found.append(
                Recommendation(
                    candidate,
                    "spotify",
                    "Suggested by Spotify for your current favourites.",
                    0.0,
                    count,
                    last,
                )
            )
        return found


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when is not None else "never"


def _top(counts: I64, recent: I64, key: Callable[[int], str], n: int) -> list[int]:
    """Current favourites: most plays in the seed window, else most plays at all."""
    if n <= 0:
        return []
    everything = np.ones(len(counts), bool)
    if (recent > 0).any():
        return _best(recent.astype(np.float64), counts, everything, key, n)
    return _best(counts.astype(np.float64), np.zeros(len(counts), np.int64), everything, key, n)


def top_genres(stats: _Stats, genres: Mapping[int, Sequence[str]], n: int = 3) -> list[str]:
    """The person's most played genres (plays weighted by artist); empty when none are known."""
    weights: dict[str, int] = {}
    for artist, names in genres.items():
        for genre in names:
            weights[genre] = weights.get(genre, 0) + int(stats.a_count[artist])
    return sorted(weights, key=lambda g: (-weights[g], g))[:n]


def _seed_numbers(h: History, stats: _Stats, seed_type: SeedType) -> tuple[list[int], list[int]]:
    n_artists, n_tracks = {
        "artists": (SEED_COUNT, 0),
        "tracks": (0, SEED_COUNT),
        "mixed": (3, 2),
        "genres": (0, 0),
    }[seed_type]
    return (
        _top(stats.a_count, stats.a_recent, h.artist_key, n_artists),
        _top(stats.count, stats.recent, h.track_key, n_tracks),
    )


def _seeds(
    h: History, stats: _Stats, seed_type: SeedType, genres: Mapping[int, Sequence[str]]
) -> list[Seed]:
    artists, tracks = _seed_numbers(h, stats, seed_type)
    seeds = [Seed("artist", h.artist_key(a), h.artist_name(a)) for a in artists]
    seeds += [Seed("track", h.track_key(t), h.candidate(t).track_name) for t in tracks]
    if seed_type == "genres":
        seeds += [Seed("genre", g, g) for g in top_genres(stats, genres)]
    return seeds


def seeds_for(
    history: History | Sequence[Listen],
    now: datetime,
    seed_type: SeedType,
    genres_by_artist: Mapping[str, Sequence[str]] | None = None,
) -> list[Seed]:
    """The seeds a request starts from: the person's current favourites of that kind."""
    h = history if isinstance(history, History) else History.of_listens(history)
    genres = h.genres_of_artists(genres_by_artist or {})
    return _seeds(h, _Stats(h, now), seed_type, genres)


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
    history: History | Sequence[Listen],
    now: datetime,
    options: Options,
    *,
    genres_by_artist: Mapping[str, Sequence[str]] | None = None,
    spotify: Sequence[Candidate] = (),
) -> Result:
    """Up to ``options.limit`` suggestions from the history (any order), best first."""
    h = history if isinstance(history, History) else History.of_listens(history)
    genres = h.genres_of_artists(genres_by_artist or {})
    if not len(h) and not spotify:
        return Result((), (), ("There is no listening history to recommend from yet.",))
    stats = _Stats(h, now)
    b = _Builder(h, stats, now, options)
    seed_artists, seed_tracks = _seed_numbers(h, stats, options.seed_type)
    seeds = _seeds(h, stats, options.seed_type, genres)
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
            lists["genre"] = b.genre(genre_seeds, genres)
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
