"""JSON builders for Spotify objects, as a development-mode app sees them in 2026.

``dev_mode`` strips the fields Spotify removed in February 2026 (popularity, markets, genres,
followers, labels...). Links (``href``, ``next``) point at the simulator itself so a client that
follows them stays inside the simulation, and so do image URLs (the simulator serves its own
pictures); ``external_urls`` keep open.spotify.com like the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from echostats.simulator.catalog import (
    Album,
    Artist,
    Catalog,
    LocalFile,
    Playlist,
    PlaylistEntry,
    Track,
)
from echostats.simulator.clock import iso_s
from echostats.simulator.images import image_url
from echostats.simulator.playback import Device
from echostats.simulator.spoken import Audiobook, Chapter, Episode, Show, Spoken

Json = dict[str, Any]
MARKETS = ["DE", "FR", "GB", "NL", "SE", "US"]


def open_url(kind: str, ident: str) -> Json:
    return {"spotify": f"https://open.spotify.com/{kind}/{ident}"}


@dataclass(frozen=True)
class Shapes:
    catalog: Catalog
    dev_mode: bool
    api_base: str  # e.g. "http://127.0.0.1:8765/v1"
    scopes: frozenset[str] = frozenset()  # the token's: some fields need one

    @property
    def spoken(self) -> Spoken:
        return self.catalog.spoken

    def _link(self, kind: str, ident: str) -> Json:
        return {
            "external_urls": open_url(kind, ident),
            "href": f"{self.api_base}/{kind}s/{ident}",
            "id": ident,
            "type": kind,
            "uri": f"spotify:{kind}:{ident}",
        }

    # --- images ------------------------------------------------------------------------------
    # Same sizes and id prefixes as Spotify's CDN, served by the simulator itself
    # (``echostats.simulator.images``): nothing a demo shows comes from outside the machine.

    @property
    def root(self) -> str:
        """The simulator's own base URL (``api_base`` without ``/v1``)."""
        return self.api_base.removesuffix("/v1")

    def image(self, image_id: str) -> str:
        return image_url(self.root, image_id)

    def album_images(self, key: str) -> list[Json]:
        sizes = (("ab67616d0000b273", 640), ("ab67616d00001e02", 300), ("ab67616d00004851", 64))
        return [{"url": self.image(p + key), "height": s, "width": s} for p, s in sizes]

    def artist_images(self, key: str) -> list[Json]:
        sizes = (("ab6761610000e5eb", 640), ("ab67616100005174", 320), ("ab6761610000f178", 160))
        return [{"url": self.image(p + key), "height": s, "width": s} for p, s in sizes]

    def playlist_images(self, key: str) -> list[Json]:
        # User playlist covers come without dimensions (height/width null), as on the real API.
        return [{"url": self.image("ab67706c0000da84" + key), "height": None, "width": None}]

    # --- artists and albums --------------------------------------------------------------

    def simplified_artist(self, artist: Artist) -> Json:
        out = self._link("artist", artist.id)
        out["name"] = artist.name
        return out

    def artist(self, artist: Artist) -> Json:
        out = self.simplified_artist(artist)
        out["images"] = self.artist_images(artist.image_key)
        if not self.dev_mode:
            out["genres"] = list(artist.genres)
            out["popularity"] = artist.popularity
            out["followers"] = {"href": None, "total": artist.followers}
        return out

    def simplified_album(self, album: Album, *, group: str | None = None) -> Json:
        out = self._link("album", album.id)
        out.update(
            album_type=album.album_type,
            artists=[self.simplified_artist(self.catalog.artists[a]) for a in album.artist_ids],
            images=self.album_images(album.image_key),
            name=album.name,
            release_date=album.release_date,
            release_date_precision=album.release_date_precision,
            total_tracks=len(album.track_ids),
        )
        if not self.dev_mode:
            out["available_markets"] = MARKETS
            if group is not None:
                out["album_group"] = group
        return out

    def album(self, album: Album, *, limit: int = 50) -> Json:
        out = self.simplified_album(album)
        tracks = [self.simplified_track(self.catalog.tracks[t]) for t in album.track_ids]
        href = f"{self.api_base}/albums/{album.id}/tracks"
        out.update(
            tracks=self.paging(tracks[:limit], href, limit, 0, len(tracks)),
            copyrights=[{"text": f"(P) {album.release_date[:4]} {album.label}", "type": "P"}],
            external_ids={"upc": album.upc},
            # Still sent as an empty list (SPOTIFY.md 2.1), unlike label and popularity.
            genres=[],
        )
        if not self.dev_mode:
            out["label"] = album.label
            out["popularity"] = album.popularity
        return out

    # --- tracks --------------------------------------------------------------------------

    def simplified_track(self, track: Track) -> Json:
        out = self._link("track", track.id)
        out.update(
            artists=[self.simplified_artist(self.catalog.artists[a]) for a in track.artist_ids],
            disc_number=track.disc_number,
            duration_ms=track.duration_ms,
            explicit=track.explicit,
            is_local=False,
            is_playable=True,
            name=track.name,
            track_number=track.track_number,
        )
        if not self.dev_mode:
            out["available_markets"] = MARKETS
            out["preview_url"] = None
        return out

    def track(self, track: Track) -> Json:
        out = self.simplified_track(track)
        out["album"] = self.simplified_album(self.catalog.albums[track.album_id])
        out["external_ids"] = {"isrc": track.isrc}
        if not self.dev_mode:
            out["popularity"] = track.popularity
        return out

    # --- spoken word (dev mode drops publisher and markets, preview URLs since Nov 2024) ---

    @staticmethod
    def _about(name: str) -> Json:
        return {"description": name, "html_description": f"<p>{name}</p>", "languages": ["en"]}

    def simplified_show(self, show: Show) -> Json:
        out = self._link("show", show.id)
        out.update(
            self._about(f"Conversations about {show.name.lower()}."),
            copyrights=[],
            explicit=show.explicit,
            images=self.album_images(show.image_key),
            is_externally_hosted=False,
            media_type="audio",
            name=show.name,
            total_episodes=len(show.episode_ids),
        )
        if not self.dev_mode:
            out.update(available_markets=MARKETS, publisher=show.publisher)
        return out

    def show(self, show: Show, *, limit: int = 50) -> Json:
        out = self.simplified_show(show)
        rows = [self.episode(self.spoken.episodes[e], full=False) for e in show.episode_ids]
        href = f"{self.api_base}/shows/{show.id}/episodes"
        out["episodes"] = self.paging(rows[:limit], href, limit, 0, len(rows))
        return out

    def _playable(self, kind: str, ident: str, name: str, duration_ms: int, date: str) -> Json:
        out = self._link(kind, ident)
        out.update(
            self._about(name),
            duration_ms=duration_ms,
            is_playable=True,
            name=name,
            release_date=date,
            release_date_precision="day",
        )
        if "user-read-playback-position" in self.scopes:
            out["resume_point"] = {"fully_played": False, "resume_position_ms": 0}
        if not self.dev_mode:
            out["audio_preview_url"] = None
        return out

    def episode(self, episode: Episode, *, full: bool = True) -> Json:
        show = self.spoken.shows[episode.show_id]
        out = self._playable(
            "episode", episode.id, episode.name, episode.duration_ms, episode.release_date
        )
        out.update(
            explicit=episode.explicit,
            images=self.album_images(show.image_key),
            is_externally_hosted=False,
        )
        if full:
            out["show"] = self.simplified_show(show)
        return out

    def audiobook(self, book: Audiobook, *, full: bool = True, limit: int = 50) -> Json:
        out = self._link("audiobook", book.id)
        out.update(
            self._about(f"{book.name}, by {book.author}."),
            authors=[{"name": book.author}],
            copyrights=[{"text": f"(C) {book.release_date[:4]} {book.publisher}", "type": "C"}],
            edition="Unabridged",
            explicit=False,
            images=self.album_images(book.image_key),
            media_type="audio",
            name=book.name,
            narrators=[{"name": book.narrator}],
            total_chapters=len(book.chapter_ids),
        )
        if not self.dev_mode:
            out.update(available_markets=MARKETS, publisher=book.publisher)
        if full:
            rows = [self.chapter(self.spoken.chapters[c], full=False) for c in book.chapter_ids]
            href = f"{self.api_base}/audiobooks/{book.id}/chapters"
            out["chapters"] = self.paging(rows[:limit], href, limit, 0, len(rows))
        return out

    def chapter(self, chapter: Chapter, *, full: bool = True) -> Json:
        book = self.spoken.audiobooks[chapter.audiobook_id]
        # Chapters are episodes on the wire (the spec's ``type`` enum); only the href differs.
        out = self._playable(
            "episode", chapter.id, chapter.name, chapter.duration_ms, book.release_date
        )
        out.update(
            chapter_number=chapter.number,
            explicit=False,
            href=f"{self.api_base}/chapters/{chapter.id}",
            images=self.album_images(book.image_key),
        )
        if not self.dev_mode:
            out["available_markets"] = MARKETS
        if full:
            out["audiobook"] = self.audiobook(book, full=False)
        return out

    def playable(self, item_id: str) -> Json:
        """What the player has on: a track or a podcast episode."""
        track = self.catalog.tracks.get(item_id)
        return (
            self.track(track) if track is not None else self.episode(self.spoken.episodes[item_id])
        )

    # --- users and playlists -------------------------------------------------------------

    def user_ref(
        self, user_id: str, display_name: str | None = None, *, named: bool = True
    ) -> Json:
        out = self._link("user", user_id)
        if named:
            out["display_name"] = display_name
        return out

    def simplified_playlist(self, playlist: Playlist) -> Json:
        out = self._link("playlist", playlist.id)
        ref = {
            "href": f"{self.api_base}/playlists/{playlist.id}/items",
            "total": len(playlist.entries),
        }
        out.update(
            collaborative=playlist.collaborative,
            description=playlist.description,
            images=self.playlist_images(playlist.image_key),
            name=playlist.name,
            owner=self.user_ref(playlist.owner_id, playlist.owner_name),
            public=playlist.public,
            snapshot_id=playlist.snapshot_id,
            items=ref,
            primary_color=None,  # undocumented, in real answers (SPOTIFY.md 2.7)
        )
        if not self.dev_mode:
            out["tracks"] = dict(ref)
        return out

    def playlist(self, playlist: Playlist, *, with_items: bool) -> Json:
        out = self.simplified_playlist(playlist)
        del out["items"]
        out.pop("tracks", None)
        out["followers"] = {"href": None, "total": playlist.followers}
        if with_items:
            href = f"{self.api_base}/playlists/{playlist.id}/items"
            rows = [self.playlist_item(e) for e in playlist.entries[:100]]
            out["items"] = self.paging(rows, href, 100, 0, len(playlist.entries))
            if not self.dev_mode:
                out["tracks"] = out["items"]
        return out

    def playlist_item(self, entry: PlaylistEntry) -> Json:
        item: Json | None = None
        if entry.local is not None:
            item = {**self.local_track(entry.local), "episode": False, "track": True}
        elif not entry.unavailable:
            episode = entry.track_id in self.spoken.episodes
            # Undocumented flags real rows carry on their item.
            item = {**self.playable(entry.track_id), "episode": episode, "track": not episode}
        out: Json = {
            "added_at": iso_s(entry.added_at) if entry.added_at is not None else None,
            "added_by": self.user_ref(entry.added_by, named=False) if entry.added_by else None,
            "is_local": entry.local is not None,
            "item": item,
            # Undocumented keys the real rows carry (probe 2026-10-02).
            "primary_color": None,
            "video_thumbnail": {"url": None},
        }
        if not self.dev_mode:
            out["track"] = item
        return out

    @staticmethod
    def local_track(local: LocalFile) -> Json:
        """A local file as the Web API shows it: names only, every id and link null."""
        nothing: Json = {"external_urls": {}, "href": None, "id": None, "uri": None}
        return {
            **nothing,
            "album": {
                **nothing,
                "album_type": None,
                "artists": [],
                "images": [],
                "name": local.album,
                "release_date": None,
                "release_date_precision": None,
                "type": "album",
            },
            "artists": [{**nothing, "name": local.artist, "type": "artist"}],
            "disc_number": 0,
            "duration_ms": local.duration_ms,
            "explicit": False,
            "external_ids": {},
            "is_local": True,
            "name": local.title,
            "track_number": 0,
            "type": "track",
            "uri": local.uri,
        }

    # --- player --------------------------------------------------------------------------

    @staticmethod
    def device(device: Device, *, active: bool) -> Json:
        return {
            "id": device.id,
            "is_active": active,
            "is_private_session": device.is_private_session,
            "is_restricted": device.is_restricted,
            "name": device.name,
            "type": device.type,
            "volume_percent": device.volume_percent,
            "supports_volume": device.supports_volume,
        }

    def context(self, uri: str | None) -> Json | None:
        if uri is None:
            return None
        _, kind, ident = uri.split(":")
        return {
            "type": kind,
            "href": f"{self.api_base}/{kind}s/{ident}",
            "external_urls": open_url(kind, ident),
            "uri": uri,
        }

    # --- containers ----------------------------------------------------------------------

    @staticmethod
    def paging(items: list[Any], href: str, limit: int, offset: int, total: int) -> Json:
        def page(at: int) -> str:
            sep = "&" if "?" in href else "?"
            return f"{href}{sep}offset={at}&limit={limit}"

        return {
            "href": page(offset),
            "items": items,
            "limit": limit,
            "next": page(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": page(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }
