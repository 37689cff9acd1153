from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echostats.domain.periods import (
    Granularity,
    PeriodError,
    bucket_label,
    local_midnight,
    parse_tz,
    resolve_range,
    trend_buckets,
)

NOW = datetime(2024, 4, 2, 10, 0, tzinfo=UTC)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(hours=1)


def test_berlin_spring_forward_day_has_23_hours() -> None:
    r = resolve_range(tz="Europe/Berlin", now=NOW, start="2024-03-31", end="2024-03-31")
    assert r.days == (date(2024, 3, 31),)
    assert r.start == datetime(2024, 3, 30, 23, tzinfo=UTC)
    assert r.end == datetime(2024, 3, 31, 22, tzinfo=UTC)
    assert _hours(r.start, r.end) == 23
    assert r.whole_days
    assert r.period == "custom"


def test_new_york_fall_back_day_has_25_hours() -> None:
    r = resolve_range(tz="America/New_York", now=NOW, start="2024-11-03", end="2024-11-03")
    assert r.start == datetime(2024, 11, 3, 4, tzinfo=UTC)
    assert r.end == datetime(2024, 11, 4, 5, tzinfo=UTC)
    assert _hours(r.start, r.end) == 25


def test_named_periods_are_whole_local_days_ending_today() -> None:
    # 10:00 UTC on 2 April is 19:00 in Tokyo and 03:00 in Los Angeles, both still 2 April.
    week = resolve_range(tz="Asia/Tokyo", now=NOW, period="week")
    assert week.days == tuple(date(2024, 3, 27) + timedelta(days=i) for i in range(7))
    assert week.start == datetime(2024, 3, 26, 15, tzinfo=UTC)
    assert week.end == datetime(2024, 4, 2, 15, tzinfo=UTC)
    assert week.granularity is Granularity.DAY
    late = datetime(2024, 4, 2, 23, 30, tzinfo=UTC)  # already 3 April in Berlin
    assert resolve_range(tz="Europe/Berlin", now=late, period="week").days[-1] == date(2024, 4, 3)
    for period, days, granularity in [
        ("month", 30, Granularity.DAY),
        ("quarter", 90, Granularity.WEEK),
        ("year", 365, Granularity.MONTH),
    ]:
        r = resolve_range(tz="Europe/Berlin", now=NOW, period=period)
        assert len(r.days) == days
        assert r.granularity is granularity
        assert r.days[-1] == date(2024, 4, 2)
    # the month across the Berlin DST change is one hour short of 30 x 24
    month = resolve_range(tz="Europe/Berlin", now=NOW, period="month")
    assert _hours(month.start, month.end) == 30 * 24 - 1


def test_default_period_is_month() -> None:
    assert resolve_range(tz="UTC", now=NOW).period == "month"


def test_all_time_runs_from_the_earliest_day() -> None:
    r = resolve_range(tz="UTC", now=NOW, period="all_time", earliest=date(2023, 12, 30))
    assert (r.days[0], r.days[-1], len(r.days)) == (date(2023, 12, 30), date(2024, 4, 2), 95)
    assert [b.label for b in trend_buckets(r)] == [
        "2023-12",
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]
    empty = resolve_range(tz="UTC", now=NOW, period="all_time")
    assert empty.days == (date(2024, 4, 2),)


def test_custom_datetimes_are_exclusive_and_partial_days_flagged() -> None:
    r = resolve_range(
        tz="Europe/Berlin", now=NOW, start="2024-03-30T22:00:00", end="2024-03-31T12:00:00+00:00"
    )
    assert r.start == datetime(2024, 3, 30, 21, tzinfo=UTC)  # naive = local wall time (CET)
    assert r.end == datetime(2024, 3, 31, 12, tzinfo=UTC)
    assert r.days == (date(2024, 3, 30), date(2024, 3, 31))
    assert not r.whole_days
    midnight = resolve_range(tz="UTC", now=NOW, start="2024-03-01", end="2024-03-02T00:00:00Z")
    assert midnight.days == (date(2024, 3, 1),)
    assert midnight.whole_days


