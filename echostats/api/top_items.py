"""Top tracks/artists/albums (paginated); one track, artist or album with the user's stats;
genres. Ids are what top lists give: a Spotify id, or the ``name:`` key of an entity Spotify
never named by id; an id that a person merged away leads to the entity it was merged into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from echostats.api.analytics import genre_counts
from echostats.api.analytics_models import RangeOut, TopItem, TopPage, range_out
from echostats.api.analytics_source import CATALOG_KIND, AnalyticsDep, Range, shown_track
from echostats.api.item_stats import MergeOut, UserStats, merges_into, ranked_tracks, stats_of
from echostats.domain.analytics import page_of
from echostats.domain.identity import Kind, key_of, public_id, spotify_id_of
from echostats.domain.ledger_view import LedgerView
from echostats.errors import NotFound
from echostats.store.catalog import image_url
from echostats.store.identity_merges import IdentityMerges

router = APIRouter(prefix="/api/v1", tags=["tracks, artists, albums, genres"])

Page = Annotated[int, Query(ge=1, le=100_000, description="1-based page")]
Limit = Annotated[int, Query(ge=1, le=100, description="items per page (at most 100)")]
ItemId = Annotated[str, Path(min_length=1, max_length=300)]


async def _top(a: AnalyticsDep, params: Range, section: str, page: int, limit: int) -> TopPage:
    rng = await a.resolve(params)
    summary = await a.summary(rng, (section,))
    ranked = summary.ranked(section)
    chunk, pages = page_of(ranked, page, limit)
    items = await a.top_items(section, chunk, (page - 1) * limit + 1)
    return TopPage(
        items=[TopItem(**item) for item in items],
        total=len(ranked),
        page=page,
        limit=limit,
        pages=pages,
        period=rng.period,
        range=range_out(rng),
    )


@router.get("/tracks/top", response_model=TopPage, summary="Your top tracks")
async def top_tracks(a: AnalyticsDep, params: Range, page: Page = 1, limit: Limit = 20) -> TopPage:
    return await _top(a, params, "t", page, limit)


@router.get("/artists/top", response_model=TopPage, summary="Your top artists")
async def top_artists(a: AnalyticsDep, params: Range, page: Page = 1, limit: Limit = 20) -> TopPage:
    return await _top(a, params, "a", page, limit)


@router.get("/albums/top", response_model=TopPage, summary="Your top albums")
async def top_albums(a: AnalyticsDep, params: Range, page: Page = 1, limit: Limit = 20) -> TopPage:
    return await _top(a, params, "al", page, limit)


class GenreOut(BaseModel):
    name: str
    play_count: int
    total_ms: int
    percentage: float


class GenresOut(BaseModel):
    genres: list[GenreOut]
    period: str
    range: RangeOut
    total_genres: int  # known genres ("unknown" is listed but not counted)


@router.get("/genres/distribution", response_model=GenresOut, summary="Plays per genre")
async def genres(a: AnalyticsDep, params: Range) -> GenresOut:
    """Genres of the played artists from the catalog (filled by the enricher where Spotify still
    provides them). Artists with no genres known are reported as ``unknown``, never guessed;
    an artist's plays count for each of its genres, so percentages are of all genre credits."""
    rng = await a.resolve(params)
    summary = await a.summary(rng, ("a",))
    counts = await genre_counts(a, summary)
    whole = sum(g.play_count for g in counts)
    return GenresOut(
        genres=[
            GenreOut(
                name=g.name,
                play_count=g.play_count,
                total_ms=g.total_ms,
                percentage=round(g.play_count / whole * 100, 2) if whole else 0.0,
            )
            for g in counts
        ],
        period=rng.period,
        range=range_out(rng),
        total_genres=sum(1 for g in counts if g.name != "unknown"),
    )


Tz = Annotated[str | None, Query(description="IANA time zone; default: your setting")]
NOT_FOUND = {
    Kind.TRACK: "No track with that id is known here.",
    Kind.ARTIST: "No artist with that id is known here.",
    Kind.ALBUM: "No album with that id is known here.",
}


async def _entity(
    a: AnalyticsDep, kind: Kind, item_id: str
) -> tuple[LedgerView, int | None, str, dict[str, Any]]:
    """The ledger, the canonical entity ``item_id`` names (None: no play or spelling names it),
    its key, and its catalog document ({} when none); 404 when neither knows it."""
    view = await a.view()
    entities = view.identity.entities(kind)
    entity = entities.find(key_of(kind, item_id))
    key = entities.key(entity) if entity is not None else key_of(kind, item_id)
    spotify_id = spotify_id_of(key)
    catalog = await a.catalog.get(CATALOG_KIND[kind], spotify_id) if spotify_id else None
    if entity is None and catalog is None:
        raise NotFound(NOT_FOUND[kind])
    return view, entity, key, catalog or {}


async def _described(
    a: AnalyticsDep, kind: Kind, entity: int | None, key: str, doc: dict[str, Any]
) -> dict[str, Any]:
    """``describe``'s names, links and artwork; for an entity only the catalog knows (never
    played), the catalog's."""
    if entity is not None:
        (item,) = await a.describe(kind, [entity])
        return item
    album = doc.get("album_name") if kind is Kind.TRACK else None
    return {
        "spotify_id": public_id(key),
        "name": doc.get("name") or public_id(key),
        "artists": list(doc.get("artist_names") or []),
        "artist_ids": list(doc.get("artist_ids") or []),
        "album": album,
        "album_id": doc.get("album_id") if kind is Kind.TRACK else None,
        "image_url": image_url(doc),
    }


