"""Users: one document per person, keyed by our own id (Spotify ids are not ours to expose).

Most users come from a Spotify sign-in. A household member without Spotify (or beyond the five
people a development-mode app allows) is a *local* user: created by ``echostats add-user``, they
sign in with a single-use link and send their listens through the ListenBrainz API. Local users
keep ``local:<id>`` in the unique ``spotify_id`` key (so the index stays as it is); outside this
module their ``spotify_id`` is None.

A sign-in link is a random secret whose SHA-256 digest is kept on the user with an expiry;
redeeming it removes it, so it works once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from echostats.security.api_tokens import digest, new_secret
from echostats.store.boundary import Repository
from echostats.store.database import Store

Document = dict[str, Any]
LOCAL_PREFIX = "local:"


@dataclass(frozen=True)
class User:
    id: str
    spotify_id: str | None  # None: a local user, without Spotify
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
            spotify_id=None if doc["spotify_id"].startswith(LOCAL_PREFIX) else doc["spotify_id"],
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


class Users(Repository):
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

    async def spotify_user_ids(self) -> list[str]:
        """Users connected to Spotify: the ones to sync and enrich (local users are not)."""
        docs = self._c.find({}, {"spotify_id": 1})
        return [doc["_id"] async for doc in docs if not doc["spotify_id"].startswith(LOCAL_PREFIX)]

    async def create_local(self, name: str, now: datetime) -> User:
        """A user without Spotify, named ``name``."""
        user_id = uuid.uuid4().hex
        doc = {
            "_id": user_id,
            "spotify_id": LOCAL_PREFIX + user_id,
            "display_name": name,
            "image_url": None,
            "product": None,
            "time_zone": "UTC",
            "session_version": 1,
            "created_at": now,
        }
        await self._c.insert_one(doc)
        return User.from_document(doc)

    async def issue_sign_in_link(self, user_id: str, now: datetime, ttl: timedelta) -> str | None:
        """A new single-use sign-in secret for the user (replacing any earlier one), or None
        when there is no such user."""
        secret = new_secret()
        result = await self._c.update_one(
            {"_id": user_id},
            {"$set": {"sign_in_link": {"digest": digest(secret), "expires_at": now + ttl}}},
        )
        return secret if result.matched_count else None

    async def redeem_sign_in_link(self, secret: str, now: datetime) -> User | None:
        """The user the secret signs in, spending it; None when unknown, used or expired."""
        doc = await self._c.find_one_and_update(
            {"sign_in_link.digest": digest(secret), "sign_in_link.expires_at": {"$gt": now}},
            {"$unset": {"sign_in_link": ""}},
            return_document=ReturnDocument.AFTER,
        )
        return User.from_document(doc) if doc else None
