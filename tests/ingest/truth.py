"""Comparing what the app stored with what the simulator says happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from echostats.simulator import Simulator
from echostats.store import Store

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(when: datetime) -> int:
    return (when.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)


def expected_plays(sim: Simulator, user: str = "demo") -> list[tuple[str, int]]:
    """Plays Spotify lists in recently-played (what counts), as (track id, end ms)."""
    plays = [(p.track_id, p.ended_ms) for p in sim.users[user].played if p.in_history]
    return sorted(plays, key=lambda p: (p[1], p[0]))  # oldest first


async def stored_plays(store: Store, user_id: str) -> list[dict[str, object]]:
    return await store["plays"].find({"user_id": user_id}).sort("ended_at", 1).to_list()


async def stored_keys(store: Store, user_id: str) -> list[tuple[str, int]]:
    docs = await stored_plays(store, user_id)
    keys = [(str(d["track_id"]), to_ms(d["ended_at"])) for d in docs]  # type: ignore[arg-type]
    return sorted(keys, key=lambda p: (p[1], p[0]))
