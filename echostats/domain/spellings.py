"""A user's spellings in memory: keys for identity at once, names only when asked for.

The dictionary is stored in chunks of ``CHUNK`` spellings (``echostats.store.ledger``). Each
chunk carries, beside the spellings themselves (their JSON texts end to end, with offsets),
what reads need without decoding them: the hashed identity keys (``SpellingKeys``), a 16-byte
digest per spelling (to find a spelling's code when a play arrives) and the normalised search
texts. So a cold start loads arrays and strings, and a spelling's JSON is decoded only when a
response names its entity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from echostats.domain.identity import SpellingKeys
from echostats.domain.ledger import SEARCH_ROW, Spelling
from echostats.domain.plays import normalise_name

CHUNK = 4096
DIGEST_BYTES = 16


@dataclass
class SpellingChunk:
    """Up to ``CHUNK`` consecutive spellings."""

    values: bytes  # each spelling's JSON, end to end
    offsets: npt.NDArray[np.int64]  # spelling i is values[offsets[i]:offsets[i + 1]]
    keys: SpellingKeys
    digests: bytes  # DIGEST_BYTES per spelling
    search: str  # search texts joined by SEARCH_ROW
    _decoded: dict[int, Spelling] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def of(cls, spellings: Sequence[Spelling]) -> SpellingChunk:
        chunk = cls(b"", np.zeros(1, np.int64), SpellingKeys.empty(), b"", "")
        return chunk.extended(spellings)

    def extended(self, more: Sequence[Spelling]) -> SpellingChunk:
        """This chunk with ``more`` appended (nothing already stored is decoded again)."""
        if not more:
            return self
        texts = [
            json.dumps(s.encode(), ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "surrogatepass"
            )
            for s in more
        ]
        lengths = np.array([len(t) for t in texts], np.int64)
        search = SEARCH_ROW.join(s.search_text() for s in more)
        return SpellingChunk(
            values=self.values + b"".join(texts),
            offsets=np.concatenate([self.offsets, self.offsets[-1] + np.cumsum(lengths)]),
            keys=SpellingKeys.concat([self.keys, *(s.keys() for s in more)]),
            digests=self.digests + b"".join(s.digest() for s in more),
            search=self.search + SEARCH_ROW + search if len(self) else search,
        )

    def read(self, offset: int) -> Spelling:
        found = self._decoded.get(offset)
        if found is None:
            raw = self.values[int(self.offsets[offset]) : int(self.offsets[offset + 1])]
            found = self._decoded[offset] = Spelling.decode(json.loads(raw))
        return found


class Spellings:
    """Every spelling of a user, in code order (chunk ``i`` holds codes ``i * CHUNK ...``)."""

    def __init__(self, chunks: Sequence[SpellingChunk] = ()) -> None:
        self.chunks = list(chunks)

    def __len__(self) -> int:
        return sum(len(c) for c in self.chunks)

    def read(self, code: int) -> Spelling:
        chunk, offset = divmod(code, CHUNK)
        return self.chunks[chunk].read(offset)

    @cached_property
    def keys(self) -> SpellingKeys:
        return SpellingKeys.concat([c.keys for c in self.chunks])

    @cached_property
    def _codes(self) -> dict[bytes, int]:
        codes: dict[bytes, int] = {}
        for number, chunk in enumerate(self.chunks):
            base = number * CHUNK
            digests = chunk.digests
            for offset in range(len(chunk)):
                at = offset * DIGEST_BYTES
                codes.setdefault(digests[at : at + DIGEST_BYTES], base + offset)
        return codes

    def code_of(self, spelling: Spelling) -> int | None:
        return self._codes.get(spelling.digest())

    @cached_property
    def _search(self) -> tuple[str, npt.NDArray[np.int64]]:
        """All search texts in one string, and where each spelling's text starts in it."""
        texts = SEARCH_ROW.join(c.search for c in self.chunks if len(c))
        lengths = np.fromiter((len(t) + 1 for t in texts.split(SEARCH_ROW)), np.int64)
        return texts, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

    def matching(self, text: str) -> npt.NDArray[np.bool_]:
        """Which spellings name ``text``: a normalised substring of a track, artist or album
        name (one scan of one string, however many spellings there are)."""
        wanted = normalise_name(text)
        found = np.zeros(len(self), bool)
        if not wanted:
            return ~found
        if not len(self):
            return found
        texts, starts = self._search
        at = texts.find(wanted)
        while at >= 0:
            row = int(np.searchsorted(starts, at, side="right")) - 1
            found[row] = True
            at = texts.find(wanted, int(starts[row + 1]))  # the next spelling's text
        return found
