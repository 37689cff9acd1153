"""Scrobble tokens: what a player sends to the ListenBrainz API to say whose listens these are.

One document per token: its id, owner, name and creation time, and the SHA-256 digest of the
secret (``security/api_tokens.py``); the secret itself is shown once, at creation, and never
stored. Revoking deletes the document, so the next request with it is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from echostats.security.api_tokens import digest, new_secret
from echostats.store.boundary import Repository
from echostats.store.database import Store

MAX_TOKENS_PER_USER = 50


@dataclass(frozen=True)
class ScrobbleToken:
    id: str
    user_id: str
    name: str
    created_at: datetime

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ScrobbleToken:
        return cls(doc["_id"], doc["user_id"], doc["name"], doc["created_at"])


class ScrobbleTokens(Repository):
    def __init__(self, store: Store) -> None:
        self._c = store["scrobble_tokens"]

    async def create(self, user_id: str, name: str, now: datetime) -> tuple[ScrobbleToken, str]:
        """A new token and its secret (the only time the secret exists outside the client)."""
        secret = new_secret()
        doc = {
            "_id": uuid.uuid4().hex,
            "user_id": user_id,
            "name": name,
            "digest": digest(secret),
            "created_at": now,
        }
        await self._c.insert_one(doc)
        return ScrobbleToken.from_document(doc), secret

    async def count(self, user_id: str) -> int:
        return await self._c.count_documents({"user_id": user_id})

    async def of_user(self, user_id: str) -> list[ScrobbleToken]:
        cursor = self._c.find({"user_id": user_id}, {"digest": 0}).sort("created_at", 1)
        return [ScrobbleToken.from_document(doc) async for doc in cursor]

    async def revoke(self, user_id: str, token_id: str) -> bool:
        result = await self._c.delete_one({"_id": token_id, "user_id": user_id})
        return result.deleted_count == 1

    async def owner(self, secret: str) -> str | None:
        """The user a presented secret belongs to, or None (unknown or revoked)."""
        doc = await self._c.find_one({"digest": digest(secret)}, {"user_id": 1})
        return str(doc["user_id"]) if doc else None
