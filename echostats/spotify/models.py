"""Typed views of Spotify's JSON, tolerant of what development-mode apps really receive.

Spotify strips fields for development-mode apps (genres, popularity, followers, product, country,
email, available_markets, ...), renamed playlist ``tracks``/``track`` to ``items``/``item``, puts
``null`` rows in search results, sends ``null`` cursors and contexts, and wraps ``actions`` in
``disallows`` although its own spec does not. Every such field is optional here, unknown fields
are ignored, and ``null`` rows are dropped from pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator
from pydantic import model_validator as _model_validator


class SpotifyModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


T = TypeVar("T")


# --- building blocks -------------------------------------------------------------------------


class Image(SpotifyModel):
    url: str
    height: int | None = None
    width: int | None = None


class Followers(SpotifyModel):
    total: int | None = None


class ExternalIds(SpotifyModel):
    isrc: str | None = None
    ean: str | None = None
    upc: str | None = None


class Context(SpotifyModel):
    type: str | None = None
    uri: str | None = None
    href: str | None = None
    external_urls: dict[str, str] = Field(default_factory=dict)


class Cursors(SpotifyModel):
    after: str | None = None
    before: str | None = None


def drop_nulls(value: Any) -> Any:
    if isinstance(value, list):
        return [item for item in value if item is not None]
    return value


class Paging(SpotifyModel, Generic[T]):
    """Offset paging. ``null`` rows (seen in search results) are dropped."""

    href: str | None = None
    items: list[T] = Field(default_factory=list)
    limit: int | None = None
    next: str | None = None
    offset: int | None = None
    previous: str | None = None
    total: int | None = None

    _nulls = field_validator("items", mode="before")(drop_nulls)


class CursorPaging(SpotifyModel, Generic[T]):
    """Cursor paging; ``cursors`` is ``null`` on empty pages and ``total`` often absent."""

    href: str | None = None
    items: list[T] = Field(default_factory=list)
    limit: int | None = None
    next: str | None = None
    cursors: Cursors | None = None
    total: int | None = None

    _nulls = field_validator("items", mode="before")(drop_nulls)


# --- catalog ---------------------------------------------------------------------------------


class SimplifiedArtist(SpotifyModel):
    id: str | None = None  # null for local files
    name: str = ""
    uri: str | None = None
    href: str | None = None
    type: str = "artist"
    external_urls: dict[str, str] = Field(default_factory=dict)


class Artist(SimplifiedArtist):
    images: list[Image] = Field(default_factory=list)
    genres: list[str] = Field(default_factory=list)  # absent for development-mode apps
    popularity: int | None = None
    followers: Followers | None = None


class SimplifiedAlbum(SpotifyModel):
    id: str | None = None
    name: str = ""
    uri: str | None = None
    href: str | None = None
    type: str = "album"
    album_type: str | None = None
    artists: list[SimplifiedArtist] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    release_date: str | None = None
    release_date_precision: str | None = None
    total_tracks: int | None = None
    available_markets: list[str] = Field(default_factory=list)
    external_urls: dict[str, str] = Field(default_factory=dict)


class SimplifiedTrack(SpotifyModel):
    id: str | None = None  # null for local files
    name: str = ""
    uri: str | None = None
    href: str | None = None
    type: Literal["track"] = "track"
    artists: list[SimplifiedArtist] = Field(default_factory=list)
    duration_ms: int | None = None
    explicit: bool = False
    disc_number: int | None = None
    track_number: int | None = None
    is_local: bool = False
    is_playable: bool | None = None
    preview_url: str | None = None
    external_urls: dict[str, str] = Field(default_factory=dict)


class Track(SimplifiedTrack):
    album: SimplifiedAlbum | None = None
    external_ids: ExternalIds | None = None
    popularity: int | None = None
    available_markets: list[str] = Field(default_factory=list)


class Copyright(SpotifyModel):
    text: str = ""
    type: str | None = None


class Album(SimplifiedAlbum):
    tracks: Paging[SimplifiedTrack] | None = None
    copyrights: list[Copyright] = Field(default_factory=list)
    external_ids: ExternalIds | None = None
    genres: list[str] = Field(default_factory=list)
    label: str | None = None
    popularity: int | None = None


class SimplifiedShow(SpotifyModel):
    id: str | None = None
    name: str = ""
    uri: str | None = None
    publisher: str | None = None  # removed for development-mode apps
    images: list[Image] = Field(default_factory=list)


class Episode(SpotifyModel):
    id: str | None = None
    name: str = ""
    uri: str | None = None
    href: str | None = None
    type: Literal["episode"] = "episode"
    duration_ms: int | None = None
    explicit: bool = False
    release_date: str | None = None
    description: str | None = None
    images: list[Image] = Field(default_factory=list)
    show: SimplifiedShow | None = None
    external_urls: dict[str, str] = Field(default_factory=dict)


def _playable_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "episode" if kind == "episode" else "track"


Playable = Annotated[
    Annotated[Track, Tag("track")] | Annotated[Episode, Tag("episode")],
    Discriminator(_playable_kind),
]
"""What can play: a track, or a podcast episode in its place."""


# --- user ------------------------------------------------------------------------------------


class ExplicitContent(SpotifyModel):
    filter_enabled: bool | None = None
    filter_locked: bool | None = None


class User(SpotifyModel):
    """``GET /me``. Fields after ``images`` may be missing for development-mode apps."""

    id: str
    display_name: str | None = None
    account_id: str | None = None  # added May 2026: stable, pseudonymous
    uri: str | None = None
    href: str | None = None
    external_urls: dict[str, str] = Field(default_factory=dict)
    images: list[Image] = Field(default_factory=list)
    email: str | None = None
    country: str | None = None
    product: str | None = None
    explicit_content: ExplicitContent | None = None
    followers: Followers | None = None


class PublicUser(SpotifyModel):
    id: str | None = None
    display_name: str | None = None
    uri: str | None = None
    href: str | None = None
    type: str | None = None
    external_urls: dict[str, str] = Field(default_factory=dict)


# --- library and playlists -------------------------------------------------------------------


class ItemsRef(SpotifyModel):
    """A playlist's ``items: {href, total}`` summary (formerly ``tracks``)."""

    href: str | None = None
    total: int | None = None


