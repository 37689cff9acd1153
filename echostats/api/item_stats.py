"""A track's or artist's stats for its detail page: from rollups, or raw plays in another zone.

From rollups (the saved zone): the user's month rollups give plays and listened time per month
(the current month's days as one), the first and last months with plays lead to their day
rollups and then to the one day whose plays are read for the exact first and last start. An
artist's top tracks come from the ``at`` (artist x track) sections of the year rollups. Cost:
~120 month documents of one section for ten years, never a walk of the plays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from echostats.api.analytics_source import Analytics
from echostats.api.timestamps import Timestamp
from echostats.domain.plays import Play
from echostats.domain.ranking import Ranked, Ranking
from echostats.domain.rollups import (
    Counters,
    Level,
    Rollup,
    id_function,
    merge_counters,
    split_pair,
)


class MonthCount(BaseModel):
    month: str  # "2024-03", in the user's time zone
    plays: int
    ms: int


class UserStats(BaseModel):
    plays: int
    total_ms: int
    first_played: Timestamp | None
    last_played: Timestamp | None
    plays_per_month: list[MonthCount]


def stats_of_plays(plays: Sequence[Play], tz: ZoneInfo) -> UserStats:
    """The raw path (any zone): every counted play of the item, summed here."""
    months: dict[str, list[int]] = {}
    for play in plays:
        local = play.started_at.astimezone(tz)
        slot = months.setdefault(f"{local.year}-{local.month:02d}", [0, 0])
        slot[0] += 1
        slot[1] += play.ms_played
    return UserStats(
        plays=len(plays),
        total_ms=sum(p.ms_played for p in plays),
        first_played=min((p.started_at for p in plays), default=None),
        last_played=max((p.started_at for p in plays), default=None),
        plays_per_month=[
            MonthCount(month=m, plays=p, ms=ms) for m, (p, ms) in sorted(months.items())
        ],
    )


def _counts(rollup: Rollup, section: str, key: str) -> tuple[int, int]:
    counters = rollup.sections[section]
    index = counters.index_of(key, id_function(section))
    if index is None:
        return 0, 0
    return int(counters.plays[index]), int(counters.ms[index])


async def stats_from_rollups(
    a: Analytics, section: str, key: str, keep: Callable[[Play], bool]
) -> tuple[UserStats, Play | None]:
    """Stats of one ``t`` or ``a`` key, and its latest play (for names the catalog lacks);
    ``keep`` tells the item's plays among a day's."""
    user_id = a.user.id
    first, last, _ = await a.store.rollup_bounds(user_id)
    months: dict[str, list[int]] = {}
    active: list[Rollup] = []
    if first is not None and last is not None:
        for rollup in await a.store.rollups(user_id, first, last, (section,), Level.MONTH):
            plays, ms = _counts(rollup, section, key)
            if plays:
                slot = months.setdefault(rollup.period[:7], [0, 0])
                slot[0] += plays
                slot[1] += ms
                active.append(rollup)
    first_played = latest = None
    if active:
        earliest = await _edge_plays(a, active[0], section, key, keep, earliest=True)
        first_played = min((p.started_at for p in earliest), default=None)
        latest = max(
            await _edge_plays(a, active[-1], section, key, keep, earliest=False),
            key=lambda p: p.started_at,
            default=None,
        )
    stats = UserStats(
        plays=sum(p for p, _ in months.values()),
        total_ms=sum(m for _, m in months.values()),
        first_played=first_played,
        last_played=latest.started_at if latest else None,
        plays_per_month=[
            MonthCount(month=m, plays=p, ms=ms) for m, (p, ms) in sorted(months.items())
        ],
    )
    return stats, latest


async def _edge_plays(
    a: Analytics,
    rollup: Rollup,
    section: str,
    key: str,
    keep: Callable[[Play], bool],
    *,
    earliest: bool,
) -> list[Play]:
    """The item's plays on the first (or last) local day of ``rollup`` that has any."""
    day: Rollup | None = rollup
    if rollup.level is not Level.DAY:
        days = await a.store.rollups(
            a.user.id,
            rollup.first,
            rollup.first.replace(day=len(rollup.days)),
            (section,),
            Level.DAY,
        )
        with_plays = [d for d in days if _counts(d, section, key)[0]]
        day = (with_plays[0] if earliest else with_plays[-1]) if with_plays else None
    if day is None:
        return []
    expected = _counts(day, section, key)[0]
    return await a.store.counted_plays_started_on(
        a.user.id, date.fromisoformat(day.period), a.saved_zone, expected, keep
    )


async def artist_top_tracks(a: Analytics, artist: str, limit: int) -> list[Ranked]:
    """The artist's most played tracks, all time, from the year rollups' ``at`` sections."""
    first, last, _ = await a.store.rollup_bounds(a.user.id)
    if first is None or last is None:
        return []
    rollups = await a.store.rollups(a.user.id, first, last, ("at",), Level.YEAR)
    mine: Counters = merge_counters([r.sections["at"] for r in rollups]).of_artist(artist)
    return [Ranked(split_pair(r.key)[1], r.plays, r.ms) for r in Ranking(mine).top(limit)]
