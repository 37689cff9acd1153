"""``/api/v1/library``: followed artists (cursor paging) and saved albums (offset paging), live.

Spotify pages at most 50 per call. Followed artists keep Spotify's cursor model (``after`` = the
last artist id of the previous page) and hand back ``next_after`` for the next request; saved
albums honour ``limit`` exactly up to 100 by reading as many Spotify pages as that takes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from echostats.api.auth import CurrentUser
from echostats.api.passthrough import AlbumOut, ArtistOut, SpotifyDep, album_out, artist_out
from echostats.api.timestamps import Timestamp
from echostats.spotify.models import SavedAlbum

router = APIRouter(prefix="/api/v1/library", tags=["library"])

SPOTIFY_PAGE = 50
ArtistCursor = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9A-Za-z]{1,64}$",
        description="The last artist id of the previous page (its `next_after`).",
    ),
]


class FollowedArtistsOut(BaseModel):
    items: list[ArtistOut]
    total: int | None
    limit: int
    after: str | None
    next_after: str | None  # None: this was the last page


class SavedAlbumOut(BaseModel):
    added_at: Timestamp | None
    album: AlbumOut


class SavedAlbumsOut(BaseModel):
    items: list[SavedAlbumOut]
    total: int | None
    limit: int
    offset: int
    next_offset: int | None  # None: nothing after this page


@router.get(
    "/followed-artists",
    response_model=FollowedArtistsOut,
    summary="Followed artists, by cursor: pass `next_after` as `after` for the next page",
)
async def followed_artists(
    user: CurrentUser,
    spotify: SpotifyDep,
    after: ArtistCursor = None,
    limit: Annotated[int, Query(ge=1, le=SPOTIFY_PAGE)] = 20,
) -> FollowedArtistsOut:
    page = await spotify.followed_artists(user.id, after=after, limit=limit)
    cursor = page.cursors.after if page.cursors is not None else None
    more = bool(page.items) and page.next is not None and cursor is not None and cursor != after
    return FollowedArtistsOut(
        items=[artist_out(a) for a in page.items],
        total=page.total,
        limit=limit,
        after=after,
        next_after=cursor if more else None,
    )


@router.get("/saved-albums", response_model=SavedAlbumsOut, summary="Saved albums, newest first")
async def saved_albums(
    user: CurrentUser,
    spotify: SpotifyDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> SavedAlbumsOut:
    rows: list[SavedAlbum] = []
    total: int | None = None
    position = offset
    while len(rows) < limit:
        page = await spotify.saved_albums(
            user.id, limit=min(SPOTIFY_PAGE, limit - len(rows)), offset=position
        )
        total = page.total
        rows += page.items
        position += len(page.items)
        if not page.items or page.next is None:
            break
    end = offset + len(rows)
    more = total is not None and end < total
    return SavedAlbumsOut(
        items=[SavedAlbumOut(added_at=r.added_at, album=album_out(r.album)) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=end if more else None,
    )
