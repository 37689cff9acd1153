"""The ledger in memory: each user's segments, dictionaries and identity, kept current.

One ``Ledger`` per process serves both sides: the aggregator writes through it (so its own
writes are in memory the moment they are stored) and every read route asks it for a
``LedgerView``. Before answering, it reads the user's head document (one small read) and
reloads only what another writer — another replica, or a build — changed since: segments whose
``rev`` moved and the dictionaries' new tail. A cold start loads every segment of the user at
once (a million plays are ~70 MB of columns; the embedded store reads them in a fraction of a
second) and the spellings' keys, not their names (``echostats.domain.spellings``).

Memory is bounded: users are kept in least-recently-used order and dropped, whole, once the
held columns pass ``max_bytes`` (the user being served is always kept).
"""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import anyio
import numpy as np

from echostats.domain.identity import Identity, Merge, resolve
from echostats.domain.ledger import (
    STRING_FIELDS,
    Columns,
    Row,
    Spelling,
    apply_changes,
    encode_rows,
)
from echostats.domain.ledger_view import LedgerView
from echostats.domain.spellings import CHUNK, Spellings
from echostats.store.collections import Collections
from echostats.store.identity_merges import IdentityMerges
from echostats.store.ledger import Head, LedgerConflict, LedgerStore, Segment

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SPELLING_BYTES = 120  # a spelling's keys, digest and search text in memory, roughly
DEFAULT_MAX_BYTES = 1 << 30


def month_of(ms: int) -> str:
    return str(np.datetime64(ms, "ms").astype("datetime64[M]"))


@dataclass(frozen=True)
class _Change:
    removed: Sequence[tuple[bytes, int]] = ()  # (play id, ended ms)
    added: Sequence[Row] = ()
    facts: Sequence[Spelling] = ()
    whole_month: str | None = None  # replace this month's plays with ``added``


@dataclass
class _User:
    version: int = -1
    segments: dict[str, Segment] = field(default_factory=dict)
    spellings: Spellings = field(default_factory=Spellings)
    strings: list[str] = field(default_factory=list)
    string_codes: dict[str, int] = field(default_factory=dict)
    merges: tuple[Merge, ...] = ()
    identity: Identity | None = None
    identity_of: tuple[int, tuple[Merge, ...]] | None = None
    view: LedgerView | None = None
    lock: anyio.Lock = field(default_factory=anyio.Lock)

    @property
    def nbytes(self) -> int:
        held = sum(s.columns.nbytes for s in self.segments.values())
        return 2 * held + SPELLING_BYTES * len(self.spellings)  # segments + the view

    def add_strings(self, values: Iterable[str]) -> None:
        for value in values:
            self.string_codes.setdefault(value, len(self.strings))
            self.strings.append(value)


