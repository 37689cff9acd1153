"""Writes of a user's own settings (the ``users`` document's settings fields)."""

from __future__ import annotations

from echostats.store.boundary import translating
from echostats.store.database import Store


@translating
async def set_time_zone(store: Store, user_id: str, zone: str) -> None:
    """Save an already validated IANA zone name."""
    await store["users"].update_one({"_id": user_id}, {"$set": {"time_zone": zone}})
