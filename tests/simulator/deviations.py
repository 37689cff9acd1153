"""Every way the simulator is allowed to differ from Spotify's OpenAPI spec, in one place.

The conformance test validates responses strictly: no undeclared keys, every non-deprecated
declared property present, deprecated properties absent in development mode (Spotify removed
them in February 2026). Each exception below says why the real service behaves that way; anything
not listed here fails the test.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

Kind = Literal["nullable", "nullable_items", "optional", "extra", "replace", "keep_deprecated"]


@dataclasses.dataclass(frozen=True)
class Deviation:
    schema: str  # the component schema declaring the field (or "response:<Name>" for inline ones)
    field: str  # "*" = every declared property of the schema
    kind: Kind
    reason: str
    json_schema: dict[str, Any] = dataclasses.field(
        default_factory=dict
    )  # for "extra" and "replace"


DISALLOWS_WRAPPER = {"$strict_ref": "DisallowsObject", "$wrap": "disallows"}
NULLABLE_STRING = {"type": ["string", "null"]}
# Real playlist rows carry undocumented ``episode``/``track`` flags on their item.
ITEM_FLAGS = {"episode": {"type": "boolean"}, "track": {"type": "boolean"}}
NOTHING = {"type": "null"}
NO_LINKS = {
    "external_urls": {"type": "object", "maxProperties": 0},
    "href": NOTHING,
    "id": NOTHING,
}
# A local file in a playlist: names only, no ids or links (Spotify's "Local Files" docs).
LOCAL_TRACK = {
    "type": "object",
    "properties": {
        **NO_LINKS,
        **ITEM_FLAGS,
        "album": {
            "type": "object",
            "properties": {
                **NO_LINKS,
                "album_type": NOTHING,
                "artists": {"type": "array", "maxItems": 0},
                "images": {"type": "array", "maxItems": 0},
                "name": {"type": "string"},
                "release_date": NOTHING,
                "release_date_precision": NOTHING,
                "type": {"enum": ["album"]},
                "uri": NOTHING,
            },
            "additionalProperties": False,
        },
        "artists": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    **NO_LINKS,
                    "name": {"type": "string"},
                    "type": {"enum": ["artist"]},
                    "uri": NOTHING,
                },
                "additionalProperties": False,
            },
        },
        "disc_number": {"type": "integer"},
        "duration_ms": {"type": "integer"},
        "explicit": {"type": "boolean"},
        "external_ids": {"type": "object", "maxProperties": 0},
        "is_local": {"enum": [True]},
        "name": {"type": "string"},
        "track_number": {"type": "integer"},
        "type": {"enum": ["track"]},
        "uri": {"type": "string", "pattern": "^spotify:local:"},
    },
    "additionalProperties": False,
}
PLAYLIST_ITEM = {
    "oneOf": [
        {"$strict_ref": "TrackObject", "$extra": ITEM_FLAGS},
        {"$strict_ref": "EpisodeObject", "$extra": ITEM_FLAGS},
        {"$literal": LOCAL_TRACK},
    ],
    "nullable": True,  # a track gone from the catalog leaves its row with item null (2.7)
}

FIELD_DEVIATIONS: tuple[Deviation, ...] = (
    # --- real-world shapes the spec does not model (SPOTIFY.md 4, "spec quirks") -------------
    Deviation(
        "CurrentlyPlayingObject",
        "actions",
        "replace",
        "actions arrive wrapped as {'disallows': {...}} (captured real response, 2.3)",
        DISALLOWS_WRAPPER,
    ),
    Deviation(
        "CurrentlyPlayingContextObject",
        "actions",
        "replace",
        "actions arrive wrapped as {'disallows': {...}} (captured real response, 2.3)",
        DISALLOWS_WRAPPER,
    ),
    Deviation("DisallowsObject", "*", "optional", "only the keys that are true are sent (2.3)"),
    Deviation(
        "CurrentlyPlayingContextObject",
        "smart_shuffle",
        "extra",
        "undocumented smart_shuffle flag on GET /me/player (2.4)",
        {"type": "boolean"},
    ),
    *(
        Deviation(
            schema,
            "context",
            "nullable",
            "context is null while a list of URIs plays (2.3: 'context (nullable)')",
        )
        for schema in ("CurrentlyPlayingObject", "CurrentlyPlayingContextObject")
    ),
    *(
        Deviation(
            schema,
            "item",
            "nullable",
            "item is null during an advert, and for an episode unless episodes were asked for",
        )
        for schema in ("CurrentlyPlayingObject", "CurrentlyPlayingContextObject")
    ),
    Deviation(
        "PlayHistoryObject",
        "context",
        "nullable",
        "recently-played context is null for plays outside a context (2.2, probe 2026)",
    ),
    Deviation(
        "CursorPagingObject",
        "cursors",
        "nullable",
        "cursors is null when a cursor page is empty (2.2, spotify/web-api#1405)",
    ),
    Deviation(
        "CursorPagingObject",
        "next",
        "nullable",
        "next is null on an empty recently-played page (2.2) and the last /me/following page",
    ),
    Deviation(
        "CursorPagingObject", "total", "optional", "recently-played responses carry no total (2.1)"
    ),
    Deviation(
        "CursorObject", "before", "optional", "/me/following cursors only carry 'after' (2.8)"
    ),
    Deviation(
        "CursorObject", "after", "nullable", "the last page of /me/following has cursors.after null"
    ),
    Deviation(
        "QueueObject",
        "currently_playing",
        "nullable",
        "an idle player answers {currently_playing: null, queue: []} (2.5)",
    ),
    Deviation(
        "ErrorObject",
        "reason",
        "extra",
        "player errors and the quota 429 add a reason (2.1, 2.5, 1.5)",
        {"type": "string"},
    ),
    Deviation(
        "PlaylistTrackObject",
        "primary_color",
        "extra",
        "real playlist rows carry primary_color (probe 2026-10-02, 1.6)",
        NULLABLE_STRING,
    ),
    *(
        Deviation(
            "PlaylistTrackObject",
            key,
            "nullable",
            "very old playlist rows have added_at and added_by null (the spec's own notes)",
        )
        for key in ("added_at", "added_by")
    ),
    Deviation(
        "response:SearchItems",
        "playlists",
        "replace",
        "playlist search results may contain null rows (probe 2026-10-02, 1.6)",
        {"$strict_ref": "PagingPlaylistObject", "$null_items": True},
    ),
    *(
        Deviation(
            "PlaylistTrackObject",
            key,
            "replace",
            "the item of a real playlist row carries episode/track flags (captured responses)",
            PLAYLIST_ITEM,
        )
        for key in ("item", "track")
    ),
    *(
        Deviation(
            schema,
            "primary_color",
            "extra",
            "real playlist objects carry primary_color (2.7, seen in real responses)",
            NULLABLE_STRING,
        )
        for schema in ("SimplifiedPlaylistObject", "PlaylistObject")
    ),
    Deviation(
        "PlaylistTrackObject",
        "video_thumbnail",
        "extra",
        "real playlist rows carry video_thumbnail (probe 2026-10-02, 1.6)",
        {
            "type": "object",
            "properties": {"url": {"type": ["string", "null"]}},
            "required": ["url"],
            "additionalProperties": False,
        },
    ),
    Deviation(
        "PlaylistObject",
        "items",
        "optional",
        "other users' playlists are metadata only; the items key is absent (1.4, 2.7)",
    ),
    Deviation("response:SearchItems", "*", "optional", "search answers only the requested types"),
    *(
        Deviation(
            f"response:Many{kind.title()}",
            kind,
            "nullable_items",
            "batch ?ids= lookups answer null for unknown ids (2.9, extended mode only)",
        )
        for kind in ("tracks", "albums", "artists")
    ),
    Deviation(
        "RecommendationSeedObject",
        "href",
        "nullable",
        "genre seeds have no resource, so href is null (extended mode only)",
    ),
    # --- fields removed for development-mode apps but still required by the spec ------------
    Deviation(
        "AlbumBase",
        "available_markets",
        "optional",
        "album available_markets removed in dev mode (February 2026, 1.4)",
    ),
    Deviation("AlbumObject", "label", "optional", "album label removed in dev mode (1.4)"),
    Deviation(
        "AlbumObject", "popularity", "optional", "album popularity removed in dev mode (1.4)"
    ),
    Deviation(
        "ArtistDiscographyAlbumObject",
        "album_group",
        "optional",
        "album_group removed in dev mode (1.4)",
    ),
    *(
        Deviation(schema, name, "optional", f"{what} {name} removed in dev mode (1.4)")
        for schema, what in (("ShowBase", "show"), ("AudiobookBase", "audiobook"))
        for name in ("available_markets", "publisher")
    ),
    *(
        Deviation(
            schema,
            "audio_preview_url",
            "optional",
            "preview URLs withdrawn from dev-mode apps (November 2024, 1.1)",
        )
        for schema in ("EpisodeBase", "ChapterBase")
    ),
    Deviation(
        "AlbumObject",
        "genres",
        "keep_deprecated",
        "full albums still carry genres as an empty list (2.1)",
    ),
    # --- deprecated user fields that are still sent (probe 2026-10-02, 1.6 / 2.10) -----------
    *(
        Deviation(
            "PrivateUserObject",
            name,
            "keep_deprecated",
            "GET /me still returned it in October 2026 despite the migration guide",
        )
        for name in ("country", "email", "explicit_content", "followers", "product")
    ),
    # --- properties the spec itself marks optional by nature ---------------------------------
    Deviation("TrackObject", "restrictions", "optional", "present only for restricted tracks"),
    Deviation(
        "SimplifiedTrackObject", "restrictions", "optional", "present only for restricted tracks"
    ),
    Deviation("AlbumBase", "restrictions", "optional", "present only for restricted albums"),
    *(
        Deviation(schema, "restrictions", "optional", "present only for restricted items")
        for schema in ("EpisodeBase", "ChapterBase")
    ),
    *(
        Deviation(
            schema,
            "resume_point",
            "optional",
            "present only with the user-read-playback-position scope",
        )
        for schema in ("EpisodeBase", "ChapterBase")
    ),
    Deviation(
        "ExternalIdObject", "*", "optional", "tracks carry isrc, albums upc; never all three"
    ),
)

# (method, spec path, status, body kind) answered although the spec does not list it.
STATUS_DEVIATIONS: dict[tuple[str, str, int, str], str] = {
    (
        "GET",
        "/me/player/currently-playing",
        204,
        "empty",
    ): "idle players answer 204 on currently-playing too (2.3, probe 2026)",
    **{
        (method, path, 200, "text"): "player writes answer 200 with a snapshot-id text body "
        "since 2024 (2.5, spotify-web-api-ts-sdk#127)"
        for method, path in (
            ("PUT", "/me/player/play"),
            ("PUT", "/me/player/pause"),
            ("POST", "/me/player/next"),
            ("POST", "/me/player/previous"),
            ("PUT", "/me/player/seek"),
            ("PUT", "/me/player/volume"),
            ("PUT", "/me/player/shuffle"),
            ("PUT", "/me/player/repeat"),
            ("POST", "/me/player/queue"),
            ("PUT", "/me/player"),
        )
    },
    (
        "*",
        "*",
        403,
        "text",
    ): "users missing from the dashboard allow-list get a plain-text 403 (2.1)",
}
