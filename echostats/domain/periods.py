"""Time ranges of analytics requests, resolved in the user's IANA time zone.

Every named period is a run of whole local days ending today:
``week`` = the last 7 local days including today, ``month`` 30, ``quarter`` 90, ``year`` 365,
``all_time`` = from the earliest day with data through today. A custom range takes ``start``
and/or ``end`` as an ISO date or datetime:

* a date means local midnight in the user's zone; an ``end`` date is INCLUSIVE (the whole of that
  day is in the range), so ``start=2024-03-01&end=2024-03-31`` is all of March;
* a datetime with an offset is that instant; a naive datetime is local wall time (in a DST gap
  zoneinfo reads it with the pre-transition offset); an ``end`` datetime is EXCLUSIVE;
* ``start`` alone runs through today; ``end`` alone is refused (no way to tell where to begin).

The result is a half-open UTC range ``[start, end)`` and the local days it touches (days only
partly inside are included, and ``whole_days`` says whether the edges fall on midnights). DST
days are 23 or 25 hours long: the UTC range follows the zone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class PeriodError(ValueError):
    """An invalid range request; the message is a sentence for a person (the API answers 422)."""


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL_TIME = "all_time"


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_PERIOD_DAYS = {Period.WEEK: 7, Period.MONTH: 30, Period.QUARTER: 90, Period.YEAR: 365}
_PERIOD_GRANULARITY = {
    Period.WEEK: Granularity.DAY,
    Period.MONTH: Granularity.DAY,
    Period.QUARTER: Granularity.WEEK,
    Period.YEAR: Granularity.MONTH,
    Period.ALL_TIME: Granularity.MONTH,
}
# Bounds the day list a request can make us build (and Spotify is younger than this anyway).
MAX_RANGE_DAYS = 50 * 366


@dataclass(frozen=True, slots=True)
class ResolvedRange:
    period: str  # a Period value or "custom"
    tz: ZoneInfo
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    days: tuple[date, ...]  # local days touched by [start, end), ascending
    whole_days: bool  # start and end both fall on local midnights
    granularity: Granularity


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str  # "2024-03-31", "2025-W01", "2024-03"
    start: datetime  # UTC, inclusive (clipped to the range)
    end: datetime  # UTC, exclusive (clipped to the range)
    days: tuple[date, ...]  # local days of the range inside this bucket


def parse_tz(name: str) -> ZoneInfo:
    # The name becomes a path into the zone database: a folder ("America") or an over-long
    # name fails with an OSError, not ZoneInfoNotFoundError.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = name if len(name) <= 80 else f"{name[:80]}…"
        raise PeriodError(
            f"'{shown}' is not a known IANA time zone (for example Europe/Berlin)."
        ) from None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant the local day begins (where midnight does not exist, the gap's end)."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def _parse_bound(value: str, tz: ZoneInfo, *, is_end: bool, name: str) -> datetime:
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return local_midnight(day + timedelta(days=1) if is_end else day, tz)
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise PeriodError(
            f"{name} '{value}' is not an ISO date (2024-03-31) or datetime (2024-03-31T12:00Z)."
        ) from None


def _days_between(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[date, ...]:
    first = local_day(start, tz)
    last = local_day(end - timedelta(microseconds=1), tz)
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def _custom_granularity(day_count: int) -> Granularity:
    if day_count <= 31:
        return Granularity.DAY
    if day_count <= 186:
        return Granularity.WEEK
    return Granularity.MONTH


def resolve_range(
    *,
    tz: str,
    now: datetime,
    period: str | None = None,
    start: str | None = None,
    end: str | None = None,
    earliest: date | None = None,
) -> ResolvedRange:
    """Resolve a request's ``period`` or ``start``/``end`` (see the module docstring).

    ``now`` is an aware instant; ``earliest`` is the first local day with data (for all_time;
    without it all_time is just today). Raises ``PeriodError`` for anything invalid.
    """
    zone = parse_tz(tz)
    if now.tzinfo is None:
        raise PeriodError("now must be an aware datetime.")
    today = local_day(now, zone)
    if start is None and end is None:
        try:
            named = Period(period or Period.MONTH)
        except ValueError:
            choices = ", ".join(p.value for p in Period)
            raise PeriodError(f"period '{period}' is not one of {choices}.") from None
        if named is Period.ALL_TIME:
            first = min(earliest, today) if earliest is not None else today
        else:
            first = today - timedelta(days=_PERIOD_DAYS[named] - 1)
        days = tuple(first + timedelta(days=i) for i in range((today - first).days + 1))
        return ResolvedRange(
            period=named.value,
            tz=zone,
            start=local_midnight(first, zone),
            end=local_midnight(today + timedelta(days=1), zone),
            days=days,
            whole_days=True,
            granularity=_PERIOD_GRANULARITY[named],
        )
    if period is not None:
        raise PeriodError("Give either period or start/end, not both.")
    if start is None:
        raise PeriodError("A custom range needs a start (end alone is not enough).")
    start_at = _parse_bound(start, zone, is_end=False, name="start")
    end_at = (
        _parse_bound(end, zone, is_end=True, name="end")
        if end is not None
        else local_midnight(today + timedelta(days=1), zone)
    )
    if end_at <= start_at:
        raise PeriodError("end must be after start.")
    if (end_at - start_at).days > MAX_RANGE_DAYS:
        raise PeriodError(f"A range may span at most {MAX_RANGE_DAYS} days.")
    days = _days_between(start_at, end_at, zone)
    whole = start_at == local_midnight(days[0], zone) and end_at == local_midnight(
        days[-1] + timedelta(days=1), zone
    )
    return ResolvedRange(
        period="custom",
        tz=zone,
        start=start_at,
        end=end_at,
        days=days,
        whole_days=whole,
        granularity=_custom_granularity(len(days)),
    )


@functools.lru_cache(maxsize=1 << 16)  # ten years of days, asked on every trend and discovery
def bucket_label(day: date, granularity: Granularity) -> str:
    """Label of the trend bucket holding ``day``.

    Weeks use the ISO week-year: 2024-12-30 is in "2025-W01".
    """
    if granularity is Granularity.DAY:
        return day.isoformat()
    if granularity is Granularity.WEEK:
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return f"{day.year}-{day.month:02d}"


def trend_buckets(resolved: ResolvedRange) -> tuple[Bucket, ...]:
    """Every bucket of the range in order, empty ones included (they are built from days)."""
    groups: dict[str, list[date]] = {}
    for day in resolved.days:
        groups.setdefault(bucket_label(day, resolved.granularity), []).append(day)
    buckets = []
    for label, days in groups.items():
        start = max(local_midnight(days[0], resolved.tz), resolved.start)
        end = min(local_midnight(days[-1] + timedelta(days=1), resolved.tz), resolved.end)
        buckets.append(Bucket(label=label, start=start, end=end, days=tuple(days)))
    return tuple(buckets)
