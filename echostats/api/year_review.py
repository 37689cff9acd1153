"""Year in review: a year (or any range of whole days) summed up, as JSON and as an SVG image.

The figures come from the ledger like the overview's: totals, top tracks/artists/albums, the
top day, the longest streak, the hour-of-day shape. New artists are the range's artists whose
first counted play ever is in it. The image route draws the same answer
(``echostats.domain.year_card``) so it can be shared without a browser.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from echostats.api.analytics import HourOut
from echostats.api.analytics_models import RangeOut, TopItem, range_out
from echostats.api.analytics_source import AnalyticsDep, RangeParams
from echostats.domain.analytics import Summary
from echostats.domain.identity import Kind
from echostats.domain.ledger import ms_of
from echostats.domain.periods import ResolvedRange
from echostats.domain.ranking import Ranked
from echostats.domain.streaks import longest_run
from echostats.domain.year_card import Card, CardDay, CardItem, render_card
from echostats.errors import Unprocessable

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
TOP_N = 5


class DayOut(BaseModel):
    date: date
    plays: int
    ms: int


class StreakOut(BaseModel):
    days: int
    first: date
    last: date


class YearReviewOut(BaseModel):
    title: str  # "2025", or "2025-03-01 to 2025-05-31" for a custom range
    range: RangeOut
    time_zone: str
    plays: int
    ms: int
    minutes: int
    unique_tracks: int
    unique_artists: int
    unique_albums: int
    top_tracks: list[TopItem]
    top_artists: list[TopItem]
    top_albums: list[TopItem]
    top_day: DayOut | None
    longest_streak: StreakOut | None
    new_artists: int  # artists first heard in the range
    top_new_artists: list[TopItem]
    hours: list[HourOut]


Year = Annotated[int | None, Query(ge=1970, le=2200, description="a calendar year")]
Day = Annotated[str | None, Query(description="ISO date; with ``end``, instead of ``year``")]


async def _review(
    a: AnalyticsDep, year: int | None, start: str | None, end: str | None
) -> YearReviewOut:
    if year is not None and (start or end):
        raise Unprocessable("Give a year, or a start and end date, not both.")
    if year is None and not (start and end):
        if start or end:
            raise Unprocessable("A custom range needs both a start and an end date.")
        year = a.now.astimezone(a.zone()).year
    if year is not None:
        start, end, title = f"{year:04d}-01-01", f"{year:04d}-12-31", str(year)
    else:
        try:
            first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
        except ValueError:
            raise Unprocessable("Start and end must be dates like 2025-03-01.") from None
        title = f"{first.isoformat()} to {last.isoformat()}"
    rng = await a.resolve(RangeParams(None, start, end, None))
    summary = await a.summary(rng, ("t", "a", "al"))
    days = summary.merged.active_days()
    # The day with the most plays (then listened time; the earliest of equal days).
    best = max(days, key=lambda d: (summary.day_totals([d]), -d.toordinal()), default=None)
    top_day = None
    if best is not None:
        plays, ms = summary.day_totals([best])
        top_day = DayOut(date=best, plays=plays, ms=ms)
    run = longest_run(days)
    new = await _new_artists(a, rng, summary)

    async def top(section: str, ranked: list[Ranked]) -> list[TopItem]:
        return [TopItem(**item) for item in await a.top_items(section, ranked, 1)]

    return YearReviewOut(
        title=title,
        range=range_out(rng),
        time_zone=rng.tz.key,
        plays=summary.plays,
        ms=summary.ms,
        minutes=summary.ms // 60_000,
        unique_tracks=len(summary.ranked("t")),
        unique_artists=len(summary.ranked("a")),
        unique_albums=len(summary.ranked("al")),
        top_tracks=await top("t", summary.ranked("t").top(TOP_N)),
        top_artists=await top("a", summary.ranked("a").top(TOP_N)),
        top_albums=await top("al", summary.ranked("al").top(TOP_N)),
        top_day=top_day,
        longest_streak=StreakOut(days=run.days, first=run.first, last=run.last) if run else None,
        new_artists=len(new),
        top_new_artists=await top("a", new[:TOP_N]),
        hours=[HourOut(hour=h, count=p, total_ms=m) for h, (p, m) in enumerate(summary.hours)],
    )


async def _new_artists(a: AnalyticsDep, rng: ResolvedRange, summary: Summary) -> list[Ranked]:
    """The range's artists whose first counted play ever is in it, most played first."""
    firsts = (await a.view()).first_starts(Kind.ARTIST)
    fresh = [r for r in summary.ranked("a").entries() if firsts[r.entity] >= ms_of(rng.start)]
    return sorted(fresh, key=lambda r: (-r.plays, -r.ms, r.entity))


@router.get("/year-in-review", response_model=YearReviewOut, summary="A year (or range) in review")
async def year_in_review(
    a: AnalyticsDep, year: Year = None, start: Day = None, end: Day = None
) -> YearReviewOut:
    """``year`` (default: this year so far), or a custom range of whole days (``start`` and
    ``end``, inclusive), in your time zone."""
    return await _review(a, year, start, end)


@router.get(
    "/year-in-review.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="A year (or range) in review as a shareable image",
)
async def year_in_review_image(
    a: AnalyticsDep, year: Year = None, start: Day = None, end: Day = None
) -> Response:
    """The same figures drawn as a 1200x630 SVG card (the size link previews use)."""
    review = await _review(a, year, start, end)

    def items(tops: list[TopItem]) -> list[CardItem]:
        return [CardItem(t.name, ", ".join(t.artists), t.play_count) for t in tops]

    card = Card(
        title=review.title,
        minutes=review.minutes,
        plays=review.plays,
        artists=review.unique_artists,
        tracks=review.unique_tracks,
        new_artists=review.new_artists,
        streak_days=review.longest_streak.days if review.longest_streak else 0,
        top_day=CardDay(review.top_day.date, review.top_day.plays) if review.top_day else None,
        top_artists=items(review.top_artists),
        top_tracks=items(review.top_tracks),
        hours=[h.count for h in review.hours],
    )
    name = review.title.replace(" to ", "_")
    return Response(
        render_card(card),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="echostats-{name}.svg"'},
    )
