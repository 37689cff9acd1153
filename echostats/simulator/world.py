"""Users, their libraries and players, and the lazy clock-driven advance of all of them.

The world is advanced only when someone looks (a request arrives or a test moves the clock): each
user's player and listener are replayed event by event up to ``now``. That keeps stepped tests
exact and lets realtime demo mode run without background tasks.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from echostats.simulator import names
from echostats.simulator.catalog import Catalog, LocalFile, Playlist, PlaylistEntry
from echostats.simulator.clock import from_ms
from echostats.simulator.eras import Eras
from echostats.simulator.listener import Listener
from echostats.simulator.past import Past
from echostats.simulator.playback import Device, Play, Player

# How many history rows we keep beyond the 50 Spotify exposes, so a configured lag still leaves 50.
HISTORY_KEEP = 200
TOP_WINDOWS_DAYS = {"short_term": 28, "medium_term": 182, "long_term": 365}
TOP_TASTE_ARTISTS = {"short_term": 6, "medium_term": 15, "long_term": 25}
OTHER_OWNERS = (("moa.lindqvist", "Moa"), ("jfontaine", "Jules Fontaine"))


@dataclass
class SimUser:
    id: str
    display_name: str
    premium: bool
    player: Player
    account_id: str
    email: str
    country: str = "SE"
    registered: bool = True
    image_key: str = ""
    taste: list[str] = field(default_factory=list)
    saved_tracks: list[tuple[str, datetime]] = field(default_factory=list)
    saved_albums: list[tuple[str, datetime]] = field(default_factory=list)
    followed_artists: list[str] = field(default_factory=list)
    saved_shows: list[tuple[str, datetime]] = field(default_factory=list)
    saved_episodes: list[tuple[str, datetime]] = field(default_factory=list)
    saved_audiobooks: list[tuple[str, datetime]] = field(default_factory=list)
    playlist_ids: list[str] = field(default_factory=list)
    played: list[Play] = field(default_factory=list)
    history: list[Play] = field(default_factory=list)
    listener: Listener | None = None
    synced_ms: int = 0

    @property
    def product(self) -> str:
        return "premium" if self.premium else "free"

    @property
    def devices(self) -> list[Device]:
        return self.player.devices

    def record(self, play: Play) -> None:
        self.played.append(play)
        if play.in_history:
            self.history.append(play)
            del self.history[:-HISTORY_KEEP]


FREE_AD_CHANCE = 0.2  # adverts between tracks for free accounts (with oddities on)


class World:
    def __init__(
        self, catalog: Catalog, eras: Eras, seed: int, start_ms: int, *, oddities: bool
    ) -> None:
        self.catalog = catalog
        self.eras = eras
        self.seed = seed
        self.oddities = oddities
        self.users: dict[str, SimUser] = {}
        self.start_ms = start_ms

    # --- population ----------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        display_name: str | None = None,
        premium: bool = True,
        devices: list[Device] | None = None,
        now_ms: int,
    ) -> SimUser:
        if user_id in self.users:
            raise ValueError(f"user {user_id!r} exists already")
        rng = names.seeded(f"user:{self.seed}:{user_id}")
        catalog = self.catalog
        if devices is None:
            devices = [
                Device(id=names.hex_token(rng, 40), name=f"{display_name or user_id}'s {n}", type=t)
                for n, t in rng.sample(names.DEVICE_NAMES, k=3)
            ]
        user = SimUser(
            id=user_id,
            display_name=display_name or user_id,
            premium=premium,
            player=Player(
                durations=catalog.duration_ms,
                record=lambda _play: None,  # replaced below, once the user exists
                rng=names.seeded(f"shuffle:{self.seed}:{user_id}"),
                devices=devices,
                listed=catalog.tracks.__contains__,  # recently-played lists no episodes
                ad_chance=FREE_AD_CHANCE if self.oddities and not premium else 0.0,
            ),
            account_id=names.base62_id(rng, 10),
            email=f"{user_id}@example.com",
            image_key=names.hex_token(rng, 24),
            synced_ms=now_ms,
        )
        user.player.record = user.record
        self._furnish(user, rng, now_ms)
        self._furnish_spoken(user, names.seeded(f"spoken:{self.seed}:{user_id}"), now_ms)
        if self.oddities:
            self._add_oddities(user, names.seeded(f"oddities:{self.seed}:{user_id}"))
        self.users[user_id] = user
        return user

    def _furnish(self, user: SimUser, rng: random.Random, now_ms: int) -> None:
        """Give a new user a taste, a library, followed artists and playlists."""
        catalog = self.catalog
        now = from_ms(now_ms)
        artist_ids = sorted(catalog.artists)
        user.taste = rng.sample(artist_ids, k=min(25, len(artist_ids)))
        liked = [t for a in user.taste for t in catalog.artist_tracks(a)]
        picks = rng.sample(liked, k=min(60, len(liked)))
        ages = sorted(rng.randint(60, 730 * 86_400) for _ in picks)
        user.saved_tracks = [
            (t, now - timedelta(seconds=s)) for t, s in zip(picks, ages, strict=True)
        ]
        albums = [al for a in user.taste for al in catalog.artists[a].album_ids]
        album_picks = rng.sample(albums, k=min(12, len(albums)))
        album_ages = sorted(rng.randint(60, 730 * 86_400) for _ in album_picks)
        user.saved_albums = [
            (al, now - timedelta(seconds=s)) for al, s in zip(album_picks, album_ages, strict=True)
        ]
        user.followed_artists = sorted(rng.sample(artist_ids, k=min(60, len(artist_ids))))
        owned_sizes = [130, rng.randint(10, 40), rng.randint(10, 40)]
        for i, size in enumerate(owned_sizes):
            self.create_playlist(
                user.id,
                user.display_name,
                f"{names.title(rng)} {'Mix' if i == 0 else ''}".strip(),
                rng.sample(liked, k=min(size, len(liked))),
                now_ms=now_ms,
                rng=rng,
                follower=user,
            )
        self.create_playlist(
            user.id,
            user.display_name,
            "Shared Road Trip",
            rng.sample(liked, k=15),
            now_ms=now_ms,
            rng=rng,
            follower=user,
            collaborative=True,
            public=False,
        )
        owner, owner_name = OTHER_OWNERS[0]
        collab = self.create_playlist(
            owner,
            owner_name,
            "Friends' Picks",
            rng.sample(sorted(catalog.tracks), k=20),
            now_ms=now_ms,
            rng=rng,
            follower=user,
            collaborative=True,
            public=False,
        )
        collab.collaborators.add(user.id)
        owner, owner_name = OTHER_OWNERS[1]
        self.create_playlist(
            owner,
            owner_name,
            f"{names.title(rng)} Radio",
            rng.sample(sorted(catalog.tracks), k=25),
            now_ms=now_ms,
            rng=rng,
            follower=user,
        )
        self.create_playlist(
            "spotify",
            "Spotify",
            "Daily Mix 1",
            rng.sample(liked, k=30),
            now_ms=now_ms,
            rng=rng,
            follower=user,
        )

    def _furnish_spoken(self, user: SimUser, rng: random.Random, now_ms: int) -> None:
        """A couple of saved podcasts, episodes and an audiobook (their own RNG, so the music
        library is what it was before they existed)."""
        spoken, now = self.catalog.spoken, from_ms(now_ms)

        def saved(ids: list[str], k: int) -> list[tuple[str, datetime]]:
            ages = sorted(rng.randint(60, 365 * 86_400) for _ in range(k))
            picks = rng.sample(ids, k)
            return [(i, now - timedelta(seconds=a)) for i, a in zip(picks, ages, strict=True)]

        user.saved_shows = saved(sorted(spoken.shows), 2)
        user.saved_episodes = saved(sorted(spoken.episodes), 3)
        user.saved_audiobooks = saved(sorted(spoken.audiobooks), 1)

    def _add_oddities(self, user: SimUser, rng: random.Random) -> None:
        """What real libraries contain: in the user's biggest playlist a local file, a row whose
        track left the catalog (item null) and a very old row without added_at/added_by."""
        own = [self.catalog.playlists[p] for p in user.playlist_ids]
        biggest = max((p for p in own if p.owner_id == user.id), key=lambda p: len(p.entries))
        local = LocalFile(names.artist_name(rng), "Demos", names.title(rng), 201_000)
        biggest.entries.insert(2, PlaylistEntry("", biggest.entries[2].added_at, user.id, local))
        biggest.entries[5].unavailable = True
        biggest.entries[0].added_at = biggest.entries[0].added_by = None

    def create_playlist(
        self,
        owner_id: str,
        owner_name: str,
        name: str,
        track_ids: list[str],
        *,
        now_ms: int,
        rng: random.Random | None = None,
        follower: SimUser | None = None,
        collaborative: bool = False,
        public: bool = True,
        description: str = "",
    ) -> Playlist:
        rng = rng or names.seeded(f"playlist:{self.seed}:{owner_id}:{name}")
        playlist = Playlist(
            id=self.catalog.new_playlist_id(spotify_owned=owner_id == "spotify"),
            name=name,
            description=description,
            owner_id=owner_id,
            owner_name=owner_name,
            collaborative=collaborative,
            public=public,
            image_key=names.hex_token(rng, 24),
            followers=rng.randint(0, 5000),
        )
        added = from_ms(now_ms) - timedelta(days=len(track_ids))
        playlist.entries = [
            PlaylistEntry(t, added + timedelta(days=i, seconds=rng.randint(0, 80_000)), owner_id)
            for i, t in enumerate(track_ids)
        ]
        self.catalog.playlists[playlist.id] = playlist
        if follower is not None:
            follower.playlist_ids.append(playlist.id)
        return playlist

    def delete_playlist(self, playlist_id: str) -> None:
        self.catalog.playlists.pop(playlist_id, None)
        for user in self.users.values():
            if playlist_id in user.playlist_ids:
                user.playlist_ids.remove(playlist_id)

    # --- autoplay ------------------------------------------------------------------------

    def start_autoplay(self, user_id: str, *, at_ms: int, live_from_ms: int) -> Listener:
        """Autoplay from ``at_ms``. With eras, the sessions before ``live_from_ms`` are a
        past's (eras, favourites, tracks heard in passing); the later ones the library's."""
        user = self.users[user_id]
        contexts = [f"spotify:playlist:{p}" for p in user.playlist_ids]
        contexts += [f"spotify:album:{a}" for a, _ in user.saved_albums]
        contexts += [f"spotify:artist:{a}" for a in user.taste[:10]]
        if self.oddities:  # now and then a podcast
            contexts += [f"spotify:show:{s}" for s, _ in user.saved_shows]
        has_past = self.eras.artists > 0 and at_ms < live_from_ms
        listener = Listener(
            player=user.player,
            rng=names.seeded(f"listener:{self.seed}:{user_id}"),
            contexts=contexts,
            resolve=self.catalog.tracks_of_context,
            past=Past(self.catalog, self.eras, at_ms, live_from_ms) if has_past else None,
        )
        user.listener = listener
        listener.start(at_ms)
        return listener

    # --- advancing time ------------------------------------------------------------------

    def sync(self, now_ms: int) -> None:
        for user in self.users.values():
            self._advance(user, now_ms)

    def _advance(self, user: SimUser, target: int) -> None:
        player, listener = user.player, user.listener
        while True:
            track_end = player.end_ms()
            action = listener.next_action_ms if listener is not None else None
            due = [t for t in (track_end, action) if t is not None and t <= target]
            if not due:
                break
            # A track ending and a listener action at the same instant: the track ends first.
            if track_end is not None and track_end == min(due):
                player.end_current(track_end)
            elif listener is not None and action is not None:
                listener.act(action)
        user.synced_ms = max(user.synced_ms, target)

    # --- personalisation -----------------------------------------------------------------

    def top_tracks(self, user: SimUser, time_range: str, now_ms: int) -> list[str]:
        since = now_ms - TOP_WINDOWS_DAYS[time_range] * 86_400_000
        tracks = self.catalog.tracks
        counts = Counter(
            p.track_id for p in user.played if p.ended_ms >= since and p.track_id in tracks
        )
        base: list[str] = []
        for artist in user.taste[: TOP_TASTE_ARTISTS[time_range]]:
            base += self.catalog.artist_tracks(artist)
        rank = {t: i for i, t in enumerate(dict.fromkeys(base))}
        ids = set(rank) | set(counts)
        return sorted(ids, key=lambda t: (-counts[t], rank.get(t, len(rank)), t))

    def top_artists(self, user: SimUser, time_range: str, now_ms: int) -> list[str]:
        since = now_ms - TOP_WINDOWS_DAYS[time_range] * 86_400_000
        tracks = self.catalog.tracks
        counts = Counter(
            tracks[p.track_id].artist_ids[0]
            for p in user.played
            if p.ended_ms >= since and p.track_id in tracks
        )
        base = user.taste[: TOP_TASTE_ARTISTS[time_range]]
        rank = {a: i for i, a in enumerate(base)}
        ids = set(rank) | set(counts)
        return sorted(ids, key=lambda a: (-counts[a], rank.get(a, len(rank)), a))
