"""Where an analytics request's figures come from: the user's play ledger, in any zone.

Every route reads one ``LedgerView`` (``echostats.store.ledger_cache``): the user's plays as
columns in memory, kept current by the aggregator, with canonical identity resolved. A range is
a slice of the plays by start (``LedgerView.started_in``) summed in numpy in the requested zone,
so every zone and every custom range — mid-day edges included — is exact and costs the same:
milliseconds at a million plays. Names come from the identity; images from the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request

from echostats.api.auth import CurrentUser
from echostats.domain.analytics import Summary
from echostats.domain.identity import Kind, public_id
from echostats.domain.ledger_view import LedgerView
from echostats.domain.periods import PeriodError, ResolvedRange, local_day, parse_tz, resolve_range
from echostats.domain.plays import NAME_KEY_PREFIX
from echostats.domain.ranking import Ranked
from echostats.errors import Unprocessable
from echostats.store import Store
from echostats.store.catalog import Catalog, image_url
from echostats.store.catalog import Kind as CatalogKind
from echostats.store.ledger_cache import Ledger
from echostats.store.users import User

KIND_OF_SECTION = {"t": Kind.TRACK, "a": Kind.ARTIST, "al": Kind.ALBUM}
SECTION_OF_KIND = {kind: section for section, kind in KIND_OF_SECTION.items()}
CATALOG_KIND: dict[Kind, CatalogKind] = {
    Kind.TRACK: "tracks",
    Kind.ARTIST: "artists",
    Kind.ALBUM: "albums",
}


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
    """One request's view: the user, their ledger, the catalog, the clock."""

    def __init__(self, request: Request, user: User) -> None:
        self.user = user
        self.store: Store = request.app.state.store
        self.ledger: Ledger = request.app.state.ledger
        self.catalog = Catalog(self.store)
        self.now: datetime = request.app.state.auth.now()
        self._view: LedgerView | None = None

    async def view(self) -> LedgerView:
        if self._view is None:
            self._view = await self.ledger.view(self.user.id)
        return self._view

    def zone_name(self, params: RangeParams) -> str:
        return params.tz or self.user.time_zone

    def zone(self, name: str | None = None) -> ZoneInfo:
        try:
            return parse_tz(name or self.user.time_zone)
        except PeriodError as exc:
            raise Unprocessable(str(exc)) from None

    async def resolve(self, params: RangeParams, default_period: str = "month") -> ResolvedRange:
        zone = self.zone_name(params)
        period = params.period
        if period is None and params.start is None and params.end is None:
            period = default_period
        earliest: date | None = None
        if period == "all_time":
            first = (await self.view()).first_start()
            earliest = local_day(first, self.zone(zone)) if first is not None else None
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

    async def summary(self, rng: ResolvedRange, sections: Sequence[str] = ()) -> Summary:
        """The range's figures; the same question on the same view is answered once."""
        view = await self.view()
        first, last = rng.days[0], rng.days[-1]
        kinds = [KIND_OF_SECTION[s] for s in sections]

        def make() -> Summary:
            sel = view.started_in(rng.start, rng.end, counted=True)
            return Summary(view.merged(sel, rng.tz, first, last, kinds))

        bounds = view.same_selection(rng.start, rng.end)
        return view.remembered(("summary", bounds, rng.tz, first, last, tuple(sections)), make)

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

    async def describe(self, kind: Kind, entities: Sequence[int]) -> list[dict[str, Any]]:
        """Name, credits, links and artwork of canonical entities, in order: what every list of
        tracks, artists or albums shows."""
        ident = (await self.view()).identity
        of_kind = ident.entities(kind)
        described = []
        for index in entities:
            item: dict[str, Any] = {
                "spotify_id": public_id(of_kind.key(index)),
                "name": of_kind.name(index),
                "artists": [],
                "artist_ids": [],
            }
            if kind is not Kind.ARTIST:
                artists = (
                    ident.artists_of(index) if kind is Kind.TRACK else ident.artists_of_album(index)
                )
                item["artists"] = [ident.artists.name(i) for i in artists]
                item["artist_ids"] = [public_id(ident.artists.key(i)) for i in artists]
            if kind is Kind.TRACK:
                album = int(ident.album_of_track[index])
                item["album"] = ident.albums.name(album) if album >= 0 else None
                item["album_id"] = public_id(ident.albums.key(album)) if album >= 0 else None
            described.append(item)
        await self._images(kind, described)
        return described

    async def _images(self, kind: Kind, items: list[dict[str, Any]]) -> None:
        """Artwork from the catalog; a track without its own falls back to its album's."""
        ids = [spotify_id_of_public(i["spotify_id"]) for i in items]
        docs = await self.catalog.many(CATALOG_KIND[kind], {i for i in ids if i})
        albums: dict[str, Any] = {}
        if kind is Kind.TRACK:
            wanted = {spotify_id_of_public(i.get("album_id") or "") for i in items}
            albums = await self.catalog.many("albums", {i for i in wanted if i})
        for item, spotify_id in zip(items, ids, strict=True):
            url = image_url(docs.get(spotify_id or ""))
            if url is None and kind is Kind.TRACK:
                url = image_url(albums.get(spotify_id_of_public(item.get("album_id") or "") or ""))
            item["image_url"] = url

    async def top_items(
        self, section: str, ranked: Sequence[Ranked], first_rank: int
    ) -> list[dict[str, Any]]:
        """Top-item dicts: rank, counts, and ``describe``'s names, links and artwork."""
        described = await self.describe(KIND_OF_SECTION[section], [r.entity for r in ranked])
        return [
            {"rank": first_rank + offset, "play_count": r.plays, "total_ms": r.ms, **item}
            for offset, (r, item) in enumerate(zip(ranked, described, strict=True))
        ]


SHOWN_TRACK_FIELDS = ("name", "artists", "artist_ids", "album", "album_id", "image_url")


def shown_track(item: Mapping[str, Any]) -> dict[str, Any]:
    """What every response that shows a track takes from its ``describe`` item."""
    return {field: item[field] for field in SHOWN_TRACK_FIELDS}


def spotify_id_of_public(public: str) -> str | None:
    """A public id is a Spotify id or a ``name:`` key; only the first is in the catalog."""
    return None if not public or public.startswith(NAME_KEY_PREFIX) else public


def analytics(request: Request, user: CurrentUser) -> Analytics:
    return Analytics(request, user)


AnalyticsDep = Annotated[Analytics, Depends(analytics)]
