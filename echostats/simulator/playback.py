"""One user's player as a discrete-event state machine over integer milliseconds.

The player never runs on its own: the world calls ``end_current`` when a track's end time has
been reached and the listener (autoplay) or the Web API call the commands. Because progress is
stored as "position at anchor time" and everything else is a pure function of time, the state at
any instant is exact, whether the world is stepped by a test or follows the wall clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from echostats.simulator.clock import from_ms

REASON_TRACKDONE = "trackdone"
REASON_FORWARD = "fwdbtn"
REASON_BACK = "backbtn"
REASON_REPLACED = "endplay"
# Spotify lists a play in recently-played when it reached its end or, as we model it, after 30 s.
HISTORY_MIN_MS = 30_000
# An advert between two tracks (free accounts): ``currently_playing_type == "ad"``, no item,
# never a play.
AD = "ad"
AD_MS = 30_000


@dataclass
class Device:
    id: str
    name: str
    type: str
    volume_percent: int | None = 60
    supports_volume: bool = True
    is_restricted: bool = False
    is_private_session: bool = False


@dataclass(frozen=True)
class Play:
    """A finished play: the ground truth tests compare with what the app recorded."""

    track_id: str
    started_ms: int
    ended_ms: int
    listened_ms: int
    context_uri: str | None
    device_id: str
    reason_end: str
    in_history: bool
    private: bool = False  # played in a private session (Spotify's ``incognito_mode``)
    shuffle: bool = False

    @property
    def skipped(self) -> bool:
        return self.reason_end != REASON_TRACKDONE

    @property
    def started_at(self) -> datetime:
        return from_ms(self.started_ms)

    @property
    def ended_at(self) -> datetime:
        return from_ms(self.ended_ms)


@dataclass
class PlayerHooks:
    """Callbacks the listener uses to react to what the player does."""

    on_track_start: Callable[[str, int], None] = lambda _track, _now: None
    on_idle: Callable[[int], None] = lambda _now: None


@dataclass
class Player:
    durations: Callable[[str], int]
    record: Callable[[Play], None]
    rng: random.Random
    devices: list[Device] = field(default_factory=list)
    hooks: PlayerHooks = field(default_factory=PlayerHooks)
    # Whether a finished play of an item can show in recently-played (episodes do not).
    listed: Callable[[str], bool] = lambda _item: True
    ad_chance: float = 0.0  # chance of an advert after a track ends by itself
    adverts: int = 0  # how many were played (ground truth for tests)
    active_device_id: str | None = None
    context_uri: str | None = None
    tracks: list[str] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    pos: int = 0
    current: str | None = None
    queue: list[str] = field(default_factory=list)
    is_playing: bool = False
    progress_ms: int = 0
    anchor_ms: int = 0
    shuffle: bool = False
    repeat: str = "off"
    changed_ms: int = 0
    stop_after_current: bool = False
    _play_started_ms: int = 0
    _listened_ms: int = 0

    # --- reading the state ---------------------------------------------------------------

    @property
    def active_device(self) -> Device | None:
        return self.device(self.active_device_id) if self.active_device_id else None

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def progress_at(self, now: int) -> int:
        return self.progress_ms + (now - self.anchor_ms if self.is_playing else 0)

    def end_ms(self) -> int | None:
        """When the current track will end if nothing intervenes (None when not running)."""
        if not self.is_playing or self.current is None:
            return None
        return self.anchor_ms + max(0, self.duration(self.current) - self.progress_ms)

    def duration(self, item: str) -> int:
        return AD_MS if item == AD else self.durations(item)

    def upcoming(self, limit: int = 20) -> list[str]:
        """The user queue followed by what the context will play next."""
        ahead = list(self.queue)
        ahead += [self.tracks[i] for i in self.order[self.pos + 1 :]]
        if self.repeat == "context":
            ahead += [self.tracks[i] for i in self.order[: self.pos + 1]]
        return ahead[:limit]

    def has_next(self) -> bool:
        return bool(self.queue) or self.pos + 1 < len(self.order) or self.repeat == "context"

    def has_previous(self) -> bool:
        return self.pos > 0

    # --- internal transitions ------------------------------------------------------------

    def _settle(self, now: int) -> None:
        if self.is_playing:
            self._listened_ms += now - self.anchor_ms
            self.progress_ms += now - self.anchor_ms
        self.anchor_ms = now

    def _finish(self, now: int, reason: str) -> None:
        if self.current is None:
            return
        self._settle(now)
        if self.current == AD:
            self.current = None
            return
        device = self.active_device
        private = device is not None and device.is_private_session
        listened = self._listened_ms
        self.record(
            Play(
                track_id=self.current,
                started_ms=self._play_started_ms,
                ended_ms=now,
                listened_ms=listened,
                context_uri=self.context_uri,
                device_id=self.active_device_id or "",
                reason_end=reason,
                in_history=not private
                and self.listed(self.current)
                and (reason == REASON_TRACKDONE or listened >= HISTORY_MIN_MS),
                private=private,
                shuffle=self.shuffle,
            )
        )
        self.current = None

    def _start(self, track_id: str, now: int, position_ms: int = 0) -> None:
        self.current = track_id
        self.progress_ms = position_ms
        self.anchor_ms = now
        self.is_playing = True
        self.stop_after_current = False
        self._play_started_ms = now
        self._listened_ms = 0
        self.changed_ms = now
        if track_id != AD:
            self.hooks.on_track_start(track_id, now)

    def _go_idle(self, now: int) -> None:
        """Nothing left to play: the device drops out, so the player reads as 204."""
        self.current = None
        self.is_playing = False
        self.progress_ms = 0
        self.anchor_ms = now
        self.active_device_id = None
        self.changed_ms = now
        self.hooks.on_idle(now)

    def _advance(self, now: int) -> None:
        if self.queue:
            self._start(self.queue.pop(0), now)
            return
        if self.pos + 1 < len(self.order):
            self.pos += 1
        elif self.repeat == "context" and self.order:
            self.pos = 0
        else:
            self._go_idle(now)
            return
        self._start(self.tracks[self.order[self.pos]], now)

    # --- events and commands (callers have synced the world to ``now``) ------------------

    def end_current(self, now: int) -> None:
        """The current track reached its end at ``now``."""
        track = self.current
        self._finish(now, REASON_TRACKDONE)
        if self.stop_after_current:
            self._go_idle(now)
        elif self.repeat == "track" and track is not None and track != AD:
            self._start(track, now)
        elif (
            track != AD
            and self.ad_chance
            and self.has_next()
            and self.rng.random() < self.ad_chance
        ):
            self._start(AD, now)  # a break between two tracks
            self.adverts += 1
        else:
            self._advance(now)

    def play(
        self,
        now: int,
        *,
        tracks: list[str],
        context_uri: str | None,
        start_index: int = 0,
        position_ms: int = 0,
        device_id: str,
    ) -> None:
        self._finish(now, REASON_REPLACED)
        self.active_device_id = device_id
        self.context_uri = context_uri
        self.tracks = list(tracks)
        self.queue.clear()
        self._reorder(start_index)
        self._start(self.tracks[self.order[self.pos]], now, position_ms)

    def _reorder(self, current_index: int) -> None:
        rest = [i for i in range(len(self.tracks)) if i != current_index]
        if self.shuffle:
            self.rng.shuffle(rest)
            self.order = [current_index, *rest]
            self.pos = 0
        else:
            self.order = list(range(len(self.tracks)))
            self.pos = current_index

    def resume_context(self, now: int, device_id: str) -> bool:
        """Play on from where the last context stopped (it ended or went idle after a track
        finished): its next track, or its first once it ran out. False when nothing ever played.
        """
        if not self.order:
            return False
        self.active_device_id = device_id
        self.pos = (self.pos + 1) % len(self.order)
        self._start(self.tracks[self.order[self.pos]], now)
        return True

    def resume(self, now: int) -> None:
        self._settle(now)
        self.is_playing = True
        self.changed_ms = now

    def pause(self, now: int) -> None:
        self._settle(now)
        self.is_playing = False
        self.changed_ms = now

    def seek(self, now: int, position_ms: int) -> None:
        if self.current is None:
            return
        self._settle(now)
        if position_ms >= self.duration(self.current):
            # Seeking past the end behaves like the track finishing (it moves on).
            self._finish(now, REASON_FORWARD)
            self._advance(now)
            return
        self.progress_ms = position_ms
        self.changed_ms = now

    def next(self, now: int) -> None:
        self._finish(now, REASON_FORWARD)
        self._advance(now)

    def previous(self, now: int) -> None:
        track = self.current
        self._finish(now, REASON_BACK)
        if self.pos > 0:
            self.pos -= 1
            self._start(self.tracks[self.order[self.pos]], now)
        elif track is not None:
            self._start(track, now)

    def set_shuffle(self, now: int, on: bool) -> None:
        if on != self.shuffle and self.order:
            current_index = self.order[self.pos]
            self.shuffle = on
            self._reorder(current_index)
        self.shuffle = on
        self.changed_ms = now

    def set_repeat(self, now: int, state: str) -> None:
        self.repeat = state
        self.changed_ms = now

    def set_volume(self, now: int, percent: int) -> None:
        device = self.active_device
        if device is not None:
            device.volume_percent = percent
        self.changed_ms = now

    def add_to_queue(self, now: int, track_id: str) -> None:
        self.queue.append(track_id)
        self.changed_ms = now

    def transfer(self, now: int, device_id: str, play: bool | None) -> None:
        self._settle(now)
        self.active_device_id = device_id
        if play is True and self.current is not None:
            self.is_playing = True
        elif play is False:
            self.is_playing = False
        self.changed_ms = now
