"""Broadcast topic names: one per user and stream (see spec/API.md, live streams)."""

from __future__ import annotations


def now_playing(user_id: str) -> str:
    return f"now-playing:{user_id}"


def sync_jobs(user_id: str) -> str:
    return f"sync-jobs:{user_id}"


def stats(user_id: str) -> str:
    return f"stats:{user_id}"


# Events that say what is true now rather than what changed: the broadcaster keeps the latest
# of these per topic and hands it to each new subscriber first, so a dashboard opened while
# music plays shows it at once instead of at the next change.
STATE_EVENTS = frozenset({"now_playing", "idle"})