def _renamed(value: Any, new: str, old: str) -> Any:
    """Accept Spotify's pre-2026 key when the new one is missing (deprecation window)."""
    if isinstance(value, dict) and new not in value and old in value:
        return {**value, new: value[old]}
    return value


class _PlaylistBase(SpotifyModel):
    id: str
    name: str = ""
    uri: str | None = None
    href: str | None = None
    description: str | None = None
    collaborative: bool = False
    public: bool | None = None
    snapshot_id: str | None = None
    owner: PublicUser | None = None
    images: list[Image] = Field(default_factory=list)
    primary_color: str | None = None
    external_urls: dict[str, str] = Field(default_factory=dict)

    @_model_validator(mode="before")
    @classmethod
    def _tracks_to_items(cls, value: Any) -> Any:
        return _renamed(value, "items", "tracks")

    @field_validator("images", mode="before")
    @classmethod
    def _null_images(cls, value: Any) -> Any:
        return [] if value is None else value


class SimplifiedPlaylist(_PlaylistBase):
    """A row of ``GET /me/playlists``: ``items`` only summarises the contents."""

    items: ItemsRef | None = None


class PlaylistItem(SpotifyModel):
    """A playlist row; ``item`` is None for unavailable tracks."""

    added_at: datetime | None = None
    added_by: PublicUser | None = None
    is_local: bool = False
    item: Playable | None = None
    primary_color: str | None = None

    @_model_validator(mode="before")
    @classmethod
    def _track_to_item(cls, value: Any) -> Any:
        return _renamed(value, "item", "track")


class Playlist(_PlaylistBase):
    """``GET /playlists/{id}``; ``items`` is None for playlists the user neither owns nor
    collaborates on (Spotify sends metadata only, or just a ``{href, total}`` summary)."""

    items: Paging[PlaylistItem] | None = None
    followers: Followers | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _summary_is_not_a_page(cls, value: Any) -> Any:
        if isinstance(value, dict) and "items" not in value:
            return None
        return value


class SavedTrack(SpotifyModel):
    added_at: datetime | None = None
    track: Track


class SavedAlbum(SpotifyModel):
    added_at: datetime | None = None
    album: Album


class FollowedArtists(SpotifyModel):
    artists: CursorPaging[Artist]


# --- search and browse -----------------------------------------------------------------------


class SearchResults(SpotifyModel):
    tracks: Paging[Track] | None = None
    artists: Paging[Artist] | None = None
    albums: Paging[SimplifiedAlbum] | None = None
    playlists: Paging[SimplifiedPlaylist] | None = None
    shows: Paging[SimplifiedShow] | None = None
    episodes: Paging[Episode] | None = None


class NewReleases(SpotifyModel):
    albums: Paging[SimplifiedAlbum]


class FeaturedPlaylists(SpotifyModel):
    message: str | None = None
    playlists: Paging[SimplifiedPlaylist]


class Category(SpotifyModel):
    id: str
    name: str = ""
    href: str | None = None
    icons: list[Image] = Field(default_factory=list)


class Categories(SpotifyModel):
    categories: Paging[Category]


class Recommendations(SpotifyModel):
    tracks: list[Track] = Field(default_factory=list)

    _nulls = field_validator("tracks", mode="before")(drop_nulls)
