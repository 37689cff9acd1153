"""The OAuth scopes EchoStats asks for: every scope a feature of the app needs, nothing more.

Asking for a scope later means sending every user through the consent screen again, so the list
covers the whole product (history, now playing, player control, top lists, playlists, library,
followed artists, profile) from the first sign-in.
"""

from __future__ import annotations

SCOPES: tuple[str, ...] = (
    "user-read-recently-played",
    "user-read-currently-playing",
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-top-read",
    "playlist-read-private",
    "playlist-read-collaborative",
    "user-library-read",
    "user-follow-read",
    "user-read-private",
    "user-read-email",
)
