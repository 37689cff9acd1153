"""The poller: live ingestion of one user's listening (run by ``poll_manager``, one per user).

Each round samples the player (``GET /me/player``: the currently-playing fields plus the device
the now-playing stream shows), publishes ``now_playing``/``idle`` when the state changed, and
reads recently-played with the ``after`` cursor when a track changed or ``recent_interval`` has
passed (and again soon after a track change until the finished play shows: Spotify lists it a
few seconds late). Read plays get a listened-time estimate from the samples, go to the
aggregator, and only once it acknowledged them does the stored cursor move: a crash in between
re-sends them and the aggregator drops the duplicates. A full page means plays may have been
lost; that is checked and recorded as a gap.

Failures: rate limits and quota wait exactly ``Retry-After``; Spotify outages back off
exponentially; a rejected sign-in marks the tokens and ends this user's polling; a database
hiccup pauses the round and retries it with everything still in memory.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from actors import topics
from actors.asking import ask
from actors.events import Event, event_of, now_playing_payload
from actors.messages import AggregatorMessage, BatchOutcome, PlayBatch
from actors.timing import Timing
from echostats.domain.estimate import NowPlayingSample, RecentPlay, estimate_ms_played
from echostats.domain.plays import Play
from echostats.domain.polling import (
    NowPlaying,
    judge_page,
    lost_range,
    sample_interval,
    state_changed,
    track_changed,
)
from echostats.domain.recent import BadHistoryItem, play_from_history_item
from echostats.errors import (
    SpotifyError,
    SpotifyRateLimited,
    SpotifyReauthRequired,
    SpotifyUnavailable,
    StoreUnavailable,
)
from echostats.spotify import SpotifyClient
from echostats.spotify.models import Track
from echostats.spotify.player_models import PlaybackState, PlayHistory
from echostats.store.leases import Leases, poll_lease
from echostats.store.poll_state import Gap, PollState
from echostats.store.tokens import EncryptedTokenStore

log = logging.getLogger(__name__)

MAX_SAMPLES = 2_000  # ~3 h of samples at 5 s: far more than any one track needs
# How long the aggregator may take to acknowledge a batch before it is sent again (real time:
# it guards I/O, and a crashed aggregator never answers).
ACK_TIMEOUT = 60.0
MAX_BACKOFF = 300.0


@dataclass(frozen=True)
class PollerConfig:
    playing_interval: float = 5.0
    idle_interval: float = 60.0
    recent_interval: float = 180.0  # longest wait between recently-played reads while playing
    recent_idle_interval: float = 1800.0  # ... and while nothing plays
    lease_ttl: float = 60.0
    store_retry: float = 2.0

    @property
    def lease_renew(self) -> float:
        return self.lease_ttl / 3


@dataclass
class PollerDeps:
    spotify: SpotifyClient
    tokens: EncryptedTokenStore
    state: PollState
    leases: Leases
    to_aggregator: MemoryObjectSendStream[AggregatorMessage]
    publish: Callable[[Event], Event]
    timing: Timing
    config: PollerConfig
    # Told after each successful round and when this user's polling ends (poll lag metric).
    on_polled: Callable[[str], None] = field(default=lambda user_id: None)
    on_stopped: Callable[[str], None] = field(default=lambda user_id: None)


class LeaseLost(Exception):
    """Another instance polls this user now."""


def snapshot(state: PlaybackState | None, at: datetime) -> NowPlaying:
    item = state.item if state is not None else None
    if state is None or item is None:
        return NowPlaying(None, None, (), None, None, None, None, False, None, at)
    if isinstance(item, Track):
        album = item.album
        artists = tuple(a.name for a in item.artists)
        images = album.images if album is not None else []
    else:  # a podcast episode: the show's artwork, no artists or album
        album, artists, images = None, (), item.images
    return NowPlaying(
        track_id=item.id,
        track_name=item.name,
        artists=artists,
        album=album.name if album is not None else None,
        image_url=images[0].url if images else None,
        progress_ms=state.progress_ms,
        duration_ms=item.duration_ms,
        is_playing=state.is_playing,
        device=state.device.name if state.device is not None else None,
        at=at,
    )


class UserPoller:
    def __init__(self, user_id: str, deps: PollerDeps) -> None:
        self.user_id = user_id
        self._d = deps
        self._cfg = deps.config
        self._t = deps.timing
        self._samples: deque[NowPlayingSample] = deque(maxlen=MAX_SAMPLES)
        self._last: NowPlaying | None = None
        self._interval = deps.config.playing_interval
        self._recent_due = 0.0  # monotonic time of the next recently-played read
        self._awaiting: float | None = None  # retry delay while a finished play has not shown
        self._lease_due = 0.0
        self._backoff = 0.0

    # --- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until cancelled, the lease is lost or the person must sign in again."""
        key = poll_lease(self.user_id)
        try:
            while True:
                try:
                    await self._renew_lease(key)
                    wait = await self._round()
                    self._backoff = 0.0
                    self._d.on_polled(self.user_id)
                except SpotifyReauthRequired as exc:
                    await self._stop_for_reauth(exc)
                    return
                except SpotifyRateLimited as exc:
                    wait = max(exc.retry_after, 1.0)
                    log.warning(
                        "Spotify asked the poller to wait",
                        extra={"user_id": self.user_id, "retry_after": wait},
                    )
                except SpotifyUnavailable:
                    wait = self._next_backoff()
                    log.warning(
                        "Spotify unavailable; poller backs off",
                        extra={"user_id": self.user_id, "wait": wait},
                    )
                except SpotifyError as exc:
                    wait = max(self._cfg.idle_interval, self._next_backoff())
                    log.warning(
                        "Spotify refused a poll",
                        extra={"user_id": self.user_id, "status": exc.status, "wait": wait},
                    )
                except (StoreUnavailable, TimeoutError) as exc:
                    wait = self._cfg.store_retry
                    log.warning(
                        "database unavailable; poller pauses",
                        extra={"user_id": self.user_id, "error": type(exc).__name__},
                    )
                await self._wait(wait, key)
        except LeaseLost:
            log.info("another instance polls this user now", extra={"user_id": self.user_id})
        finally:
            self._d.on_stopped(self.user_id)

    def _next_backoff(self) -> float:
        self._backoff = min(MAX_BACKOFF, max(self._cfg.playing_interval, self._backoff * 2))
        return self._backoff

    async def _wait(self, seconds: float, key: str) -> None:
        """Sleep, waking to renew the lease so a long Retry-After does not lose it."""
        deadline = self._t.monotonic() + seconds
        # Under a millisecond is done: a clock of whole milliseconds never closes that gap.
        while (left := deadline - self._t.monotonic()) >= 0.001:
            await self._t.sleep(min(left, self._cfg.lease_renew))
            if self._t.monotonic() < deadline:
                # A failed renewal is retried by the round after the wait.
                with contextlib.suppress(StoreUnavailable):
                    await self._renew_lease(key)

    async def _renew_lease(self, key: str) -> None:
        if self._t.monotonic() < self._lease_due:
            return
        if not await self._d.leases.acquire(key, self._t.now(), self._cfg.lease_ttl):
            raise LeaseLost(key)
        self._lease_due = self._t.monotonic() + self._cfg.lease_renew

    async def _stop_for_reauth(self, exc: SpotifyReauthRequired) -> None:
        log.warning("Spotify sign-in rejected; polling stops", extra={"user_id": self.user_id})
        with anyio.move_on_after(10), contextlib.suppress(StoreUnavailable):
            await self._d.tokens.mark_reauth_required(self.user_id, exc.detail)

    # --- one round -----------------------------------------------------------------------------

    async def _round(self) -> float:
        state = await self._d.spotify.playback_state(self.user_id)
        now = self._t.now()
        current = snapshot(state, now)
        self._samples.append(
            NowPlayingSample(
                taken_at=now,
                track_id=current.track_id,
                progress_ms=current.progress_ms,
                is_playing=current.is_playing,
                duration_ms=current.duration_ms,
            )
        )
        previous, self._last = self._last, current
        if state_changed(previous, current):
            topic = topics.now_playing(self.user_id)
            self._d.publish(event_of(topic, now_playing_payload(current)))
        playing = current.is_playing and not current.idle
        changed = track_changed(previous, current)
        if changed:
            # A play probably finished; Spotify lists it a little later, so until it shows,
            # look again soon: after one sampling interval, then twice as long each time.
            self._awaiting = self._cfg.playing_interval
        if changed or self._t.monotonic() >= self._recent_due:
            fresh = await self._read_recent()
            every = self._cfg.recent_interval if playing else self._cfg.recent_idle_interval
            if fresh:
                self._awaiting = None
            elif self._awaiting is not None:
                every, self._awaiting = min(every, self._awaiting), self._awaiting * 2
                if self._awaiting > self._cfg.recent_interval:
                    self._awaiting = None  # a skip too short to be listed: stop asking
            self._recent_due = self._t.monotonic() + every
        self._interval = sample_interval(
            current, self._interval, self._cfg.playing_interval, self._cfg.idle_interval
        )
        return self._interval

    async def _read_recent(self) -> bool:
        """Read and store the plays after the cursor; True when there were any."""
        cursor = await self._d.state.cursor(self.user_id)
        page = await self._d.spotify.recently_played(self.user_id, limit=50, after=cursor)
        items = list(page.items)
        verdict = judge_page(cursor, [_ms(i.played_at) for i in items])
        if verdict.needs_check and cursor is not None:
            newest = await self._d.spotify.recently_played(self.user_id, limit=50)
            lost = lost_range(cursor, [_ms(i.played_at) for i in newest.items])
            if lost is not None:
                await self._record_gap(*lost)
            known = {(_ms(i.played_at), i.track.id) for i in items}
            items += [
                i
                for i in newest.items
                if _ms(i.played_at) > cursor and (_ms(i.played_at), i.track.id) not in known
            ]
        if not items:
            return False
        plays = self._plays(items, cursor)
        if plays:
            await self._submit(plays)
        newest_ms = max(_ms(i.played_at) for i in items)
        await self._d.state.advance(self.user_id, newest_ms, self._t.now())
        # Samples older than the cursor belong to plays that are stored now.
        cut = _from_ms(newest_ms) - timedelta(minutes=1)
        while self._samples and self._samples[0].taken_at < cut:
            self._samples.popleft()
        return True

    async def _record_gap(self, start_ms: int, end_ms: int) -> None:
        gap = Gap(self.user_id, _from_ms(start_ms), _from_ms(end_ms), self._t.now())
        log.warning(
            "plays were lost between two reads of recently-played",
            extra={
                "user_id": self.user_id,
                "from": gap.start.isoformat(),
                "to": gap.end.isoformat(),
            },
        )
        await self._d.state.record_gap(gap)

    def _plays(self, items: Sequence[PlayHistory], cursor: int | None) -> list[Play]:
        plays = []
        previous_end = _from_ms(cursor) if cursor is not None else None
        for item in sorted(items, key=lambda i: i.played_at):
            played_at = item.played_at.astimezone(UTC)
            estimate = estimate_ms_played(
                self._samples,
                RecentPlay(item.track.id or "", played_at, item.track.duration_ms),
                previous_end,
            )
            previous_end = played_at
            try:
                plays.append(
                    play_from_history_item(
                        item.model_dump(mode="json"),
                        self.user_id,
                        ms_played=estimate.ms_played,
                        estimated=True,
                    )
                )
            except BadHistoryItem as exc:
                log.warning(
                    "unusable recently-played item",
                    extra={"user_id": self.user_id, "reason": str(exc)},
                )
        return plays

    async def _submit(self, plays: list[Play]) -> BatchOutcome:
        # No answer (the aggregator stopped with the batch, or the database is too slow) is a
        # StoreUnavailable: the round is retried later and the plays are read again.
        outcome = await ask(
            self._d.to_aggregator,
            lambda reply: PlayBatch(self.user_id, tuple(plays), reply=reply),
            BatchOutcome,
            what="Storing the polled plays",
            timeout=ACK_TIMEOUT,
        )
        log.info(
            "polled plays stored",
            extra={
                "user_id": self.user_id,
                "stored": outcome.stored,
                "duplicates": outcome.duplicates,
            },
        )
        return outcome


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _ms(when: datetime) -> int:
    # Integer arithmetic: a float timestamp can round 1 ms down, and the cursor is exclusive.
    return (when - _EPOCH) // _MS


def _from_ms(ms: int) -> datetime:
    return _EPOCH + ms * _MS