async def _merges(a: AnalyticsDep, view: LedgerView, kind: Kind, entity: int) -> list[MergeOut]:
    if not view.identity.merges:
        return []
    records = await IdentityMerges(a.store).records(a.user.id)
    return merges_into(view.identity, records, kind, entity)


def _external_url(kind: Kind, key: str) -> str | None:
    spotify_id = spotify_id_of(key)
    return f"https://open.spotify.com/{kind.value}/{spotify_id}" if spotify_id else None


def _no_plays() -> UserStats:
    return UserStats(plays=0, total_ms=0, first_played=None, last_played=None, plays_per_month=[])


class TrackOut(BaseModel):
    spotify_id: str
    name: str
    artists: list[str]
    artist_ids: list[str]
    album: str | None
    album_id: str | None
    duration_ms: int | None
    external_url: str | None
    image_url: str | None
    stats: UserStats
    merges: list[MergeOut]  # what a person merged into this track


@router.get("/tracks/{track_id}", response_model=TrackOut, summary="A track and your stats")
async def track(a: AnalyticsDep, track_id: ItemId, tz: Tz = None) -> TrackOut:
    view, entity, key, doc = await _entity(a, Kind.TRACK, track_id)
    item = await _described(a, Kind.TRACK, entity, key, doc)
    stats, merges, duration = _no_plays(), [], doc.get("duration_ms")
    if entity is not None:
        stats = stats_of(view, view.tracks_of(Kind.TRACK, entity), a.zone(tz))
        merges = await _merges(a, view, Kind.TRACK, entity)
        duration = duration or view.duration_of(entity)
    return TrackOut(
        spotify_id=item["spotify_id"],
        **shown_track(item),
        duration_ms=duration,
        external_url=doc.get("external_url") or _external_url(Kind.TRACK, key),
        stats=stats,
        merges=merges,
    )


class ArtistOut(BaseModel):
    spotify_id: str
    name: str
    genres: list[str]
    image_url: str | None
    external_url: str | None
    stats: UserStats
    top_tracks: list[TopItem]
    merges: list[MergeOut]


@dataclass(frozen=True)
class _Page:
    """What an artist's or an album's page shows of the entity and of your plays."""

    item: dict[str, Any]
    key: str
    doc: dict[str, Any]
    stats: UserStats
    tracks: list[TopItem]
    merges: list[MergeOut]


async def _page(
    a: AnalyticsDep, kind: Kind, item_id: str, tz: str | None, shown: int | None
) -> _Page:
    """The entity, your stats of its plays, up to ``shown`` of its tracks you played (None:
    all; most played first) and what you merged into it."""
    view, entity, key, doc = await _entity(a, kind, item_id)
    item = await _described(a, kind, entity, key, doc)
    stats, tracks, merges = _no_plays(), [], []
    if entity is not None:
        mine = view.tracks_of(kind, entity)
        stats = stats_of(view, mine, a.zone(tz))
        tracks = await a.top_items(
            "t", ranked_tracks(view, mine, len(mine) if shown is None else shown), 1
        )
        merges = await _merges(a, view, kind, entity)
    return _Page(item, key, doc, stats, [TopItem(**t) for t in tracks], merges)


@router.get("/artists/{artist_id}", response_model=ArtistOut, summary="An artist and your stats")
async def artist(a: AnalyticsDep, artist_id: ItemId, tz: Tz = None) -> ArtistOut:
    """``artist_id`` is a Spotify id, or the ``name:`` key top lists give artists without one."""
    page = await _page(a, Kind.ARTIST, artist_id, tz, shown=10)
    return ArtistOut(
        spotify_id=page.item["spotify_id"],
        name=page.doc.get("name") or page.item["name"],
        genres=[str(g) for g in page.doc.get("genres") or []],
        image_url=page.item["image_url"],
        external_url=page.doc.get("external_url") or _external_url(Kind.ARTIST, page.key),
        stats=page.stats,
        top_tracks=page.tracks,
        merges=page.merges,
    )


class AlbumOut(BaseModel):
    spotify_id: str
    name: str
    artists: list[str]
    artist_ids: list[str]
    image_url: str | None
    external_url: str | None
    release_date: str | None
    stats: UserStats
    tracks: list[TopItem]  # the album's tracks you played, most played first
    merges: list[MergeOut]


@router.get("/albums/{album_id}", response_model=AlbumOut, summary="An album and your stats")
async def album(a: AnalyticsDep, album_id: ItemId, tz: Tz = None) -> AlbumOut:
    """``album_id`` is a Spotify id, or the ``name:`` key top lists give albums without one."""
    page = await _page(a, Kind.ALBUM, album_id, tz, shown=None)
    item, doc = page.item, page.doc
    return AlbumOut(
        spotify_id=item["spotify_id"],
        name=doc.get("name") or item["name"],
        artists=item["artists"] or list(doc.get("artist_names") or []),
        artist_ids=item["artist_ids"] or list(doc.get("artist_ids") or []),
        image_url=item["image_url"],
        external_url=doc.get("external_url") or _external_url(Kind.ALBUM, page.key),
        release_date=doc.get("release_date"),
        stats=page.stats,
        tracks=page.tracks,
        merges=page.merges,
    )
