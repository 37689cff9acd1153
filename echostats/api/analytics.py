"""``/api/v1/analytics``: overview, trend, heatmap, compare, habits, discovery, ledger jobs.

Figures come from the user's play ledger (see ``echostats.api.analytics_source``). Genres are
looked up in the catalog by artist id. The "rollup" routes keep their names from the API
contract; what they report on and rebuild is the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from actors.facade import Pipeline
from echostats.api.analytics_models import RangeOut, TopItem, range_out
from echostats.api.analytics_source import AnalyticsDep, Range, RangeParams
from echostats.api.timestamps import Timestamp
from echostats.domain.analytics import Summary, rank_changes, share
from echostats.domain.identity import Kind, hashed
from echostats.domain.ledger import ms_of
from echostats.domain.ledger_view import EPOCH_DAY, NEVER
from echostats.domain.periods import ResolvedRange, bucket_label, local_day, trend_buckets
from echostats.domain.plays import ARTIST_KEY_PREFIX
from echostats.store.sync_jobs import SyncJobs

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
TOP_N = 10
UNKNOWN_GENRE = "unknown"


class HourOut(BaseModel):
    hour: int
    count: int
    total_ms: int


class DayOut(BaseModel):
    day: int  # 0 = Monday
    count: int
    total_ms: int


class GenreCount(BaseModel):
    name: str
    play_count: int
    total_ms: int


class OverviewOut(BaseModel):
    period: str
    range: RangeOut
    time_zone: str
    total_tracks_played: int
    total_ms_played: int
    total_hours: float
    unique_tracks: int
    unique_artists: int
    unique_albums: int
    unique_genres: int
    listening_streak_days: int
    longest_streak_days: int
    top_artists: list[TopItem]
    top_tracks: list[TopItem]
    top_albums: list[TopItem]
    top_genres: list[GenreCount]
    hourly_distribution: list[HourOut]
    daily_distribution: list[DayOut]
    computed_at: Timestamp


async def genre_counts(a: AnalyticsDep, summary: Summary) -> list[GenreCount]:
    """Plays per genre from artist counters: an artist's plays count once for each of its
    genres; artists without catalog genres (or without a Spotify id) are ``unknown``. Only
    the catalog's artists that have genres are read (few: Spotify stopped sending them to
    development-mode apps), and matched to the played artists by their key's hash."""
    artists = (await a.view()).identity.artists
    ranking = summary.ranked("a")
    totals: dict[str, list[int]] = {}
    known_plays = known_ms = 0
    for spotify_id, genres in (await a.catalog.artist_genres()).items():
        entity = artists.index_of_id(hashed(ARTIST_KEY_PREFIX + spotify_id))
        plays, ms = ranking.counts(entity) if entity is not None else (0, 0)
        if not plays:
            continue
        known_plays, known_ms = known_plays + plays, known_ms + ms
        for genre in genres:
            slot = totals.setdefault(genre, [0, 0])
            slot[0] += plays
            slot[1] += ms
    all_plays, all_ms = ranking.totals()
    if all_plays > known_plays:
        totals[UNKNOWN_GENRE] = [all_plays - known_plays, all_ms - known_ms]
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [GenreCount(name=name, play_count=p, total_ms=m) for name, (p, m) in ordered]


@router.get("/overview", response_model=OverviewOut, summary="Totals, top lists, distributions")
async def overview(a: AnalyticsDep, params: Range) -> OverviewOut:
    rng = await a.resolve(params)
    summary = await a.summary(rng, ("t", "a", "al"))
    runs = summary.streaks(local_day(a.now, rng.tz))
    genres = await genre_counts(a, summary)
    known_genres = [g for g in genres if g.name != UNKNOWN_GENRE]
    tops: dict[str, list[TopItem]] = {}
    for section in ("t", "a", "al"):
        items = await a.top_items(section, summary.ranked(section).top(TOP_N), 1)
        tops[section] = [TopItem(**item) for item in items]
    return OverviewOut(
        period=rng.period,
        range=range_out(rng),
        time_zone=rng.tz.key,
        total_tracks_played=summary.plays,
        total_ms_played=summary.ms,
        total_hours=round(summary.ms / 3_600_000, 2),
        unique_tracks=len(summary.ranked("t")),
        unique_artists=len(summary.ranked("a")),
        unique_albums=len(summary.ranked("al")),
        unique_genres=len(known_genres),
        listening_streak_days=runs.current,
        longest_streak_days=runs.longest,
        top_artists=tops["a"],
        top_tracks=tops["t"],
        top_albums=tops["al"],
        top_genres=genres[:TOP_N],
        hourly_distribution=[
            HourOut(hour=h, count=p, total_ms=m) for h, (p, m) in enumerate(summary.hours)
        ],
        daily_distribution=[
            DayOut(day=d, count=p, total_ms=m) for d, (p, m) in enumerate(summary.weekdays)
        ],
        computed_at=a.now,
    )


