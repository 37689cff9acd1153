from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echostats.domain.dedup import UploadDuplicates, candidate_range, end_window, merge, same_play
from echostats.domain.plays import Play, TimePrecision
from tests.domain.factories import T0, make_play

MS, S, MIN = TimePrecision.MILLISECOND, TimePrecision.SECOND, TimePrecision.MINUTE


def _poll(offset: timedelta = timedelta(0), **kw: object) -> Play:
    values: dict[str, object] = {
        "ended_at": T0 + offset,
        "source": "poll",
        "precision": MS,
        "ms_played_estimated": True,
        "ms_played": 190_000,
        "artist_names": ("Rick Astley",),
        "artist_ids": ("0gxyHStUsqpMadRV0Di1Qt",),
        "album_id": "6XhjNHCyCDyyGJRM5mg40G",
        "duration_ms": 213_573,
        "context_type": "playlist",
    }
    values.update(kw)
    return make_play(**values)


def _account(offset: timedelta = timedelta(0), **kw: object) -> Play:
    return make_play(ended_at=T0 + offset, precision=MIN, track_id=None, album_name=None, **kw)


@pytest.mark.parametrize(
    ("a", "b", "offset", "same"),
    [
        (MS, MS, timedelta(seconds=1), True),
        (MS, MS, timedelta(milliseconds=1001), False),
        (S, S, timedelta(0), True),
        (S, S, timedelta(seconds=1), False),
        (MIN, MIN, timedelta(0), True),
        (MIN, MIN, timedelta(minutes=1), False),
        (MS, S, timedelta(seconds=10), True),
        (MS, S, timedelta(seconds=-10), True),
        (MS, S, timedelta(milliseconds=10_001), False),
        (S, MS, timedelta(milliseconds=-10_001), False),
        # account minute M: the finer end may lie in [M - 10 s, M + 70 s]
        (MIN, S, timedelta(seconds=70), True),
        (MIN, S, timedelta(seconds=71), False),
        (MIN, MS, timedelta(seconds=-10), True),
        (MIN, MS, timedelta(milliseconds=-10_001), False),
        (S, MIN, timedelta(seconds=-70), True),
        (S, MIN, timedelta(seconds=10), True),
        (S, MIN, timedelta(seconds=11), False),
    ],
)
def test_tolerance_edges(a: TimePrecision, b: TimePrecision, offset: timedelta, same: bool) -> None:
    first = make_play(precision=a)
    second = make_play(precision=b, ended_at=T0 + offset)
    assert same_play(first, second) is same


def test_different_user_or_track_is_never_the_same() -> None:
    assert not same_play(make_play(), make_play(user_id="u2"))
    assert not same_play(make_play(), make_play(track_id="other"))


def test_account_row_matches_a_play_with_an_id_by_name() -> None:
    account = _account(artist="RICK ASTLEY")
    assert same_play(account, _poll(timedelta(seconds=30)))
    assert same_play(_poll(timedelta(seconds=30)), account)
    assert not same_play(account, _poll(timedelta(seconds=30), track_name="Together Forever"))


def test_merge_prefers_the_export_row_and_fills_gaps() -> None:
    export = make_play(ended_at=T0 + timedelta(seconds=3), platform="ios", reason_end="trackdone")
    poll = _poll()
    for merged in (merge(poll, export), merge(export, poll)):
        assert merged.source == "import"
        assert (merged.ended_at, merged.ms_played, merged.precision) == (
            export.ended_at,
            200_000,
            S,
        )
        assert merged.ms_played_estimated is False
        assert (merged.platform, merged.reason_end) == ("ios", "trackdone")
        # filled from the polled play
        assert (merged.album_id, merged.duration_ms, merged.context_type) == (
            poll.album_id,
            213_573,
            "playlist",
        )
        assert merged.artist_ids == poll.artist_ids
        assert same_play(merged, export)  # re-importing the file still finds it


def test_merge_account_with_poll_takes_the_track_id() -> None:
    account = _account()
    merged = merge(account, _poll(timedelta(seconds=20)))
    assert merged.track_key == "spotify:track:4uLU6hMCjMI75M1A2tKUQC"
    assert (merged.precision, merged.ended_at, merged.source) == (MIN, T0, "import")
    assert same_play(merged, account)


def test_merge_prefers_extended_over_account_and_keeps_existing_on_ties() -> None:
    account, extended = _account(), make_play(ended_at=T0 + timedelta(seconds=5))
    assert merge(account, extended).precision is S
    assert merge(extended, account).precision is S
    again = make_play(platform="android")
    assert merge(extended, again) == make_play(
        ended_at=T0 + timedelta(seconds=5), platform="android"
    )
    assert merge(again, extended) == again
    poll_a, poll_b = _poll(), _poll(timedelta(milliseconds=500), ms_played=1)
    assert merge(poll_a, poll_b) is poll_a


@given(
    stored=st.sampled_from(list(TimePrecision)),
    incoming=st.sampled_from(list(TimePrecision)),
    offset_ms=st.integers(min_value=-200_000, max_value=200_000),
)
def test_candidate_range_holds_every_match(
    stored: TimePrecision, incoming: TimePrecision, offset_ms: int
) -> None:
    new = make_play(precision=incoming)
    old = make_play(precision=stored, ended_at=T0 + timedelta(milliseconds=offset_ms))
    low, high = candidate_range(new)
    if same_play(old, new):
        assert low <= old.ended_at <= high
    window = end_window(stored, incoming)
    assert window[0] <= window[1]


def test_upload_duplicates_exact_repeats() -> None:
    detector = UploadDuplicates()
    play = make_play()
    assert detector.seen(play) is False
    assert detector.seen(play) is True
    assert detector.seen(make_play(ended_at=T0 + timedelta(seconds=1))) is False
    assert detector.seen(make_play(track_id="other")) is False
    assert len(detector) == 3


def test_upload_duplicates_memory_is_bounded() -> None:
    detector = UploadDuplicates(horizon=timedelta(hours=1), max_entries=50)
    plays = [make_play(ended_at=T0 + timedelta(minutes=i)) for i in range(200)]
    for play in plays:
        assert detector.seen(play) is False
        assert len(detector) <= 50
    # recent ones are still remembered, old ones have been forgotten
    assert detector.seen(plays[-1]) is True
    assert detector.seen(plays[0]) is False
    # with room to spare, the horizon alone limits memory
    by_time = UploadDuplicates(horizon=timedelta(minutes=10))
    for play in plays:
        by_time.seen(play)
    assert len(by_time) == 11


def test_upload_duplicates_tolerate_slightly_unsorted_rows() -> None:
    detector = UploadDuplicates(horizon=timedelta(hours=1))
    rows = [make_play(ended_at=T0 + timedelta(minutes=m)) for m in (0, 5, 3, 10, 3, 5)]
    assert [detector.seen(p) for p in rows] == [False, False, False, False, True, True]


def test_upload_duplicates_rejects_zero_capacity() -> None:
    with pytest.raises(ValueError):
        UploadDuplicates(max_entries=0)
