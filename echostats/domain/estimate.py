"""Estimating how long a polled play was really listened to, from now-playing samples.

Recently-played has no listened time, only ``played_at`` (the END). The poller samples
``currently-playing`` every few seconds; between two samples of the same track the progress
delta is the time played, which is exact across pauses (progress stops with the music). Jumps
that do not fit the wall-clock time between the samples are seeks: that interval counts as
played for its wall time (both samples playing) or half of it (one paused).

Guarantee, for samples at most Δ apart while the track is current and progress reported with
latency jitter ≤ J (≈ 1 s): without seeks the error is ≤ 2·J, because the deltas telescope and
only the first and last readings carry noise; each seek adds at most Δ + J (a short backward
seek is indistinguishable from slower progress), and a pause in the last interval (after the
last sample) at most Δ; other pauses cost nothing. In short: error ≤ 2·J + Δ·(seeks + 1).
Not covered: a seek before the first sample (a play *started* part-way into the track), because
the head (before the first sample) is the first progress reading. The tail (after the last
sample) is min(played_at - last sample, duration - last progress) while playing, 0 while paused.

Without samples the estimate falls back to min(duration, time since the previous play ended),
or the duration alone; every result is flagged estimated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class NowPlayingSample:
    taken_at: datetime  # aware UTC, when our request was answered
    track_id: str | None  # None while idle, during ads, or for episodes
    progress_ms: int | None
    is_playing: bool
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class RecentPlay:
    track_id: str
    played_at: datetime  # END of the play
    duration_ms: int | None


class EstimateMethod(StrEnum):
    SAMPLES = "samples"
    GAP = "gap"  # min(duration, time since the previous play ended)
    DURATION = "duration"
    NONE = "none"  # nothing known: 0 ms


@dataclass(frozen=True, slots=True)
class Estimate:
    ms_played: int
    method: EstimateMethod
    estimated: bool = True


DEFAULT_JITTER_MS = 1_500


def _ms_between(earlier: datetime, later: datetime) -> int:
    delta = later - earlier
    return (delta.days * 86_400 + delta.seconds) * 1_000 + delta.microseconds // 1_000


def _current_run(
    samples: Sequence[NowPlayingSample], item: RecentPlay, previous_ended_at: datetime | None
) -> list[NowPlayingSample]:
    """The last unbroken run of samples of this track before it ended, oldest first."""
    window = sorted(
        (
            s
            for s in samples
            if s.taken_at <= item.played_at
            and (previous_ended_at is None or s.taken_at > previous_ended_at)
        ),
        key=lambda s: s.taken_at,
    )
    run: list[NowPlayingSample] = []
    for sample in reversed(window):
        if sample.track_id != item.track_id or sample.progress_ms is None:
            break
        run.append(sample)
    run.reverse()
    return run


def _last_stream(
    run: list[NowPlayingSample], duration: int | None, jitter: int
) -> list[NowPlayingSample]:
    """Drop samples of an earlier stream of the same track (repeat: near end → near start)."""
    start = 0
    for index in range(1, len(run)):
        before, after = run[index - 1], run[index]
        wall = _ms_between(before.taken_at, after.taken_at)
        p0, p1 = before.progress_ms or 0, after.progress_ms or 0
        near_end = duration is not None and duration - p0 <= wall + jitter
        if p1 < p0 - jitter and p1 <= wall + jitter and near_end:
            start = index
    return run[start:]


def _from_samples(run: list[NowPlayingSample], item: RecentPlay, jitter: int) -> int:
    duration = item.duration_ms if item.duration_ms is not None else run[-1].duration_ms
    first = run[0]
    total = max(0, first.progress_ms or 0)
    if duration is not None:
        total = min(total, duration)
    for before, after in pairwise(run):
        wall = _ms_between(before.taken_at, after.taken_at)
        delta = (after.progress_ms or 0) - (before.progress_ms or 0)
        if -jitter <= delta <= wall + jitter:
            total += min(max(delta, 0), wall)
        elif before.is_playing and after.is_playing:
            total += wall  # a seek: it kept playing, only the position jumped
        elif before.is_playing or after.is_playing:
            total += wall // 2  # a seek and a pause/resume: which came first is unknown
    last = run[-1]
    if last.is_playing:
        tail = _ms_between(last.taken_at, item.played_at)
        if duration is not None:
            tail = min(tail, duration - (last.progress_ms or 0))
        total += max(0, tail)
    return total


def estimate_ms_played(
    samples: Sequence[NowPlayingSample],
    item: RecentPlay,
    previous_ended_at: datetime | None = None,
    *,
    jitter_ms: int = DEFAULT_JITTER_MS,
) -> Estimate:
    """Listened ms of ``item`` from the poller's samples (see the module docstring).

    ``samples`` may hold other tracks and older plays; only the last unbroken run of this track
    before ``played_at`` (and after ``previous_ended_at``, the end of the play before it) is used.
    """
    gap = (
        max(0, _ms_between(previous_ended_at, item.played_at))
        if previous_ended_at is not None
        else None
    )
    run = _current_run(samples, item, previous_ended_at)
    if run:
        run = _last_stream(run, item.duration_ms or run[-1].duration_ms, jitter_ms)
        total = _from_samples(run, item, jitter_ms)
        if gap is not None:
            # Nobody listens to one stream for longer than the time it had.
            total = min(total, gap)
        return Estimate(ms_played=total, method=EstimateMethod.SAMPLES)
    if item.duration_ms is not None and gap is not None:
        return Estimate(ms_played=min(item.duration_ms, gap), method=EstimateMethod.GAP)
    if item.duration_ms is not None:
        return Estimate(ms_played=item.duration_ms, method=EstimateMethod.DURATION)
    if gap is not None:
        return Estimate(ms_played=gap, method=EstimateMethod.GAP)
    return Estimate(ms_played=0, method=EstimateMethod.NONE)
