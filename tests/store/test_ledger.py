"""The stored ledger: several writers, redone writes, crashes between steps, cache refreshes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import numpy as np
import pytest
from bson import ObjectId

from echostats.domain.identity import Kind
from echostats.domain.ledger import STRING_FIELDS, Columns, Row, Spelling, ms_of
from echostats.store import Store
from echostats.store.identity_merges import IdentityMerges
from echostats.store.ledger import PARTS, LedgerConflict, LedgerStore, Segment
from echostats.store.ledger_cache import Ledger
from tests.domain.factories import make_play

pytestmark = pytest.mark.anyio
T0 = datetime(2024, 12, 31, 22, tzinfo=UTC)  # batches cross a month (and a year) boundary


def rows(n: int, first: int = 0) -> list[Row]:
    return [
        Row(
            ObjectId().binary,
            make_play(user_id="u1", track_id=f"t{i % 7}", ended_at=T0 + timedelta(hours=i)),
            True,
        )
        for i in range(first, first + n)
    ]


def held(columns: Columns) -> list[tuple[bytes, int]]:
    return sorted((bytes(i), int(e)) for i, e in zip(columns.ids, columns.ended, strict=True))


async def test_concurrent_writers_and_redone_writes_hold_every_play_once(store: Store) -> None:
    written = rows(60)
    batches = [written[i : i + 6] for i in range(0, 60, 6)]
    writers = [Ledger(store) for _ in range(3)]  # as if three replicas wrote at once

    async def write(n: int) -> None:
        await writers[n % 3].apply("u1", (), batches[n])
        await writers[(n + 1) % 3].apply("u1", (), batches[n])  # a redo changes nothing

    async with anyio.create_task_group() as tg:
        for n in range(len(batches)):
            tg.start_soon(write, n)
    fresh = await Ledger(store).view("u1")
    assert held(fresh.columns) == sorted((r.id, ms_of(r.play.ended_at)) for r in written)
    assert fresh.columns.ended.tolist() == sorted(fresh.columns.ended.tolist())
    # Every writer's cache catches up with the others' writes at its next read.
    for writer in writers:
        assert held((await writer.view("u1")).columns) == held(fresh.columns)


async def test_removing_and_replacing_across_months(store: Store) -> None:
    ledger = Ledger(store)
    written = rows(10)
    await ledger.apply("u1", (), written)
    moved = Row(written[0].id, make_play(user_id="u1", ended_at=T0 + timedelta(days=40)), True)
    gone = [(written[1].id, ms_of(written[1].play.ended_at))]
    old = [(moved.id, ms_of(written[0].play.ended_at))]
    await ledger.apply("u1", gone + old, [moved])
    view = await Ledger(store).view("u1")
    assert len(view) == 9
    assert written[1].id not in {bytes(i) for i in view.columns.ids}
    assert bytes(view.columns.ids[-1]) == moved.id  # now in February


async def test_a_write_the_head_never_heard_of_is_found_and_kept(store: Store) -> None:
    """A crash after a segment was written but before the head moved: the next write meets
    a segment newer than the head says, starts again from what is stored, and loses nothing."""
    ledger = Ledger(store)
    await ledger.apply("u1", (), rows(3))
    segments = LedgerStore(store)
    (current,) = [s for s in await segments.segments("u1") if s.month == "2024-12"]
    newer = Segment(current.month, current.rev + 1, current.columns)
    await segments.write_segment("u1", newer, current.rev)  # the head still says current.rev
    await ledger.apply("u1", (), rows(2, first=3))
    assert len(await Ledger(store).view("u1")) == 5


async def test_facts_teach_identity_without_counting(store: Store) -> None:
    ledger = Ledger(store)
    extended = make_play(user_id="u1", track_id="t1", artist="Kaia", ended_at=T0)
    await ledger.apply("u1", (), [Row(ObjectId().binary, extended, True)])
    before = await ledger.view("u1")
    assert [before.identity.artists.key(0)] == ["name:kaia"]
    assert len(before.identity.artists) == 1
    polled_elsewhere = make_play(
        track_id="t9", artist="Kaia", artist_ids=("kaia-id",), track_name="Other"
    )
    await ledger.learn("u1", [Spelling.of(polled_elsewhere)])
    after = await Ledger(store).view("u1")
    kaia = after.identity.artists.find("spotify:artist:kaia-id")
    assert kaia is not None
    assert after.identity.artists.find("name:kaia") == kaia
    assert len(after) == 1  # a fact is no play


async def test_a_merge_reaches_every_cached_view(store: Store) -> None:
    reader, writer = Ledger(store), Ledger(store)
    plays = [
        make_play(user_id="u1", track_id=None, artist="Kaia", track_name="A", ended_at=T0),
        make_play(user_id="u1", track_id=None, artist="Kaia feat. X", track_name="B", ended_at=T0),
    ]
    await writer.apply("u1", (), [Row(ObjectId().binary, p, True) for p in plays])
    assert len((await reader.view("u1")).identity.artists) == 2
    merge = await IdentityMerges(store).add("u1", Kind.ARTIST, "name:kaia feat. x", "name:kaia", T0)
    assert len((await reader.view("u1")).identity.artists) == 1
    assert await IdentityMerges(store).remove("u1", merge.merge.id)
    assert len((await reader.view("u1")).identity.artists) == 2


async def test_the_cache_stays_within_its_bound(store: Store) -> None:
    ledger = Ledger(store, max_bytes=1)  # every user but the one being read is dropped
    for user in ("u1", "u2", "u3"):
        await ledger.apply(user, (), [Row(r.id, r.play, r.counted) for r in rows(5)])
        await ledger.view(user)
    assert ledger.cached_users() == ["u3"]
    assert len(await ledger.view("u1")) == 5  # dropped users are read again


def busy_month(n: int) -> Columns:
    """``n`` plays in December 2024, one a second: more than one document can hold at 300k."""
    ended = ms_of(datetime(2024, 12, 1, tzinfo=UTC)) + np.arange(n, dtype=np.int64) * 1000
    ids = np.frombuffer(np.arange(n, dtype=">u8").tobytes(), np.uint8).reshape(n, 8)
    return Columns(
        np.hstack([np.zeros((n, 4), np.uint8), ids]),
        ended,
        ended - 500,
        np.full(n, 500, np.int32),
        np.full(n, 180_000, np.int32),
        np.arange(n, dtype=np.int32) % 1000,
        np.ones(n, np.uint16),
        np.zeros((n, len(STRING_FIELDS)), np.int32),
    )


async def test_a_month_larger_than_a_document_is_kept_whole(store: Store) -> None:
    segments = LedgerStore(store)
    busy = busy_month(300_000)  # ~19 MiB of columns; a document holds 16 MiB
    await segments.write_segment("u1", Segment("2024-12", 1, busy), 0)
    (read,) = await segments.segments("u1")
    assert held(read.columns) == held(busy)
    assert (read.columns.entry == busy.entry).all()
    quiet = busy.take(np.arange(10))
    await segments.write_segment("u1", Segment("2024-12", 2, quiet), 1)
    (read,) = await segments.segments("u1", ["2024-12"])
    assert held(read.columns) == held(quiet)
    assert await store.db[PARTS].count_documents({}) == 0  # the busy month's parts are gone


async def test_a_writer_that_loses_leaves_no_part_behind(store: Store) -> None:
    segments = LedgerStore(store, part_plays=10)
    first = busy_month(25)
    await segments.write_segment("u1", Segment("2024-12", 1, first), 0)
    assert await store.db[PARTS].count_documents({}) == 2
    winner, loser = busy_month(31), busy_month(42)
    await segments.write_segment("u1", Segment("2024-12", 2, winner), 1)
    with pytest.raises(LedgerConflict):
        await segments.write_segment("u1", Segment("2024-12", 2, loser), 1)
    (read,) = await segments.segments("u1")
    assert held(read.columns) == held(winner)
    assert await store.db[PARTS].count_documents({}) == 3  # the winner's, nobody else's
