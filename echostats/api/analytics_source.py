"""Where an analytics request's figures come from: rollups when exact, raw plays otherwise.

Rollups are per LOCAL day, month and year in the user's SAVED zone. A request is served from
them when its zone is the saved one and its range is whole local days (every named period is):
the few rollups tiling the range are read and merged. Otherwise — another ``tz`` (a day boundary
moves, so no rollup can be split), or a custom range that starts or ends mid-day — the figures
are computed from the raw plays of the range, fetched with an indexed ``(user_id, ended_at)``
range (see ``echostats.store.analytics``) and summed into rollups in the requested zone by the
same domain code the aggregator uses.
Cost of that path: one read of every play that ended after the range start (a week: a few
hundred plays, milliseconds; all of ten years in another zone: the whole history, seconds).
UTC-hour rollups would make every zone exact but multiply rollup writes and reads by 24, for
a request most people never make; the raw path is exact and costs only when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request

from echostats.api.auth import CurrentUser
from echostats.domain.analytics import Summary, summarise_plays
from echostats.domain.periods import PeriodError, ResolvedRange, local_day, parse_tz, resolve_range
from echostats.domain.ranking import Ranked
from echostats.domain.rollups import Level, merge
from echostats.errors import Unprocessable
from echostats.store.analytics import AnalyticsStore, image_url
from echostats.store.users import User


@dataclass(frozen=True)
class RangeParams:
    period: str | None
    start: str | None
    end: str | None
    tz: str | None


def range_params(
    period: Annotated[
        str | None, Query(description="week | month | quarter | year | all_time")
    ] = None,
    start: Annotated[str | None, Query(description="ISO date or datetime")] = None,
    end: Annotated[str | None, Query(description="ISO date (inclusive) or datetime")] = None,
    tz: Annotated[str | None, Query(description="IANA time zone; default: your setting")] = None,
) -> RangeParams:
    return RangeParams(period, start, end, tz)


Range = Annotated[RangeParams, Depends(range_params)]


class Analytics:
    """One request's view: the user, their saved zone, the store, the clock."""

    def __init__(self, request: Request, user: User) -> None:
        self.user = user
        self.store = AnalyticsStore(request.app.state.store)
        self.now: datetime = request.app.state.auth.now()

    def zone_name(self, params: RangeParams) -> str:
        return params.tz or self.user.time_zone

    async def resolve(self, params: RangeParams, default_period: str = "month") -> ResolvedRange:
        zone = self.zone_name(params)
        period = params.period
        if period is None and params.start is None and params.end is None:
            period = default_period
        earliest: date | None = None
        if period == "all_time":
            earliest = await self.earliest_day(zone)
        try:
            return resolve_range(
                tz=zone,
                now=self.now,
                period=period,
                start=params.start,
                end=params.end,
                earliest=earliest,
            )
        except PeriodError as exc:
            raise Unprocessable(str(exc)) from None

    async def earliest_day(self, zone: str) -> date | None:
        if zone == self.user.time_zone:
            first, _, _ = await self.store.rollup_bounds(self.user.id)
            return first
        try:
            tz = resolve_range(tz=zone, now=self.now).tz
        except PeriodError as exc:
            raise Unprocessable(str(exc)) from None
        first_start, _ = await self.store.play_bounds(self.user.id, self.saved_zone)
        return local_day(first_start, tz) if first_start is not None else None

    @property
    def saved_zone(self) -> ZoneInfo:
        return parse_tz(self.user.time_zone)

    def from_rollups(self, rng: ResolvedRange) -> bool:
        return rng.whole_days and rng.tz.key == self.user.time_zone

    async def summary(self, rng: ResolvedRange, sections: Sequence[str] = ()) -> Summary:
        first, last = rng.days[0], rng.days[-1]
        if self.from_rollups(rng):
            rollups = await self.store.rollups(self.user.id, first, last, sections, Level.YEAR)
            return Summary(merge(rollups, first, last, sections))
        plays = await self.store.plays_started_in(
            self.user.id, rng.start, rng.end, counted_only=True
        )
        return summarise_plays(plays, rng.tz, first, last, sections)

    async def previous_range(self, rng: ResolvedRange) -> ResolvedRange:
        """The range of equal length just before ``rng`` (whole days when ``rng`` has them)."""
        try:
            if rng.whole_days:
                first = rng.days[0] - timedelta(days=len(rng.days))
                last = rng.days[0] - timedelta(days=1)
                return resolve_range(
                    tz=rng.tz.key, now=self.now, start=first.isoformat(), end=last.isoformat()
                )
            span = rng.end - rng.start
            return resolve_range(
                tz=rng.tz.key,
                now=self.now,
                start=(rng.start - span).isoformat(),
                end=rng.start.isoformat(),
            )
        except PeriodError as exc:
            raise Unprocessable(f"The comparison range is not valid: {exc}") from None

    async def top_items(
        self, section: str, ranked: Sequence[Ranked], first_rank: int
    ) -> list[dict[str, Any]]:
        """Top-item dicts (names from the names cache, images from the catalog)."""
        keys = [r.key for r in ranked]
        names = await self.store.names(self.user.id, section, keys)
        kind = {"t": "tracks", "a": "artists", "al": "albums"}[section]
        ids = {key: spotify_id_of(key) for key in keys}
        catalog = await self.store.catalog(kind, [i for i in ids.values() if i])
        items = []
        for offset, r in enumerate(ranked):
            name = names.get(r.key)
            spotify_id = ids[r.key]
            items.append(
                {
                    "rank": first_rank + offset,
                    "spotify_id": spotify_id or r.key,
                    "name": name.name if name else r.key,
                    "artists": list(name.artists) if name else [],
                    "play_count": r.plays,
                    "total_ms": r.ms,
                    "image_url": image_url(catalog.get(spotify_id or "")),
                }
            )
        return items


def spotify_id_of(key: str) -> str | None:
    """``spotify:track:<id>`` → ``<id>``; a name key has no Spotify id."""
    if key.startswith("spotify:"):
        return key.rsplit(":", 1)[1]
    return None


def analytics(request: Request, user: CurrentUser) -> Analytics:
    return Analytics(request, user)


AnalyticsDep = Annotated[Analytics, Depends(analytics)]
