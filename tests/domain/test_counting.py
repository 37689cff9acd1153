from __future__ import annotations

import pytest

from echostats.domain.counting import CountingRules, decide, played_to_end
from echostats.domain.plays import SkipReason, TimePrecision
from tests.domain.factories import make_play


@pytest.mark.parametrize(
    ("ms", "reason_end", "duration", "expected"),
    [
        (30_000, None, None, None),
        (29_999, None, None, SkipReason.TOO_SHORT),
        (29_999, "fwdbtn", None, SkipReason.TOO_SHORT),
        (3_000, "trackdone", None, None),  # a short interlude that finished counts
        (0, "trackdone", None, SkipReason.TOO_SHORT),  # nothing played is never a listen
        (20_000, None, 21_000, None),  # within the 2 s end slack of the duration
        (20_000, None, 22_001, SkipReason.TOO_SHORT),
    ],
)
def test_default_rules(
    ms: int, reason_end: str | None, duration: int | None, expected: SkipReason | None
) -> None:
    play = make_play(ms_played=ms, reason_end=reason_end, duration_ms=duration)
    assert decide(play) is expected


def test_played_to_end_can_be_switched_off() -> None:
    play = make_play(ms_played=3_000, reason_end="trackdone")
    rules = CountingRules(count_if_played_to_end=False)
    assert played_to_end(play, rules)
    assert decide(play, rules) is SkipReason.TOO_SHORT


def test_incognito_and_video_opt_in() -> None:
    incognito = make_play(incognito=True)
    video = make_play(video=True)
    assert decide(incognito) is SkipReason.INCOGNITO
    assert decide(incognito, CountingRules(include_incognito=True)) is None
    assert decide(video) is SkipReason.VIDEO
    assert decide(video, CountingRules(include_videos=True)) is None
    # Opting in does not bypass the length rule.
    assert decide(make_play(video=True, ms_played=10), CountingRules(include_videos=True)) is (
        SkipReason.TOO_SHORT
    )


def test_threshold_is_configurable_and_same_for_poll_and_import() -> None:
    rules = CountingRules(min_ms=10_000)
    for source in ("poll", "import", "scrobble"):
        assert decide(make_play(ms_played=10_000, source=source), rules) is None
        assert decide(make_play(ms_played=9_999, source=source), rules) is SkipReason.TOO_SHORT


def test_a_scrobble_without_any_length_counts_and_one_with_a_length_is_judged() -> None:
    for precision in (TimePrecision.START, TimePrecision.START_MINUTE):
        bare = make_play(ms_played=0, precision=precision, source="scrobble")
        assert decide(bare) is None  # the scrobbler applied its rule; we know no length
        # With the length it sent, the usual rules judge it.
        judged = make_play(ms_played=20_000, duration_ms=25_000, precision=precision)
        assert decide(judged) is SkipReason.TOO_SHORT
        assert decide(make_play(ms_played=20_000, duration_ms=20_000, precision=precision)) is None
    # An end-stamped play with nothing played is still no listen.
    assert decide(make_play(ms_played=0)) is SkipReason.TOO_SHORT
