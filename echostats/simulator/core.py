"""``SimulatorCore``: one simulated Spotify's state and controls (clock, world, tokens, faults,
limits, call log), without HTTP.

The HTTP face (``app.py``: routes, request pipeline) sits on this model and ``app.Simulator``
joins the two; nothing here imports the HTTP side (an import-linter contract).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from echostats.simulator import names
from echostats.simulator.calls import CallLog
from echostats.simulator.catalog import Catalog, Playlist, PlaylistEntry
from echostats.simulator.clock import Clock
from echostats.simulator.eras import Eras
from echostats.simulator.faults import Faults
from echostats.simulator.limits import Limits
from echostats.simulator.listener import PRESENT, Listener
from echostats.simulator.playback import Device
from echostats.simulator.tokens import ALL_SCOPES, TokenStore
from echostats.simulator.world import SimUser, World

DEFAULT_REDIRECT_URIS = (
    "http://127.0.0.1/api/v1/auth/callback",
    "http://[::1]/api/v1/auth/callback",
    "http://127.0.0.1/callback",
)


# Spotify as it behaves, for demo mode and the end-to-end tests (``SimulatorConfig.realistic``).
# Spotify publishes no numbers: live polling and a sign-in sync stay far below this rolling
# 30 s limit, a burst of catalog lookups meets it.
REALISTIC_RATE_LIMIT = 100
REALISTIC_QUOTA = 50_000  # per rolling 24 h; a day of demo use stays below it
REALISTIC_HISTORY_LAG_S = 5.0  # a finished play shows in recently-played a few seconds later


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 42
    client_id: str = "sim-client-id"
    client_secret: str = "sim-client-secret"  # noqa: S105 - the simulator's public test secret
    realtime: bool = False
    dev_mode: bool = True
    # Loopback entries match any port (RFC 8252), like Spotify's dashboard.
    redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS
    auto_consent: bool = True
    default_user: str = "demo"
    # Whether a refresh answer carries a new refresh_token (PKCE grants always rotate).
    refresh_rotation: Literal["always", "never", "seeded"] = "seeded"
    # 200 with a short non-JSON text body like Spotify since 2024 (SPOTIFY.md 2.5), or 204.
    player_success: Literal[204, 200] = 200
    rate_limit: int | None = None  # accepted requests per rolling 30 s window (None: unlimited)
    quota: int | None = None  # accepted requests per rolling 24 h (None: unlimited)
    history_lag_s: float = 0.0  # delay before a finished play shows in recently-played
    hang_seconds: float = 3600.0  # how long a ``timeout`` fault holds the request
    # Real-world oddities: a local file, an unavailable and a very old row in a playlist, null
    # rows among playlist search results, podcasts in autoplay, adverts for free accounts.
    oddities: bool = False
    start: datetime | None = None  # stepped mode start (default 2026-10-01T12:00Z)
    api_base_url: str | None = None  # base of ``href``/``next`` links (default: the request's)
    n_artists: int = 80
    # Each year of a back-filled past brings this many new artists played a lot for a while,
    # and five times as many heard in passing (``eras.py``, ``past.py``); demo mode asks for a
    # heavy listener's. 0: a back-filled past has only the library's sessions, as live
    # listening does (and tests that need no eras build no era music).
    era_artists: int = 0

    @classmethod
    def realistic(cls, **changes: Any) -> SimulatorConfig:
        """Throttling, a recently-played lag, 200-with-body player answers and the real
        world's oddities, as Spotify has them; ``changes`` set any other field."""
        values: dict[str, Any] = {
            "rate_limit": REALISTIC_RATE_LIMIT,
            "quota": REALISTIC_QUOTA,
            "history_lag_s": REALISTIC_HISTORY_LAG_S,
            "player_success": 200,
            "oddities": True,
        }
        return cls(**{**values, **changes})


