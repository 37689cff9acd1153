"""Users: one document per person, keyed by our own id (Spotify ids are not ours to expose)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from echostats.store.database import Store

Document = dict[str, Any]


@dataclass(frozen=True)
class User:
    id: str
    spotify_id: str
    display_name: str | None
    image_url: str | None
    product: str | None
    time_zone: str
    session_version: int
    created_at: datetime

    @classmethod
    def from_document(cls, doc: Document) -> User:
        return cls(
            id=doc["_id"],
            spotify_id=doc["spotify_id"],
            display_name=doc.get("display_name"),
            image_url=doc.get("image_url"),
            product=doc.get("product"),
            time_zone=doc.get("time_zone", "UTC"),
            session_version=int(doc.get("session_version", 1)),
            created_at=doc["created_at"],
        )


@dataclass(frozen=True)
class Profile:
    """What we keep of Spotify's ``/me``."""

    spotify_id: str
    display_name: str | None
    image_url: str | None
    product: str | None


class Users:
    def __init__(self, store: Store) -> None:
        self._c = store["users"]

    async def upsert_from_profile(self, profile: Profile, now: datetime) -> tuple[User, bool]:
        """Create or update the user for a Spotify account; returns (user, created)."""
        new_id = uuid.uuid4().hex
        doc = await self._c.find_one_and_update(
            {"spotify_id": profile.spotify_id},
            {
                "$set": {
                    "display_name": profile.display_name,
                    "image_url": profile.image_url,
                    "product": profile.product,
                    "last_login_at": now,
                },
                "$setOnInsert": {
                    "_id": new_id,
                    "time_zone": "UTC",
                    "session_version": 1,
                    "created_at": now,
                },
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        return User.from_document(doc), doc["_id"] == new_id

    async def get(self, user_id: str) -> User | None:
        doc = await self._c.find_one({"_id": user_id})
        return User.from_document(doc) if doc else None

    async def only_user(self) -> User | None:
        """The single user of a one-person install, or None when there are 0 or several."""
        docs = await self._c.find({}).limit(2).to_list()
        return User.from_document(docs[0]) if len(docs) == 1 else None

    async def bump_session_version(self, user_id: str) -> int:
        """Revoke every session issued so far; returns the new version."""
        doc = await self._c.find_one_and_update(
            {"_id": user_id},
            {"$inc": {"session_version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["session_version"]) if doc else 0

    async def all_ids(self) -> list[str]:
        return [doc["_id"] async for doc in self._c.find({}, {"_id": 1})]
