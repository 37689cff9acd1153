"""``/api/v1/playlists``: the playlists the last sync stored, with the person's plays per item.

Reads the ``playlists`` collection the syncer writes (schema in ``actors/syncer.py``); no live
Spotify call. A playlist deleted or unfollowed on Spotify disappears here with the next sync,
because the syncer removes what Spotify no longer lists. Play counts per item come from the
``plays`` collection in one aggregation over the items' track keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ValidationError, field_validator

from echostats.api.analytics_source import AnalyticsDep
from echostats.api.auth import CurrentUser
from echostats.api.passthrough import ArtistRef, StoreDep
from echostats.api.timestamps import Timestamp
from echostats.domain.plays import track_key
from echostats.errors import NotFound
from echostats.store.catalog import Catalog, image_url
from echostats.store.library import Playlists

router = APIRouter(prefix="/api/v1/playlists", tags=["playlists"])


class PlaylistOut(BaseModel):
    id: str
    name: str
    description: str | None
    owner_id: str | None
    owner_name: str | None
    owned: bool
    collaborative: bool
    public: bool | None
    image_url: str | None
    tracks_total: int | None
    with_items: bool  # owned or collaborative: Spotify shows us its rows
    synced_at: Timestamp | None


class PlaylistsPage(BaseModel):
    items: list[PlaylistOut]
    total: int
    page: int
    limit: int
    pages: int


class AlbumRef(BaseModel):
    id: str | None
    name: str | None


class PlaylistItemOut(BaseModel):
    position: int
    type: str
    spotify_id: str | None
    name: str
    artists: list[ArtistRef]
    album: AlbumRef | None
    duration_ms: int | None
    added_at: Timestamp | None
    added_by: str | None
    is_local: bool
    image_url: str | None = None  # the album's cover, where the catalog has it
    play_count: int
    last_played_at: Timestamp | None

    @field_validator("added_at", mode="before")
    @classmethod
    def _lenient_date(cls, value: Any) -> Any:
        # Spotify sends null (and, for very old playlists, odd values): unknown, not an error.
        if isinstance(value, str | datetime):
            try:
                return _DateProbe(at=value).at
            except ValidationError:
                return None
        return None


class _DateProbe(BaseModel):
    at: Timestamp


class PlaylistDetailOut(PlaylistOut):
    items: list[PlaylistItemOut]
    items_error: str | None  # why the rows could not be read at the last sync, if they could not
    items_synced_at: Timestamp | None


def _playlist(doc: Mapping[str, Any]) -> PlaylistOut:
    return PlaylistOut(
        id=doc["playlist_id"],
        name=doc.get("name") or "",
        description=doc.get("description"),
        owner_id=doc.get("owner_id"),
        owner_name=doc.get("owner_name"),
        owned=bool(doc.get("owned")),
        collaborative=bool(doc.get("collaborative")),
        public=doc.get("public"),
        image_url=doc.get("image_url"),
        tracks_total=doc.get("tracks_total"),
        with_items=bool(doc.get("with_items")),
        synced_at=doc.get("synced_at"),
    )


def _item_key(item: Mapping[str, Any]) -> str:
    """The plays' track key of a row: the Spotify id, or the name key for local files."""
    artists = item.get("artists") or []
    first = artists[0].get("name", "") if artists and isinstance(artists[0], Mapping) else ""
    return track_key(item.get("spotify_id"), first or "", item.get("name") or "")


@router.get("", response_model=PlaylistsPage, summary="The playlists of the last sync, by name")
async def list_playlists(
    user: CurrentUser,
    store: StoreDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PlaylistsPage:
    docs, total = await Playlists(store).page(user.id, (page - 1) * limit, limit)
    return PlaylistsPage(
        items=[_playlist(d) for d in docs],
        total=total,
        page=page,
        limit=limit,
        pages=(total + limit - 1) // limit,
    )


@router.get(
    "/{playlist_id}",
    response_model=PlaylistDetailOut,
    responses={404: {"description": "No such playlist among this person's synced playlists"}},
    summary="One playlist with its items and how often you played each",
)
async def get_playlist(
    a: AnalyticsDep,
    store: StoreDep,
    playlist_id: Annotated[str, Path(max_length=64)],
) -> PlaylistDetailOut:
    doc = await Playlists(store).get(a.user.id, playlist_id)
    if doc is None:
        raise NotFound(
            "There is no such playlist among your synced playlists; it may have been deleted, "
            "or the first sync has not finished yet."
        )
    rows = [r for r in doc.get("items") or [] if isinstance(r, Mapping)]
    keys = [_item_key(r) for r in rows]
    counts = (await a.view()).play_counts(keys)
    album_ids = [
        str(al["id"]) for r in rows if isinstance(al := r.get("album"), Mapping) and al.get("id")
    ]
    covers = await Catalog(store).many("albums", set(album_ids))
    items: list[PlaylistItemOut] = []
    for row, key in zip(rows, keys, strict=True):
        plays, last = counts.get(key, (0, None))
        album = row.get("album")
        cover = covers.get(album.get("id") or "") if isinstance(album, Mapping) else None
        items.append(
            PlaylistItemOut(
                position=int(row.get("position", len(items))),
                type=row.get("type") or "track",
                spotify_id=row.get("spotify_id"),
                name=row.get("name") or "",
                artists=[
                    ArtistRef(spotify_id=a.get("id"), name=a.get("name") or "")
                    for a in row.get("artists") or []
                    if isinstance(a, Mapping)
                ],
                album=AlbumRef(id=album.get("id"), name=album.get("name"))
                if isinstance(album, Mapping)
                else None,
                duration_ms=row.get("duration_ms"),
                added_at=row.get("added_at"),
                added_by=row.get("added_by"),
                is_local=bool(row.get("is_local")),
                image_url=image_url(cover),
                play_count=plays,
                last_played_at=last,
            )
        )
    return PlaylistDetailOut(
        **_playlist(doc).model_dump(),
        items=items,
        items_error=doc.get("items_error"),
        items_synced_at=doc.get("items_synced_at"),
    )
