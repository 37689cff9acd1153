from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from echostats.domain.estimate import (
    DEFAULT_JITTER_MS,
    EstimateMethod,
    NowPlayingSample,
    RecentPlay,
    estimate_ms_played,
)

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
TRACK = "4uLU6hMCjMI75M1A2tKUQC"
STEP = 100  # simulation resolution, ms


@dataclass
class Run:
    samples: list[NowPlayingSample]
    item: RecentPlay
    truth: int
    seeks: int


def _at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def simulate(
    duration: int,
    interval: int,
    offset: int,
    events: list[tuple[int, str, int]],
    stop_at: int,
) -> Run:
    """Play one stream from position 0 at T0; events are (time, "pause"|"resume"|"seek", pos).

    The stream ends at the natural end or at ``stop_at`` (a skip), whichever comes first; the
    poller samples every ``interval`` ms starting at ``offset``.
    """
    pending = sorted(events)
    position, playing, listened, now = 0, True, 0, 0
    samples: list[NowPlayingSample] = []
    next_sample = offset
    seeks = 0
    while now < stop_at and position < duration:
        while pending and pending[0][0] <= now:
            _, kind, target = pending.pop(0)
            if kind == "pause":
                playing = False
            elif kind == "resume":
                playing = True
            else:
                position, seeks = min(target, duration - STEP), seeks + 1
        if now >= next_sample:
            samples.append(NowPlayingSample(_at(now), TRACK, position, playing, duration))
            next_sample += interval
        if playing:
            position += STEP
            listened += STEP
        now += STEP
    return Run(samples, RecentPlay(TRACK, _at(now), duration), listened, seeks)


def _estimate(run: Run) -> int:
    result = estimate_ms_played(
        run.samples, run.item, previous_ended_at=T0 - timedelta(milliseconds=1)
    )
    assert result.estimated
    assert result.method is EstimateMethod.SAMPLES
    return result.ms_played


def test_uninterrupted_play_to_the_end_is_exact() -> None:
    run = simulate(200_000, 5_000, 1_300, [], stop_at=10**9)
    assert run.truth == 200_000
    assert abs(_estimate(run) - run.truth) <= STEP


def test_skip_part_way_is_exact() -> None:
    run = simulate(200_000, 5_000, 2_000, [], stop_at=47_300)
    assert abs(_estimate(run) - run.truth) <= STEP


def test_a_pause_costs_nothing() -> None:
    run = simulate(
        180_000, 3_000, 500, [(20_000, "pause", 0), (95_000, "resume", 0)], stop_at=10**9
    )
    assert run.truth == 180_000  # 75 s of pause are not listening
    assert abs(_estimate(run) - run.truth) <= STEP


def test_forward_and_backward_seeks_stay_within_one_interval_each() -> None:
    interval = 5_000
    events = [(30_000, "seek", 150_000), (60_000, "seek", 10_000)]
    run = simulate(240_000, interval, 1_000, events, stop_at=10**9)
    error = abs(_estimate(run) - run.truth)
    assert error <= 2 * (interval + DEFAULT_JITTER_MS)
    # and the naive "duration" answer would be far off
    assert abs(240_000 - run.truth) > 20_000


def test_pause_then_skip_after_the_last_sample() -> None:
    run = simulate(200_000, 5_000, 0, [(61_000, "pause", 0)], stop_at=90_000)
    # paused at 61 s, skipped at 90 s while paused: 61 s listened
    assert run.truth == 61_000
    assert abs(_estimate(run) - run.truth) <= STEP


@settings(max_examples=200, deadline=None)
@given(
    duration=st.integers(min_value=30, max_value=400).map(lambda s: s * 1_000),
    interval=st.sampled_from([1_000, 3_000, 5_000, 10_000]),
    offset_steps=st.integers(min_value=0, max_value=99),
    raw_events=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=4_000),
            st.sampled_from(["pause", "resume", "seek"]),
            st.integers(min_value=0, max_value=400),
        ),
        max_size=5,
    ),
    stop_steps=st.integers(min_value=1, max_value=6_000),
)
def test_estimate_is_within_the_stated_tolerance(
    duration: int,
    interval: int,
    offset_steps: int,
    raw_events: list[tuple[int, str, int]],
    stop_steps: int,
) -> None:
    offset = offset_steps * interval // 100 // STEP * STEP
    # The guarantee covers events after the first sample (see estimate's docstring).
    events = [(offset + t * STEP, kind, pos * 1_000) for t, kind, pos in raw_events]
    run = simulate(duration, interval, offset, events, stop_at=offset + stop_steps * STEP)
    if not run.samples:
        return
    bound = run.seeks * (interval + DEFAULT_JITTER_MS) + interval + 2 * STEP
    assert abs(_estimate(run) - run.truth) <= bound


def test_only_the_last_stream_of_a_repeated_track_counts() -> None:
    first = simulate(60_000, 5_000, 1_000, [], stop_at=10**9)
    # repeat-one: the same track starts again right away and is skipped after 20 s
    second_samples = [
        NowPlayingSample(s.taken_at + timedelta(seconds=60), TRACK, s.progress_ms, True, 60_000)
        for s in first.samples
        if s.taken_at < _at(20_000)
    ]
    played_at = _at(80_000)
    result = estimate_ms_played(
        first.samples + second_samples, RecentPlay(TRACK, played_at, 60_000)
    )
    assert abs(result.ms_played - 20_000) <= STEP


def test_samples_of_other_tracks_and_older_plays_are_ignored() -> None:
    run = simulate(100_000, 5_000, 1_000, [], stop_at=40_000)
    other = [NowPlayingSample(_at(-10_000), "other", 5_000, True, 100_000)]
    later = [NowPlayingSample(_at(41_000), TRACK, 1_000, True, 100_000)]  # the next stream
    stale = [NowPlayingSample(_at(-20_000), TRACK, 90_000, True, 100_000)]
    result = estimate_ms_played(stale + other + run.samples + later, run.item)
    assert abs(result.ms_played - run.truth) <= STEP
    idle_between = [NowPlayingSample(_at(-5_000), None, None, False, None)]
    result = estimate_ms_played(stale + idle_between + run.samples, run.item)
    assert abs(result.ms_played - run.truth) <= STEP


def test_fallbacks_without_samples() -> None:
    item = RecentPlay(TRACK, T0, 200_000)
    gap = estimate_ms_played([], item, previous_ended_at=T0 - timedelta(seconds=90))
    assert (gap.ms_played, gap.method, gap.estimated) == (90_000, EstimateMethod.GAP, True)
    long_gap = estimate_ms_played([], item, previous_ended_at=T0 - timedelta(hours=3))
    assert (long_gap.ms_played, long_gap.method) == (200_000, EstimateMethod.GAP)
    alone = estimate_ms_played([], item)
    assert (alone.ms_played, alone.method) == (200_000, EstimateMethod.DURATION)
    no_duration = RecentPlay(TRACK, T0, None)
    assert estimate_ms_played([], no_duration, T0 - timedelta(seconds=42)).ms_played == 42_000
    nothing = estimate_ms_played([], no_duration)
    assert (nothing.ms_played, nothing.method) == (0, EstimateMethod.NONE)


def test_estimate_never_exceeds_the_time_available() -> None:
    samples = [NowPlayingSample(_at(0), TRACK, 150_000, True, 200_000)]
    result = estimate_ms_played(samples, RecentPlay(TRACK, _at(10_000), 200_000), _at(-20_000))
    assert result.ms_played == 30_000