class TrendPoint(BaseModel):
    label: str
    start: Timestamp
    plays: int
    ms: int
    hours: float


class TrendOut(BaseModel):
    period: str
    range: RangeOut
    time_zone: str
    granularity: Literal["day", "week", "month"]
    points: list[TrendPoint]


def trend_points(rng: ResolvedRange, summary: Summary) -> list[TrendPoint]:
    points = []
    for bucket in trend_buckets(rng):
        plays, ms = summary.day_totals(bucket.days)
        points.append(
            TrendPoint(
                label=bucket.label,
                start=bucket.start,
                plays=plays,
                ms=ms,
                hours=round(ms / 3_600_000, 2),
            )
        )
    return points


@router.get("/trend", response_model=TrendOut, summary="Plays over time, empty buckets included")
async def trend(a: AnalyticsDep, params: Range) -> TrendOut:
    rng = await a.resolve(params)
    summary = await a.summary(rng)
    return TrendOut(
        period=rng.period,
        range=range_out(rng),
        time_zone=rng.tz.key,
        granularity=rng.granularity.value,
        points=trend_points(rng, summary),
    )


class HeatCell(BaseModel):
    weekday: int  # 0 = Monday
    hour: int
    plays: int
    ms: int


class HeatmapOut(BaseModel):
    period: str
    range: RangeOut
    time_zone: str
    cells: list[HeatCell]  # 7 x 24, weekday-major
    max_plays: int


@router.get("/heatmap", response_model=HeatmapOut, summary="Plays and ms by weekday and hour")
async def heatmap(a: AnalyticsDep, params: Range) -> HeatmapOut:
    rng = await a.resolve(params)
    summary = await a.summary(rng)
    heat = summary.heat
    cells = [
        HeatCell(weekday=w, hour=h, plays=heat[w][h][0], ms=heat[w][h][1])
        for w in range(7)
        for h in range(24)
    ]
    return HeatmapOut(
        period=rng.period,
        range=range_out(rng),
        time_zone=rng.tz.key,
        cells=cells,
        max_plays=max((c.plays for c in cells), default=0),
    )


class Totals(BaseModel):
    plays: int
    ms: int
    hours: float
    unique_tracks: int
    unique_artists: int


class Deltas(BaseModel):
    plays: int
    ms: int
    plays_pct: float | None  # relative to B; None when B is empty
    ms_pct: float | None
    unique_tracks: int
    unique_artists: int


class Move(BaseModel):
    spotify_id: str
    name: str
    artists: list[str]
    artist_ids: list[str]
    image_url: str | None
    rank_a: int | None
    rank_b: int | None
    plays_a: int
    plays_b: int


class MovesOut(BaseModel):
    climbers: list[Move]
    fallers: list[Move]
    new_entries: list[Move]


class CompareOut(BaseModel):
    time_zone: str
    range_a: RangeOut
    range_b: RangeOut
    a: Totals
    b: Totals
    deltas: Deltas
    tracks: MovesOut
    artists: MovesOut


def _totals(summary: Summary) -> Totals:
    return Totals(
        plays=summary.plays,
        ms=summary.ms,
        hours=round(summary.ms / 3_600_000, 2),
        unique_tracks=len(summary.ranked("t")),
        unique_artists=len(summary.ranked("a")),
    )


def _pct(a: int, b: int) -> float | None:
    return round((a - b) / b * 100, 2) if b else None


async def _moves(a: AnalyticsDep, section: str, sa: Summary, sb: Summary, top_n: int) -> MovesOut:
    climbers, fallers, new = rank_changes(sa.ranked(section), sb.ranked(section), top_n)
    keys = list(dict.fromkeys(m.entity for m in (*climbers, *fallers, *new)))
    kind = Kind.TRACK if section == "t" else Kind.ARTIST
    described = dict(zip(keys, await a.describe(kind, keys), strict=True))

    def out(moves: Sequence[Any]) -> list[Move]:
        return [
            Move(
                spotify_id=described[m.entity]["spotify_id"],
                name=described[m.entity]["name"],
                artists=described[m.entity]["artists"],
                artist_ids=described[m.entity]["artist_ids"],
                image_url=described[m.entity]["image_url"],
                rank_a=m.rank_a,
                rank_b=m.rank_b,
                plays_a=m.plays_a,
                plays_b=m.plays_b,
            )
            for m in moves
        ]

    return MovesOut(climbers=out(climbers), fallers=out(fallers), new_entries=out(new))


