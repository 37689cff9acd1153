"""OAuth ``state`` values: single-use, expiring, in MongoDB so any replica can finish a sign-in.

The PKCE verifier travels with the state, sealed (bound to the state value) so the database
holds no usable secret. Consuming marks the document instead of deleting it, which lets a second
use of the same state be told apart from a state that never existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from echostats.errors import BadRequest
from echostats.security.crypto import Sealed, TokenCipher
from echostats.store.boundary import Repository
from echostats.store.database import Store

STATE_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    code_verifier: str
    purpose: str


class OAuthStates(Repository):
    def __init__(self, store: Store, cipher: TokenCipher) -> None:
        self._c = store["oauth_states"]
        self._cipher = cipher

    async def remember(self, state: str, code_verifier: str, purpose: str, now: datetime) -> None:
        await self._c.insert_one(
            {
                "_id": state,
                "verifier": self._cipher.seal(code_verifier, state).as_document(),
                "purpose": purpose,
                "created_at": now,
                "expires_at": now + STATE_TTL,
                "consumed_at": None,
            }
        )

    async def consume(self, state: str, now: datetime) -> PendingSignIn:
        """The pending sign-in for ``state``, exactly once; ``BadRequest`` otherwise."""
        doc = await self._c.find_one_and_update(
            {"_id": state, "consumed_at": None}, {"$set": {"consumed_at": now}}
        )
        if doc is None:
            if await self._c.count_documents({"_id": state}, limit=1):
                raise BadRequest("This sign-in link was already used; start the sign-in again.")
            raise BadRequest("This sign-in attempt is unknown; start the sign-in again.")
        if doc["expires_at"] <= now:
            raise BadRequest("This sign-in attempt expired; start the sign-in again.")
        verifier = self._cipher.open(Sealed.from_document(doc["verifier"]), state)
        return PendingSignIn(state=state, code_verifier=verifier, purpose=doc["purpose"])
