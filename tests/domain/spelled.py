"""Identity and ledger views built in memory, for domain tests (no store involved)."""

from __future__ import annotations

from collections.abc import Sequence

from echostats.domain.identity import Entities, Identity, Merge, resolve
from echostats.domain.ledger import Spelling
from echostats.domain.spellings import CHUNK, SpellingChunk, Spellings


def book(spellings: Sequence[Spelling]) -> Spellings:
    """The spellings as the ledger cache holds them, in chunks."""
    return Spellings(
        [SpellingChunk.of(spellings[i : i + CHUNK]) for i in range(0, len(spellings), CHUNK)]
    )


def identity_of(spellings: Sequence[Spelling], merges: Sequence[Merge] = ()) -> Identity:
    held = book(spellings)
    return resolve(held.keys, held.read, merges)


def keys(entities: Entities) -> list[str]:
    """Every entity's key, in entity order."""
    return [entities.key(i) for i in range(len(entities))]