@router.get("/compare", response_model=CompareOut, summary="Two ranges side by side")
async def compare(
    a: AnalyticsDep,
    params: Range,
    compare_start: Annotated[str | None, Query(description="start of range B")] = None,
    compare_end: Annotated[str | None, Query(description="end of range B")] = None,
    top: Annotated[int, Query(ge=1, le=100, description="ranks considered")] = 20,
) -> CompareOut:
    """Range A is ``period``/``start``/``end``; range B is ``compare_start``/``compare_end``,
    or by default the range of equal length just before A."""
    rng_a = await a.resolve(params)
    if compare_start is None and compare_end is None:
        rng_b = await a.previous_range(rng_a)
    else:
        rng_b = await a.resolve(RangeParams(None, compare_start, compare_end, params.tz))
    sa = await a.summary(rng_a, ("t", "a"))
    sb = await a.summary(rng_b, ("t", "a"))
    ta, tb = _totals(sa), _totals(sb)
    return CompareOut(
        time_zone=rng_a.tz.key,
        range_a=range_out(rng_a),
        range_b=range_out(rng_b),
        a=ta,
        b=tb,
        deltas=Deltas(
            plays=ta.plays - tb.plays,
            ms=ta.ms - tb.ms,
            plays_pct=_pct(ta.plays, tb.plays),
            ms_pct=_pct(ta.ms, tb.ms),
            unique_tracks=ta.unique_tracks - tb.unique_tracks,
            unique_artists=ta.unique_artists - tb.unique_artists,
        ),
        tracks=await _moves(a, "t", sa, sb, top),
        artists=await _moves(a, "a", sa, sb, top),
    )


class MixEntry(BaseModel):
    name: str
    plays: int
    share: float


class HabitsOut(BaseModel):
    period: str
    range: RangeOut
    plays: int  # every stored play that started in the range, counted or not
    ms: int
    skip_rate: float | None  # of plays whose source reports skips; None when none does
    shuffle_share: float | None
    offline_share: float | None
    platforms: list[MixEntry]
    reason_start: list[MixEntry]
    reason_end: list[MixEntry]


def _mix(counts: dict[str, int], whole: int) -> list[MixEntry]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [MixEntry(name=k, plays=v, share=share(v, whole) or 0.0) for k, v in ordered]


@router.get("/habits", response_model=HabitsOut, summary="Skips, shuffle, platforms, offline")
async def habits(a: AnalyticsDep, params: Range) -> HabitsOut:
    """Over every stored play that started in the range, counted or not (a skip is usually too
    short to count, so leaving uncounted plays out would hide most skips). A share's
    denominator is the plays whose source reports that field (polled plays carry no
    ``offline``)."""
    rng = await a.resolve(params)
    view = await a.view()
    sel = view.started_in(rng.start, rng.end, counted=False)

    def rate(name: str) -> float | None:
        known, true = view.tri_known(sel, name)
        return share(true, known)

    plays = len(sel)
    return HabitsOut(
        period=rng.period,
        range=range_out(rng),
        plays=plays,
        ms=int(view.columns.ms[sel].sum()),
        skip_rate=rate("skipped"),
        shuffle_share=rate("shuffle"),
        offline_share=rate("offline"),
        platforms=_mix(view.string_mix(sel, "platform"), plays),
        reason_start=_mix(view.string_mix(sel, "reason_start"), plays),
        reason_end=_mix(view.string_mix(sel, "reason_end"), plays),
    )


class Discovered(BaseModel):
    new: int  # keys first heard in the range
    new_plays: int  # the range's plays of those keys
    new_play_share: float | None


class DiscoveryPoint(BaseModel):
    label: str
    start: Timestamp
    new_tracks: int
    new_artists: int


class DiscoveryOut(BaseModel):
    period: str
    range: RangeOut
    plays: int
    tracks: Discovered
    artists: Discovered
    timeline: list[DiscoveryPoint]


