"""The virtual listener that makes demo mode feel alive.

It plays through albums, playlists and artists in sessions, sometimes skips, pauses, switches
devices, and goes idle between sessions. Every decision is drawn from the listener's own seeded
RNG at the simulated instant it is taken (a track start, a session start), never at request time,
so the same seed and the same API calls give the same plays however often the app polls.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from echostats.simulator.past import Past
from echostats.simulator.playback import Player

MINUTE_MS = 60_000


@dataclass
class Habits:
    """Probabilities and ranges of the listener's behaviour (ms where it is a duration)."""

    skip_chance: float = 0.12
    pause_chance: float = 0.04
    transfer_chance: float = 0.03
    shuffle_chance: float = 0.3
    session_tracks: tuple[int, int] = (3, 15)
    pause_ms: tuple[int, int] = (30_000, 20 * MINUTE_MS)
    # Short coffee breaks, an hour or two away, or a night's sleep.
    idle_ms: tuple[tuple[float, int, int], ...] = (
        (0.4, 1 * MINUTE_MS, 10 * MINUTE_MS),
        (0.4, 20 * MINUTE_MS, 120 * MINUTE_MS),
        (0.2, 180 * MINUTE_MS, 600 * MINUTE_MS),
    )


# A demo's listener from the moment someone may be watching: short breaks only, so whoever opens
# the dashboard sees music playing (the history behind it keeps the ordinary habits).
PRESENT = Habits(pause_ms=(5_000, 20_000), idle_ms=((1.0, 5_000, 30_000),))


@dataclass
class Listener:
    player: Player
    rng: random.Random
    contexts: list[str]
    resolve: Callable[[str], list[str] | None]
    habits: Habits = field(default_factory=Habits)
    past: Past | None = None  # chooses the sessions of a back-filled history
    next_action_ms: int | None = None
    action: str = "session"
    target_track: str | None = None
    resume_after_ms: int = 0
    session_left: int = 0
    active: bool = True

    def start(self, at_ms: int) -> None:
        self.player.hooks.on_track_start = self._on_track_start
        self.player.hooks.on_idle = self._on_idle
        self._schedule(at_ms, "session")

    def wake(self, now: int) -> None:
        """Start the next session (or resume the pause) now rather than later."""
        waiting = self.action in ("session", "resume") and self.next_action_ms is not None
        if self.active and waiting and not self.player.is_playing:
            self.next_action_ms = min(self.next_action_ms or now, now)

    def stop(self) -> None:
        self.active = False
        self.next_action_ms = None

    def _schedule(self, at_ms: int, action: str, track: str | None = None) -> None:
        self.next_action_ms = at_ms
        self.action = action
        self.target_track = track

    # --- reacting to the player ----------------------------------------------------------

    def _on_track_start(self, track_id: str, now: int) -> None:
        if not self.active:
            return
        self.session_left -= 1
        if self.session_left <= 0:
            self.player.stop_after_current = True
        duration = self.player.durations(track_id)
        roll = self.rng.random()
        if roll < self.habits.skip_chance:
            at = now + self.rng.randint(3_000, max(3_000, min(90_000, duration - 1_000)))
            self._schedule(at, "skip", track_id)
        elif roll < self.habits.skip_chance + self.habits.pause_chance:
            at = now + self.rng.randint(duration // 10, duration * 9 // 10)
            self.resume_after_ms = self.rng.randint(*self.habits.pause_ms)
            self._schedule(at, "pause", track_id)
        elif (
            roll < self.habits.skip_chance + self.habits.pause_chance + self.habits.transfer_chance
        ):
            self._schedule(now + self.rng.randint(5_000, 60_000), "transfer", track_id)
        else:
            self.next_action_ms = None

    def _on_idle(self, now: int) -> None:
        if not self.active:
            return
        weights = [w for w, _, _ in self.habits.idle_ms]
        _, low, high = self.rng.choices(self.habits.idle_ms, weights=weights)[0]
        self._schedule(now + self.rng.randint(low, high), "session")

    # --- acting --------------------------------------------------------------------------

    def act(self, now: int) -> None:
        """Carry out the scheduled action; the world calls this at ``next_action_ms``."""
        action, track = self.action, self.target_track
        self.next_action_ms = None
        player = self.player
        still_on_it = track is not None and player.current == track
        if action == "session":
            self._start_session(now)
        elif action == "skip" and still_on_it and player.is_playing:
            player.next(now)
        elif action == "pause" and still_on_it and player.is_playing:
            player.pause(now)
            self._schedule(now + self.resume_after_ms, "resume", track)
        elif action == "resume" and still_on_it and not player.is_playing:
            player.resume(now)
        elif action == "transfer" and still_on_it and len(player.devices) > 1:
            others = [d for d in player.devices if d.id != player.active_device_id]
            player.transfer(now, self.rng.choice(others).id, play=True)

    def _start_session(self, now: int) -> None:
        player = self.player
        playable = [d for d in player.devices if not d.is_restricted]
        if not playable or not self.contexts:
            return
        self.session_left = self.rng.randint(*self.habits.session_tracks)
        chosen = None
        if self.past is not None and now < self.past.until_ms:
            chosen = self.past.session(now, self.rng, self.session_left)
        if chosen is None:
            picked = self.rng.choice(self.contexts)
            chosen = picked, self._tracks_of(picked)
        context, tracks = chosen
        if not tracks:
            self._on_idle(now)
            return
        # Mostly the device used last; sometimes another one (phone on the go, speaker at home).
        last = player.active_device_id
        device = next((d for d in playable if d.id == last), None)
        if device is None or self.rng.random() < 0.3:
            device = self.rng.choice(playable)
        player.set_shuffle(now, self.rng.random() < self.habits.shuffle_chance)
        start = self.rng.randrange(len(tracks)) if player.shuffle else 0
        player.play(now, tracks=tracks, context_uri=context, start_index=start, device_id=device.id)

    def _tracks_of(self, context: str) -> list[str]:
        return self.resolve(context) or []
