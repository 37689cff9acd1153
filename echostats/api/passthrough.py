"""What the Spotify pass-through routers share: dependencies and the shapes of catalog items.

Spotify's own JSON is never handed through as it is: each router answers with these small typed
models, so the OpenAPI schema is complete and a field Spotify drops (development mode strips
many) becomes ``null`` instead of a missing key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel

from actors.facade import Pipeline
from echostats.spotify import SpotifyClient
from echostats.spotify.models import (
    Album,
    Artist,
    Episode,
    Image,
    SimplifiedAlbum,
    SimplifiedArtist,
    SimplifiedPlaylist,
    Track,
)
from echostats.store import Store


def _spotify(request: Request) -> SpotifyClient:
    client: SpotifyClient = request.app.state.auth.spotify
    return client


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


SpotifyDep = Annotated[SpotifyClient, Depends(_spotify)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
StoreDep = Annotated[Store, Depends(_store)]


def largest_image(images: Sequence[Image]) -> str | None:
    """Spotify lists images largest first, but not every answer does."""
    if not images:
        return None
    return max(images, key=lambda i: (i.width or 0) * (i.height or 0)).url


class ArtistRef(BaseModel):
    spotify_id: str | None
    name: str


class ArtistOut(ArtistRef):
    uri: str | None
    image_url: str | None
    genres: list[str] | None  # None: Spotify did not say (development-mode apps never get them)
    external_url: str | None


class AlbumOut(BaseModel):
    spotify_id: str | None
    name: str
    uri: str | None
    album_type: str | None
    artists: list[ArtistRef]
    image_url: str | None
    release_date: str | None
    total_tracks: int | None
    external_url: str | None


class PlayableOut(BaseModel):
    """A track, or a podcast episode in its place (``album`` is then the show)."""

    type: Literal["track", "episode"]
    spotify_id: str | None
    name: str
    uri: str | None
    artists: list[ArtistRef]
    album: str | None
    album_id: str | None = None  # the album's Spotify id, for ``/albums/{id}``
    image_url: str | None
    duration_ms: int | None


class PlaylistSummaryOut(BaseModel):
    spotify_id: str
    name: str
    description: str | None
    owner: str | None
    image_url: str | None
    tracks_total: int | None
    uri: str | None


def artist_refs(artists: Sequence[SimplifiedArtist]) -> list[ArtistRef]:
    return [ArtistRef(spotify_id=a.id, name=a.name) for a in artists]


def artist_out(artist: Artist) -> ArtistOut:
    return ArtistOut(
        spotify_id=artist.id,
        name=artist.name,
        uri=artist.uri,
        image_url=largest_image(artist.images),
        genres=artist.genres or None,
        external_url=artist.external_urls.get("spotify"),
    )


def album_out(album: SimplifiedAlbum | Album) -> AlbumOut:
    return AlbumOut(
        spotify_id=album.id,
        name=album.name,
        uri=album.uri,
        album_type=album.album_type,
        artists=artist_refs(album.artists),
        image_url=largest_image(album.images),
        release_date=album.release_date,
        total_tracks=album.total_tracks,
        external_url=album.external_urls.get("spotify"),
    )


def playable_out(item: Track | Episode) -> PlayableOut:
    if isinstance(item, Track):
        album = item.album
        return PlayableOut(
            type="track",
            spotify_id=item.id,
            name=item.name,
            uri=item.uri,
            artists=artist_refs(item.artists),
            album=album.name if album is not None else None,
            album_id=album.id if album is not None else None,
            image_url=largest_image(album.images) if album is not None else None,
            duration_ms=item.duration_ms,
        )
    show = item.show
    return PlayableOut(
        type="episode",
        spotify_id=item.id,
        name=item.name,
        uri=item.uri,
        artists=[],
        album=show.name if show is not None else None,
        image_url=largest_image(item.images or (show.images if show is not None else [])),
        duration_ms=item.duration_ms,
    )


def playlist_summary_out(playlist: SimplifiedPlaylist) -> PlaylistSummaryOut:
    owner = playlist.owner
    return PlaylistSummaryOut(
        spotify_id=playlist.id,
        name=playlist.name,
        description=playlist.description,
        owner=(owner.display_name or owner.id) if owner is not None else None,
        image_url=largest_image(playlist.images),
        tracks_total=playlist.items.total if playlist.items is not None else None,
        uri=playlist.uri,
    )
