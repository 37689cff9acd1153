"""The privacy export Spotify sends a listener: their Extended Streaming History, as a ZIP.

On Spotify it is requested on the account page and arrives by e-mail days later; there is no
API for it. The simulator serves it at once at ``GET /account/privacy/export`` to the holder of
the listener's access token (standing in for the logged-in browser), so demo mode can import a
real-looking history through the real importer.

Every play the simulator's listener made is a row (SPOTIFY.md §5.2, the 2024 schema): skipped
and short plays, private-session plays (``incognito_mode``), with the album artist and album
name of the track, ``ts`` the end to the second, and the files split by size as Spotify splits
them. Rendering is pure and runs off the event loop (a couple of years is tens of thousands of
rows).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from echostats.simulator.catalog import Catalog
from echostats.simulator.playback import Play

FOLDER = "Spotify Extended Streaming History"
ROWS_PER_FILE = 16_000  # Spotify cuts files at ~12 MB, about 15-18k rows
PLATFORMS = {  # device type -> the short platform tokens of exports since late 2023
    "Smartphone": "android",
    "Computer": "windows",
    "Speaker": "cast",
    "TV": "cast",
    "AVR": "cast",
    "Automobile": "android",
}


@dataclass(frozen=True)
class Listening:
    """What the export needs to know of the listener beyond the plays."""

    country: str
    platforms: dict[str, str]  # device id -> platform token
    year: int  # names the one (empty) file of a listener who never played anything


def rows(plays: Sequence[Play], catalog: Catalog, listening: Listening) -> Iterator[dict[str, Any]]:
    """The export rows of ``plays``, in the schema's field order."""
    for play in plays:
        ended = datetime.fromtimestamp(play.ended_ms / 1000, UTC)
        yield {
            "ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": listening.platforms.get(play.device_id, "unknown"),
            "ms_played": play.listened_ms,
            "conn_country": listening.country,
            "ip_addr": "203.0.113.7",
            **_what(play.track_id, catalog),
            "audiobook_title": None,
            "audiobook_uri": None,
            "audiobook_chapter_uri": None,
            "audiobook_chapter_title": None,
            "reason_start": "trackdone" if play.context_uri else "clickrow",
            "reason_end": play.reason_end,
            "shuffle": play.shuffle,
            "skipped": play.skipped,
            "offline": False,
            "offline_timestamp": play.started_ms // 1000,
            "incognito_mode": play.private,
        }


def _what(item_id: str, catalog: Catalog) -> dict[str, str | None]:
    """The track fields of a music row, or the episode fields of a podcast row."""
    episode = catalog.spoken.episodes.get(item_id)
    if episode is not None:
        return {
            "master_metadata_track_name": None,
            "master_metadata_album_artist_name": None,
            "master_metadata_album_album_name": None,
            "spotify_track_uri": None,
            "episode_name": episode.name,
            "episode_show_name": catalog.spoken.shows[episode.show_id].name,
            "spotify_episode_uri": f"spotify:episode:{episode.id}",
        }
    track = catalog.tracks[item_id]
    album = catalog.albums[track.album_id]
    return {
        "master_metadata_track_name": track.name,
        "master_metadata_album_artist_name": catalog.artists[album.artist_ids[0]].name,
        "master_metadata_album_album_name": album.name,
        "spotify_track_uri": f"spotify:track:{track.id}",
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
    }


def export_zip(plays: Sequence[Play], catalog: Catalog, listening: Listening) -> bytes:
    """The ZIP Spotify would send: ``Streaming_History_Audio_<years>_<n>.json`` files."""
    buffer = io.BytesIO()
    ordered = sorted(plays, key=lambda p: p.ended_ms)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        chunks = [ordered[i : i + ROWS_PER_FILE] for i in range(0, len(ordered), ROWS_PER_FILE)]
        for number, chunk in enumerate(chunks or [[]]):
            first = _year(chunk[0]) if chunk else listening.year
            last = _year(chunk[-1]) if chunk else listening.year
            years = str(first) if first == last else f"{first}-{last}"
            name = f"{FOLDER}/Streaming_History_Audio_{years}_{number}.json"
            body = json.dumps(list(rows(chunk, catalog, listening)), indent=2, ensure_ascii=False)
            archive.writestr(name, body)
    return buffer.getvalue()


def _year(play: Play) -> int:
    return datetime.fromtimestamp(play.ended_ms / 1000, UTC).year