class SimulatorCore:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = Clock(realtime=self.config.realtime, start=self.config.start)
        self.catalog = Catalog(self.config.seed, n_artists=self.config.n_artists)
        eras = Eras(self.catalog, self.config.seed, self.config.era_artists)
        self.world = World(
            self.catalog, eras, self.config.seed, self.clock.now_ms(), oddities=self.config.oddities
        )
        self.tokens = TokenStore(self.config.seed, self.config.refresh_rotation)
        self.faults = Faults(self.clock, self.tokens, self.world)
        self.limits = Limits(self.config.rate_limit, self.config.quota)
        self.calls = CallLog()
        self.player_rng = names.seeded(f"player:{self.config.seed}")
        self.consent_user = self.config.default_user
        self.add_user("demo", display_name="Demo Listener", premium=True)
        self.clock.on_advance(self._catch_up)

    @property
    def users(self) -> dict[str, SimUser]:
        return self.world.users

    def _catch_up(self, _now: datetime) -> None:
        self.sync()

    def sync(self) -> int:
        """Advance every player and listener to the clock's now; returns now in Unix ms."""
        now_ms = self.clock.now_ms()
        self.world.sync(now_ms)
        return now_ms

    # --- people ------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        display_name: str | None = None,
        premium: bool = True,
        devices: Sequence[Device] | None = None,
    ) -> SimUser:
        return self.world.add_user(
            user_id,
            display_name=display_name,
            premium=premium,
            devices=list(devices) if devices is not None else None,
            now_ms=self.sync(),
        )

    def issue_tokens(
        self, user_id: str, scope: str | Sequence[str] = ALL_SCOPES
    ) -> dict[str, object]:
        """A token response as if ``user_id`` had just consented (no browser dance)."""
        if user_id not in self.users:
            raise KeyError(user_id)
        scopes = scope.split() if isinstance(scope, str) else list(scope)
        return self.tokens.authorize(user_id, " ".join(scopes), self.sync(), pkce=False)

    # --- playback ----------------------------------------------------------------------------

    def listen(
        self,
        user_id: str,
        tracks: Sequence[str] | None = None,
        *,
        context_uri: str | None = None,
        offset: int = 0,
        position_ms: int = 0,
        device: str | None = None,
    ) -> None:
        """Start playback now, as if the user pressed play in a Spotify app.

        ``device`` is a device id or name (default: the active one, else the first device).
        """
        now_ms = self.sync()
        user = self.users[user_id]
        player = user.player
        if context_uri is not None:
            order = self.catalog.tracks_of_context(context_uri)
            if not order:
                raise ValueError(f"unknown or empty context {context_uri!r}")
        elif tracks:
            order = list(tracks)
            unknown = [t for t in order if t not in self.catalog.tracks]
            if unknown:
                raise ValueError(f"unknown track ids {unknown}")
        else:
            raise ValueError("give tracks or a context_uri")
        chosen = player.active_device or (player.devices[0] if player.devices else None)
        if device is not None:
            chosen = next((d for d in player.devices if device in (d.id, d.name)), None)
        if chosen is None:
            raise ValueError(f"user {user_id!r} has no device {device!r}")
        player.play(
            now_ms,
            tracks=order,
            context_uri=context_uri,
            start_index=offset,
            position_ms=position_ms,
            device_id=chosen.id,
        )

    def start_autoplay(self, user_id: str, since: datetime | None = None) -> Listener:
        """Let the virtual listener take over; ``since`` in the past back-fills history at once."""
        now_ms = self.sync()
        start_ms = now_ms if since is None else min(now_ms, int(since.timestamp() * 1000))
        if since is not None and self.users[user_id].player.current is not None:
            raise ValueError("back-filling needs an idle player")
        listener = self.world.start_autoplay(user_id, at_ms=start_ms, live_from_ms=now_ms)
        self.sync()
        return listener

    def keep_listening(self, user_id: str) -> None:
        """The autoplaying listener plays now and from now on takes only short breaks (demo mode:
        someone opening the dashboard sees live listening, not an idle evening)."""
        listener = self.users[user_id].listener
        if listener is None:
            raise ValueError(f"user {user_id!r} has no autoplay")
        listener.habits = PRESENT
        listener.wake(self.sync())
        self.sync()

    def stop_autoplay(self, user_id: str) -> None:
        listener = self.users[user_id].listener
        if listener is not None:
            listener.stop()

    # --- playlists (for tests that need a playlist to change) ---------------------------------

    def create_playlist(
        self,
        owner_id: str,
        name: str,
        tracks: Sequence[str] = (),
        *,
        collaborative: bool = False,
        public: bool = True,
        followers: Sequence[str] = (),
    ) -> Playlist:
        """A playlist owned by ``owner_id`` (a sim user or any other name), followed by the owner
        when the owner is a sim user and by every id in ``followers``."""
        now_ms = self.sync()
        owner = self.users.get(owner_id)
        playlist = self.world.create_playlist(
            owner_id,
            owner.display_name if owner else owner_id,
            name,
            list(tracks),
            now_ms=now_ms,
            follower=owner,
            collaborative=collaborative,
            public=public,
        )
        for user_id in followers:
            self.users[user_id].playlist_ids.append(playlist.id)
        return playlist

    def add_to_playlist(
        self, playlist_id: str, tracks: Sequence[str], added_by: str | None = None
    ) -> str:
        playlist = self.catalog.playlists[playlist_id]
        now = self.clock.now()
        playlist.entries += [PlaylistEntry(t, now, added_by or playlist.owner_id) for t in tracks]
        playlist.touch()
        return playlist.snapshot_id

    def remove_from_playlist(self, playlist_id: str, tracks: Sequence[str]) -> str:
        playlist = self.catalog.playlists[playlist_id]
        playlist.entries = [e for e in playlist.entries if e.track_id not in set(tracks)]
        playlist.touch()
        return playlist.snapshot_id

    def delete_playlist(self, playlist_id: str) -> None:
        self.world.delete_playlist(playlist_id)
