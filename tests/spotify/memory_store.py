"""An in-memory ``TokenStore`` for tests; it remembers every token it ever saw (for leak scans)."""

from __future__ import annotations

import anyio.lowlevel

from echostats.spotify.tokens import TokenSet


class MemoryTokenStore:
    def __init__(self) -> None:
        self.tokens: dict[str, TokenSet] = {}
        self.saves: list[tuple[str, TokenSet]] = []
        self.loads = 0

    async def load(self, user_id: str) -> TokenSet | None:
        self.loads += 1
        await anyio.lowlevel.checkpoint()  # a real store yields to other tasks here
        return self.tokens.get(user_id)

    async def save(self, user_id: str, tokens: TokenSet) -> None:
        await anyio.lowlevel.checkpoint()
        self.saves.append((user_id, tokens))
        self.tokens[user_id] = tokens

    def put(self, user_id: str, tokens: TokenSet) -> None:
        """Seed without counting as a client save."""
        self.tokens[user_id] = tokens

    def every_secret(self) -> set[str]:
        seen = list(self.tokens.values()) + [tokens for _, tokens in self.saves]
        return {t.access_token for t in seen} | {t.refresh_token for t in seen}