@router.get("/discovery", response_model=DiscoveryOut, summary="What was new to you")
async def discovery(a: AnalyticsDep, params: Range) -> DiscoveryOut:
    """A track or artist is new in the range when its first counted play ever is in it."""
    rng = await a.resolve(params)
    view = await a.view()
    summary = await a.summary(rng, ("t", "a"))
    lo, hi = ms_of(rng.start), ms_of(rng.end)
    found: dict[str, Discovered] = {}
    by_bucket: dict[str, dict[str, int]] = {}
    for section, kind in (("t", Kind.TRACK), ("a", Kind.ARTIST)):
        firsts = view.first_starts(kind)
        new = np.flatnonzero((firsts >= lo) & (firsts < hi) & (firsts != NEVER))
        ranking = summary.ranked(section)
        new_plays = ranking.plays_of(new.astype(np.int64))
        found[section] = Discovered(
            new=len(new), new_plays=new_plays, new_play_share=share(new_plays, summary.plays)
        )
        # Labels for each distinct day, not for each of tens of thousands of entities.
        numbers, counts = np.unique(view.day_numbers(firsts[new], rng.tz), return_counts=True)
        for number, count in zip(numbers.tolist(), counts.tolist(), strict=True):
            label = bucket_label(EPOCH_DAY + timedelta(days=number), rng.granularity)
            slot = by_bucket.setdefault(label, {})
            slot[section] = slot.get(section, 0) + count
    timeline = [
        DiscoveryPoint(
            label=bucket.label,
            start=bucket.start,
            new_tracks=by_bucket.get(bucket.label, {}).get("t", 0),
            new_artists=by_bucket.get(bucket.label, {}).get("a", 0),
        )
        for bucket in trend_buckets(rng)
    ]
    return DiscoveryOut(
        period=rng.period,
        range=range_out(rng),
        plays=summary.plays,
        tracks=found["t"],
        artists=found["a"],
        timeline=timeline,
    )


class RollupStatusOut(BaseModel):
    rollup_days: int  # local days with counted plays in the ledger
    history_days: int  # local days from the first stored play to the last
    is_building: bool
    last_built_at: Timestamp | None
    coverage: float  # rollup_days' span over history_days (1.0: the ledger reaches every end)


@router.get("/rollup-status", response_model=RollupStatusOut, summary="State of the ledger")
async def rollup_status(request: Request, a: AnalyticsDep) -> RollupStatusOut:
    """The play ledger every figure is computed from (the route keeps the contract's name):
    ``rollup_days`` are the local days with counted plays in it, ``history_days`` the days
    from the first stored play to the last, ``coverage`` the first over the second's span."""
    view = await a.view()
    tz = a.zone()
    counted = view.counted_days(tz)
    first_start, last_end = view.first_start(), view.last_end()
    history = 0
    if first_start is not None and last_end is not None:
        history = (local_day(last_end, tz) - local_day(first_start, tz)).days + 1
    span = int(counted[-1] - counted[0]) + 1 if len(counted) else 0
    pipeline: Pipeline = request.app.state.pipeline
    last_build = await SyncJobs(request.app.state.store).last_completed(
        a.user.id, ("rollup_build",)
    )
    return RollupStatusOut(
        rollup_days=len(counted),
        history_days=history,
        is_building=pipeline.ledger_building(a.user.id),
        last_built_at=last_build.completed_at if last_build else None,
        coverage=round(min(1.0, span / history), 4) if history else 1.0,
    )


class BuildOut(BaseModel):
    status: Literal["started", "already_running"]
    job_id: str


@router.post(
    "/rollup-build", response_model=BuildOut, status_code=202, summary="Rebuild the ledger"
)
async def rollup_build(request: Request, a: AnalyticsDep) -> BuildOut:
    """Rebuild the play ledger from the stored plays, as a job with progress (new plays keep
    being recorded meanwhile)."""
    pipeline: Pipeline = request.app.state.pipeline
    job_id, started = await pipeline.rebuild_ledger(a.user.id)
    return BuildOut(status="started" if started else "already_running", job_id=job_id)


class RefreshOut(BaseModel):
    status: Literal["refreshed"]
    computed_at: Timestamp


@router.post("/refresh", response_model=RefreshOut, summary="Recompute cached analytics")
async def refresh(a: AnalyticsDep) -> RefreshOut:
    """The ledger is updated as plays arrive, and every request checks it is current, so there
    is nothing to recompute: the answer only confirms that the next request sees every stored
    play."""
    return RefreshOut(status="refreshed", computed_at=a.now)