class Ledger:
    def __init__(self, db: Collections, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._store = LedgerStore(db)
        self._merges = IdentityMerges(db)
        self._max_bytes = max_bytes
        self._users: OrderedDict[str, _User] = OrderedDict()

    def _user(self, user_id: str) -> _User:
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _User()
        self._users.move_to_end(user_id)
        return user

    def _trim(self, keep: str) -> None:
        total = sum(u.nbytes for u in self._users.values())
        for user_id in list(self._users):
            if total <= self._max_bytes:
                break
            if user_id != keep:
                total -= self._users.pop(user_id).nbytes

    @property
    def cached_bytes(self) -> int:
        return sum(u.nbytes for u in self._users.values())

    def cached_users(self) -> list[str]:
        """Users held in memory, least recently used first."""
        return list(self._users)

    # --- reading ---------------------------------------------------------------------------------

    async def view(self, user_id: str) -> LedgerView:
        """The user's plays as they are stored now."""
        user = self._user(user_id)
        async with user.lock:
            head = await self._store.head(user_id)
            await self._refresh(user_id, user, head, for_reading=True)
            view = user.view
            if view is None:
                view = user.view = await self._build_view(user)
        self._trim(user_id)
        return view

    async def _refresh(
        self, user_id: str, user: _User, head: Head, *, for_reading: bool = False
    ) -> None:
        if head.version == user.version:
            return
        have = len(user.spellings)
        if head.sizes.get("t", 0) > have:
            fresh = await self._store.spellings(user_id, have)
            kept = user.spellings.chunks[: have // CHUNK]
            user.spellings = Spellings([*kept, *fresh])
        if head.sizes.get("s", 0) > len(user.strings):
            user.add_strings(await self._store.strings(user_id, len(user.strings)))
        user.merges = tuple(await self._merges.of_user(user_id))
        stale = [m for m, rev in head.months.items() if rev != self._rev(user, m)]
        # Identity is resolved (numpy, in a worker thread) while the changed months load: a
        # cold start waits for the longer of the two, not for both.
        async with anyio.create_task_group() as tg:
            if for_reading:  # writes need no identity
                tg.start_soon(self._resolve, user)
            for segment in await self._store.segments(user_id, stale):
                user.segments[segment.month] = segment
        user.version = head.version
        user.view = None

    @staticmethod
    async def _resolve(user: _User) -> None:
        spellings, merges = user.spellings, user.merges
        key = (len(spellings), merges)
        if user.identity is None or user.identity_of != key:
            user.identity = await anyio.to_thread.run_sync(
                resolve, spellings.keys, spellings.read, merges
            )
            user.identity_of = key

    @staticmethod
    def _rev(user: _User, month: str) -> int:
        segment = user.segments.get(month)
        return int(segment.rev) if segment is not None else 0

    async def _build_view(self, user: _User) -> LedgerView:
        await self._resolve(user)  # nothing to do unless spellings or merges changed
        assert user.identity is not None
        columns = Columns.concat([user.segments[m].columns for m in sorted(user.segments)])
        return LedgerView(columns, user.spellings, list(user.strings), user.identity, user.version)

    # --- writing ---------------------------------------------------------------------------------

    async def apply(
        self, user_id: str, removed: Sequence[tuple[bytes, int]], added: Sequence[Row]
    ) -> None:
        """Remove plays (id, ended ms) and add or replace ``added`` in the user's ledger.
        Idempotent, so a journal entry can be applied again after a crash."""
        await self._write(user_id, _Change(removed, added))

    async def learn(self, user_id: str, spellings: Iterable[Spelling]) -> None:
        """Add spellings no play carries (a synced playlist's tracks, a catalog lookup): they
        teach identity names and ids without counting anything."""
        await self._write(user_id, _Change(facts=tuple(spellings)))

    async def rebuild_month(
        self, user_id: str, month: str, read: Callable[[], Awaitable[Sequence[Row]]]
    ) -> int:
        """Make one month of the ledger exactly the plays ``read`` returns (the stored plays
        of that month), read while no other write of this user can run here, so a play
        written meanwhile is either read or applied after; returns how many were read."""
        rows: Sequence[Row] = ()

        async def change() -> _Change:
            nonlocal rows
            rows = await read()
            return _Change(added=rows, whole_month=month)

        await self._write(user_id, change)
        return len(rows)

    async def _write(
        self, user_id: str, change: _Change | Callable[[], Awaitable[_Change]]
    ) -> None:
        user = self._user(user_id)
        async with user.lock:
            for attempt in range(MAX_ATTEMPTS):
                await self._refresh(user_id, user, await self._store.head(user_id))
                wanted = change if isinstance(change, _Change) else await change()
                try:
                    await self._write_once(user_id, user, wanted)
                except LedgerConflict:
                    # Someone else wrote first (or a crash left a write the head never saw):
                    # start again from what is stored, after a random, growing pause.
                    self._users[user_id] = user = _User(lock=user.lock)
                    await anyio.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311
                else:
                    return
            raise LedgerConflict(f"the ledger of {user_id} kept changing")

    async def _code_spellings(
        self, user_id: str, user: _User, wanted: Iterable[Spelling]
    ) -> dict[Spelling, int]:
        """The code of each spelling, appending the new ones to the stored dictionary."""
        codes: dict[Spelling, int] = {}
        new: list[Spelling] = []
        for spelling in wanted:
            if spelling in codes:
                continue
            code = user.spellings.code_of(spelling)
            if code is None:
                code = len(user.spellings) + len(new)
                new.append(spelling)
            codes[spelling] = code
        if new:
            size = len(user.spellings)
            chunks = user.spellings.chunks
            last = chunks[-1] if size % CHUNK else None
            written = await self._store.append_spellings(user_id, last, size, new)
            kept = chunks[:-1] if last is not None else chunks
            user.spellings = Spellings([*kept, *written])
        return codes

    async def _code_strings(self, user_id: str, user: _User, rows: Sequence[Row]) -> None:
        new = list(
            dict.fromkeys(
                str(value)
                for row in rows
                for name in STRING_FIELDS
                if (value := getattr(row.play, name)) is not None
                and str(value) not in user.string_codes
            )
        )
        if new:
            await self._store.append_strings(user_id, len(user.strings), new)
            user.add_strings(new)

    async def _write_once(self, user_id: str, user: _User, change: _Change) -> None:
        sizes_before = (len(user.spellings), len(user.strings))
        codes = await self._code_spellings(
            user_id, user, [*(Spelling.of(r.play) for r in change.added), *change.facts]
        )
        await self._code_strings(user_id, user, change.added)
        columns = encode_rows(change.added, lambda s: codes[s], lambda s: user.string_codes[s])
        by_month: dict[str, tuple[list[bytes], list[int]]] = {}
        if change.whole_month is not None:
            by_month[change.whole_month] = ([], [])
        for play_id, ended in change.removed:
            by_month.setdefault(month_of(ended), ([], []))[0].append(play_id)
        for index, ended in enumerate(columns.ended):
            by_month.setdefault(month_of(int(ended)), ([], []))[1].append(index)
        revs: dict[str, int] = {}
        for month, (gone, new) in sorted(by_month.items()):
            current = user.segments.get(month)
            if current is None and not new:
                continue  # nothing stored, nothing to store
            rev = current.rev if current is not None else 0
            before = current.columns if current is not None else Columns.empty()
            if month == change.whole_month:
                before = Columns.empty()
            after = apply_changes(before, gone, columns.take(np.array(new, np.intp)))
            segment = Segment(month, rev + 1, after)
            await self._store.write_segment(user_id, segment, rev)
            user.segments[month] = segment
            revs[month] = segment.rev
        sizes = {
            kind: size
            for kind, size, before in (
                ("t", len(user.spellings), sizes_before[0]),
                ("s", len(user.strings), sizes_before[1]),
            )
            if size != before
        }
        if revs or sizes:
            head = await self._store.move_head(user_id, revs, sizes)
            user.version = head.version if head.version == user.version + 1 else -1
            user.view = None

    def forget(self, user_id: str) -> None:
        self._users.pop(user_id, None)
