from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echostats.domain.dedup import (
    MAX_SPAN,
    UploadDuplicates,
    candidate_range,
    compares_starts,
    end_window,
    merge,
    same_play,
    start_window,
)
from echostats.domain.plays import Play, TimePrecision
from tests.domain.factories import T0, make_play

MS, S, MIN = TimePrecision.MILLISECOND, TimePrecision.SECOND, TimePrecision.MINUTE
START, START_MIN = TimePrecision.START, TimePrecision.START_MINUTE


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
    if compares_starts(stored, incoming):
        window = start_window(stored, incoming)
    else:
        window = end_window(stored, incoming)
    assert window[0] <= window[1]


def _scrobble(start_offset: timedelta = timedelta(0), **kw: object) -> Play:
    """A ListenBrainz listen of the polled play below: stamped at its start."""
    values: dict[str, object] = {
        "source": "scrobble",
        "precision": START,
        "ms_played": 213_573,
        "ms_played_estimated": True,
        "duration_ms": 213_573,
        "album_name": "Whenever You Need Somebody",
        "track_id": None,
    }
    values.update(kw)
    start = T0 - timedelta(milliseconds=190_000) + start_offset
    length = timedelta(milliseconds=int(str(values["ms_played"])))
    return make_play(ended_at=start + length, **values)


@pytest.mark.parametrize(
    ("a", "b", "start_offset", "same"),
    [
        # second-precision starts, from two devices' clocks: within 10 s
        (START, START, timedelta(seconds=10), True),
        (START, START, timedelta(seconds=-10), True),
        (START, START, timedelta(seconds=11), False),
        (START, MS, timedelta(seconds=-10), True),
        (MS, START, timedelta(seconds=10), True),
        (MS, START, timedelta(seconds=-11), False),
        (S, START, timedelta(seconds=10), True),
        (START, S, timedelta(seconds=11), False),
        # a minute-truncated stamp M: the second-precision start lies in [M - 10 s, M + 70 s]
        (START_MIN, START, timedelta(seconds=70), True),
        (START_MIN, START, timedelta(seconds=71), False),
        (START_MIN, MS, timedelta(seconds=-10), True),
        (START_MIN, MS, timedelta(seconds=-11), False),
        (START, START_MIN, timedelta(seconds=-70), True),
        (START, START_MIN, timedelta(seconds=11), False),
        # two rows of the same minute-precision export: only equal stamps
        (START_MIN, START_MIN, timedelta(0), True),
        (START_MIN, START_MIN, timedelta(minutes=1), False),
        # both truncated to the minute (account data's start is end - ms_played)
        (MIN, START_MIN, timedelta(seconds=70), True),
        (MIN, START_MIN, timedelta(seconds=-70), True),
        (MIN, START_MIN, timedelta(seconds=71), False),
    ],
)
def test_scrobbles_are_matched_by_their_start(
    a: TimePrecision, b: TimePrecision, start_offset: timedelta, same: bool
) -> None:
    first = make_play(precision=a)
    second = make_play(precision=b, started_at=first.started_at + start_offset)
    assert same_play(first, second) is same


def test_a_scrobble_and_the_polled_play_match_whatever_its_estimated_end() -> None:
    poll = _poll()  # started 190 s before T0: ended_at - ms_played
    # Listened to the end: the scrobble's end (start + length) falls near the poll's end.
    assert same_play(poll, _scrobble(timedelta(seconds=2)))
    # Skipped after 100 s of a 214 s track: the scrobble's end is 114 s after the real end,
    # yet the starts agree.
    skipped = _poll(timedelta(seconds=-90), ms_played=100_000)
    assert same_play(_scrobble(timedelta(seconds=-3)), skipped)
    # The scrobble without any length ends where it starts.
    bare = _scrobble(ms_played=0, duration_ms=None, ms_played_estimated=True)
    assert same_play(poll, bare)
    # The next play of the same track (on repeat) starts 214 s later: never the same.
    again = _poll(timedelta(milliseconds=213_573))
    assert not same_play(again, _scrobble())
    assert not same_play(_scrobble(), again)


def test_a_scrobble_matches_by_name_when_it_has_no_spotify_id() -> None:
    assert same_play(_poll(), _scrobble(artist="rick astley"))
    assert not same_play(_poll(), _scrobble(track_name="Together Forever"))


def test_merge_prefers_the_polled_play_over_a_scrobble_and_fills_its_gaps() -> None:
    poll = _poll(album_name=None)
    scrobble = _scrobble(timedelta(seconds=1))
    for merged in (merge(poll, scrobble), merge(scrobble, poll)):
        assert merged.source == "poll"
        assert (merged.ended_at, merged.precision, merged.ms_played) == (T0, MS, 190_000)
        assert merged.album_name == "Whenever You Need Somebody"  # filled from the scrobble
        assert merged.track_key == "spotify:track:4uLU6hMCjMI75M1A2tKUQC"
        assert same_play(merged, scrobble)  # the same listen sent again still finds it
    # An export row wins over both; a second-precision scrobble over a minute-precision one.
    export = make_play(ended_at=T0 + timedelta(seconds=2))
    assert merge(scrobble, export).source == "import"
    minute = _scrobble(precision=START_MIN)
    assert merge(minute, scrobble).precision is START
    assert merge(scrobble, minute).precision is START


def test_candidate_range_reaches_a_stored_scrobble_up_to_max_span() -> None:
    poll = _poll()
    low, high = candidate_range(poll)
    long_scrobble = _scrobble(ms_played=int(MAX_SPAN.total_seconds() * 1000))
    assert same_play(long_scrobble, poll)
    assert low <= long_scrobble.ended_at <= high
    low, high = candidate_range(long_scrobble)
    assert low <= poll.ended_at <= high


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