def test_start_alone_runs_through_today() -> None:
    r = resolve_range(tz="UTC", now=NOW, start="2024-03-01")
    assert (r.days[0], r.days[-1]) == (date(2024, 3, 1), date(2024, 4, 2))
    assert r.granularity is Granularity.WEEK


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Mars/Olympus"}, "time zone"),
        ({"tz": "../../etc/passwd"}, "time zone"),
        ({"tz": ""}, "time zone"),
        ({"tz": "UTC", "period": "decade"}, "period"),
        ({"tz": "UTC", "start": "2024-13-01"}, "start"),
        ({"tz": "UTC", "start": "2024-03-01", "end": "soon"}, "end"),
        ({"tz": "UTC", "end": "2024-03-01"}, "start"),
        ({"tz": "UTC", "start": "2024-03-02", "end": "2024-03-01"}, "after"),
        ({"tz": "UTC", "start": "2024-03-02T10:00Z", "end": "2024-03-02T10:00Z"}, "after"),
        ({"tz": "UTC", "start": "2024-03-01", "period": "week"}, "either"),
        ({"tz": "UTC", "start": "0001-01-01T00:00+05:00"}, "start"),
        ({"tz": "UTC", "start": "1900-01-01"}, "at most"),
    ],
)
def test_validation_errors_are_sentences(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(PeriodError, match=message) as caught:
        resolve_range(now=NOW, **kwargs)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).endswith(".")


def test_iso_week_buckets_across_the_year_boundary() -> None:
    r = resolve_range(tz="UTC", now=NOW, period="quarter")
    labels = [b.label for b in trend_buckets(r)]
    assert labels[0] == "2024-W01"  # 2024-01-04 is a Thursday of ISO week 1
    assert bucket_label(date(2024, 12, 30), Granularity.WEEK) == "2025-W01"
    assert bucket_label(date(2021, 1, 3), Granularity.WEEK) == "2020-W53"
    custom = resolve_range(tz="UTC", now=NOW, start="2020-12-20", end="2021-01-20")
    assert custom.granularity is Granularity.WEEK
    buckets = trend_buckets(custom)
    assert [b.label for b in buckets] == [
        "2020-W51",
        "2020-W52",
        "2020-W53",
        "2021-W01",
        "2021-W02",
        "2021-W03",
    ]
    assert buckets[0].start == custom.start  # clipped to the range (a Sunday)
    assert buckets[0].days == (date(2020, 12, 20),)
    assert buckets[-1].end == custom.end


def test_daily_buckets_include_empty_days_and_dst_lengths() -> None:
    r = resolve_range(tz="Europe/Berlin", now=NOW, period="week")
    buckets = trend_buckets(r)
    assert [b.label for b in buckets] == [f"2024-03-{d}" for d in range(27, 32)] + [
        "2024-04-01",
        "2024-04-02",
    ]
    assert [_hours(b.start, b.end) for b in buckets] == [24, 24, 24, 24, 23, 24, 24]


_ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Asia/Kathmandu",
    ]
)


@given(
    zone=_ZONES,
    first=st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 1, 1)),
    length=st.integers(min_value=1, max_value=400),
)
def test_buckets_partition_the_range(zone: str, first: date, length: int) -> None:
    last = first + timedelta(days=length - 1)
    r = resolve_range(tz=zone, now=NOW, start=first.isoformat(), end=last.isoformat())
    assert len(r.days) == length
    assert r.start == local_midnight(first, r.tz)
    buckets = trend_buckets(r)
    assert buckets[0].start == r.start
    assert buckets[-1].end == r.end
    for before, after in pairwise(buckets):
        assert before.end == after.start
    assert tuple(d for b in buckets for d in b.days) == r.days
    hours = _hours(r.start, r.end)
    assert length * 24 - 2 <= hours <= length * 24 + 2


@pytest.mark.parametrize(
    "name",
    ["America", "x" * 300, "../../etc/passwd", "/etc/localtime", "zone1970.tab", "a\x00b", ""],
)
def test_a_name_that_is_no_time_zone_is_a_period_error(name: str) -> None:
    # Folders and over-long names fail inside zoneinfo with an OSError, not "not found".
    with pytest.raises(PeriodError, match="not a known IANA time zone"):
        parse_tz(name)
    assert parse_tz("Europe/Berlin").key == "Europe/Berlin"
