"""Spotify tokens at rest, encrypted: implements the client's ``TokenStore``.

Both tokens are sealed with AES-256-GCM bound to the user id. A refresh token Spotify rejected is
remembered (``reauth_required``) so the status route and readiness can ask the person to sign in
again instead of failing every call silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from echostats.domain.tokens import TokenSet
from echostats.security.crypto import DecryptionError, Sealed, TokenCipher
from echostats.store.boundary import Repository
from echostats.store.database import Store

Document = dict[str, Any]


@dataclass(frozen=True)
class TokenHealth:
    expires_at: datetime
    reauth_required: bool
    reason: str | None


@dataclass(frozen=True)
class TokenReport:
    """One user's stored tokens as ``echostats doctor`` sees them (never the tokens)."""

    user_id: str
    key_id: str | None  # the key that sealed them
    readable: bool  # both open with a configured key
    expires_at: datetime | None  # of the access token (renewed automatically)
    reauth_required: bool
    reason: str | None


class EncryptedTokenStore(Repository):
    def __init__(self, store: Store, cipher: TokenCipher) -> None:
        self._c = store["tokens"]
        self._cipher = cipher

    async def load(self, user_id: str) -> TokenSet | None:
        doc = await self._c.find_one({"_id": user_id})
        if doc is None or doc.get("reauth_required"):
            return None
        try:
            return TokenSet(
                access_token=self._cipher.open(Sealed.from_document(doc["access"]), user_id),
                refresh_token=self._cipher.open(Sealed.from_document(doc["refresh"]), user_id),
                expires_at=doc["expires_at"],
                scope=doc.get("scope", ""),
            )
        except DecryptionError:
            # Unusable (key removed from the settings, or data tampered with): the person has to
            # connect Spotify again; never crash the caller.
            return None

    async def save(self, user_id: str, tokens: TokenSet) -> None:
        await self._c.update_one(
            {"_id": user_id},
            {
                "$set": {
                    "access": self._cipher.seal(tokens.access_token, user_id).as_document(),
                    "refresh": self._cipher.seal(tokens.refresh_token, user_id).as_document(),
                    "expires_at": tokens.expires_at,
                    "scope": tokens.scope,
                    "reauth_required": False,
                    "reauth_reason": None,
                }
            },
            upsert=True,
        )

    async def mark_reauth_required(self, user_id: str, reason: str) -> None:
        await self._c.update_one(
            {"_id": user_id},
            {"$set": {"reauth_required": True, "reauth_reason": reason[:300]}},
        )

    async def health(self, user_id: str) -> TokenHealth | None:
        doc = await self._c.find_one(
            {"_id": user_id}, {"expires_at": 1, "reauth_required": 1, "reauth_reason": 1}
        )
        if doc is None:
            return None
        return TokenHealth(
            expires_at=doc["expires_at"],
            reauth_required=bool(doc.get("reauth_required")),
            reason=doc.get("reauth_reason"),
        )

    async def inspect(self) -> list[TokenReport]:
        """Every user's token health: readable with the configured keys, under which key."""
        reports = []
        async for doc in self._c.find({}).sort("_id", 1):
            user_id = str(doc["_id"])
            try:
                for field in ("access", "refresh"):
                    self._cipher.open(Sealed.from_document(doc[field]), user_id)
                readable = True
            except (DecryptionError, KeyError, TypeError):
                readable = False
            sealed = doc.get("access")
            reports.append(
                TokenReport(
                    user_id=user_id,
                    key_id=sealed.get("kid") if isinstance(sealed, dict) else None,
                    readable=readable,
                    expires_at=doc.get("expires_at"),
                    reauth_required=bool(doc.get("reauth_required")),
                    reason=doc.get("reauth_reason"),
                )
            )
        return reports

    async def count_reauth_required(self) -> int:
        return await self._c.count_documents({"reauth_required": True})

    async def rotate(self, cipher_of_new_key: TokenCipher | None = None) -> tuple[int, int]:
        """Re-encrypt every token under the primary key; returns (rotated, unreadable)."""
        cipher = cipher_of_new_key or self._cipher
        rotated = unreadable = 0
        async for doc in self._c.find({}):
            user_id = doc["_id"]
            try:
                access = self._cipher.open(Sealed.from_document(doc["access"]), user_id)
                refresh = self._cipher.open(Sealed.from_document(doc["refresh"]), user_id)
            except DecryptionError:
                unreadable += 1
                continue
            await self._c.update_one(
                {"_id": user_id, "access": doc["access"]},  # untouched since we read it
                {
                    "$set": {
                        "access": cipher.seal(access, user_id).as_document(),
                        "refresh": cipher.seal(refresh, user_id).as_document(),
                    }
                },
            )
            rotated += 1
        return rotated, unreadable
