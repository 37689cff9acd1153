"""The aggregator on the real store: dedup, merges, a ledger equal to the plays, crash redo."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest

from actors.aggregator import Aggregator, changed_periods
from actors.aggregator import run as aggregator_run
from actors.asking import Pending
from actors.events import Event
from actors.messages import AggregatorMessage, BatchOutcome, DeletePlay, PlayBatch
from echostats.domain.counters import Merged
from echostats.domain.counting import decide
from echostats.domain.plays import Play, TimePrecision
from echostats.store import Store
from echostats.store.ledger_cache import Ledger
from echostats.store.plays import Changes, PlayStore, new_play_id, play_document
from echostats.store.users import Profile, Users
from tests.ledger_views import assert_ledger_matches_plays

pytestmark = pytest.mark.anyio

T0 = datetime(2025, 3, 29, 22, 0, tzinfo=UTC)  # the night before Europe's DST change


def play(
    track: str,
    ended: datetime,
    ms: int = 200_000,
    *,
    source: str = "poll",
    precision: TimePrecision = TimePrecision.MILLISECOND,
    artist: str = "Artist",
    user: str = "u1",
) -> Play:
    return Play(
        user_id=user,
        track_key=f"spotify:track:{track}",
        track_id=track,
        track_name=f"Song {track}",
        artist_names=(artist,),
        artist_ids=(),
        album_name="Album",
        album_id=None,
        ended_at=ended,
        started_at=ended - timedelta(milliseconds=ms),
        ms_played=ms,
        ms_played_estimated=source == "poll",
        duration_ms=240_000,
        source=source,  # type: ignore[arg-type]
        precision=precision,
    )


def export_row_of_x(user: str) -> Play:
    """The export's row of the listen polled as ``play("x", T0 + 731 ms)``: second precision,
    the real (shorter) ms_played."""
    return play(
        "x", T0 + timedelta(seconds=1), ms=95_000, source="import",
        precision=TimePrecision.SECOND, user=user,
    )  # fmt: skip


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> Event:
        self.events.append(event)
        return event


@pytest.fixture
async def user_id(store: Store) -> str:
    user, _ = await Users(store).upsert_from_profile(
        Profile(spotify_id="u1", display_name=None, image_url=None, product=None), T0
    )
    await store["users"].update_one({"_id": user.id}, {"$set": {"time_zone": "Europe/Berlin"}})
    return user.id


@pytest.fixture
def events() -> Recorder:
    return Recorder()


@pytest.fixture
def aggregator(store: Store, events: Recorder) -> Aggregator:
    return Aggregator(PlayStore(store), Users(store), events, now=lambda: T0 + timedelta(days=1))


async def brute_force(store: Store, user_id: str) -> Merged:
    """The stored ledger must hold exactly the stored plays; returns its counted plays summed
    in the user's zone (Berlin), as every analytics route sums them."""
    await assert_ledger_matches_plays(store, user_id)
    view = await Ledger(store).view(user_id)
    sel = view.started_in(None, None, counted=True)
    first = view.local_days(view.columns.started[sel][:1], ZoneInfo("Europe/Berlin"))
    day = first[0] if first else T0.date()
    return view.merged(sel, ZoneInfo("Europe/Berlin"), day, day + timedelta(days=400))


async def test_batch_is_stored_and_counted(
    aggregator: Aggregator, store: Store, user_id: str
) -> None:
    batch = tuple(play(f"t{i}", T0 + timedelta(minutes=4 * i), user=user_id) for i in range(30))
    outcome = await aggregator.ingest(PlayBatch(user_id, batch))
    assert (outcome.stored, outcome.duplicates, outcome.merged, outcome.counted) == (30, 0, 0, 30)
    assert await store["plays"].count_documents({"user_id": user_id}) == 30
    totals = await brute_force(store, user_id)
    assert totals.plays == 30
    # 22:00 UTC is midnight in Berlin (UTC+2 after the change, UTC+1 before): two local days.
    assert len(totals.active_days()) == 2


async def test_duplicates_within_and_across_batches(
    aggregator: Aggregator, store: Store, user_id: str
) -> None:
    one = play("a", T0, user=user_id)
    outcome = await aggregator.ingest(PlayBatch(user_id, (one, one)))
    assert (outcome.stored, outcome.duplicates) == (1, 1)
    again = await aggregator.ingest(
        PlayBatch(user_id, (replace(one, ended_at=T0 + timedelta(milliseconds=400)),))
    )
    assert (again.stored, again.duplicates) == (0, 1)
    assert await store["plays"].count_documents({}) == 1


async def test_export_row_replaces_polled_play(
    aggregator: Aggregator, store: Store, user_id: str, events: Recorder
) -> None:
    polled = play("x", T0 + timedelta(milliseconds=731), ms=240_000, user=user_id)
    await aggregator.ingest(PlayBatch(user_id, (polled,)))
    exported = export_row_of_x(user_id)
    outcome = await aggregator.ingest(PlayBatch(user_id, (exported,)))
    assert (outcome.stored, outcome.merged) == (0, 1)
    docs = await store["plays"].find({}).to_list()
    assert len(docs) == 1
    assert docs[0]["ms_played"] == 95_000
    assert docs[0]["source"] == "import"
    totals = await brute_force(store, user_id)
    assert totals.ms == 95_000
    # Importing the same row again changes nothing.
    assert (await aggregator.ingest(PlayBatch(user_id, (exported,)))).duplicates == 1
    assert any(e.name == "play_recorded" for e in events.events)


async def test_batch_planned_while_another_is_written_sees_its_plays(
    aggregator: Aggregator, store: Store, user_id: str
) -> None:
    """The actor plans the next batch while it writes one: a play of the batch in flight must
    count as stored (an exact repeat is a duplicate, an export row replaces it) even though
    the store does not hold it yet."""
    polled = play("x", T0 + timedelta(milliseconds=731), ms=240_000, user=user_id)
    other = play("y", T0 + timedelta(minutes=9), user=user_id)
    first = await aggregator.prepare(PlayBatch(user_id, (polled, other)))
    exported = export_row_of_x(user_id)
    second = await aggregator.prepare(PlayBatch(user_id, (exported, other)))
    assert await store["plays"].count_documents({}) == 0  # nothing written yet
    assert (second.outcome.stored, second.outcome.merged, second.outcome.duplicates) == (0, 1, 1)
    await aggregator.commit(first)
    await aggregator.commit(second)
    docs = await store["plays"].find({}).sort("ended_at", 1).to_list()
    assert [(d["track_id"], d["ms_played"]) for d in docs] == [("x", 95_000), ("y", 200_000)]
    await brute_force(store, user_id)
    # Once written, the batch is no longer held in memory: a third plan reads the store.
    third = await aggregator.prepare(PlayBatch(user_id, (exported,)))
    assert third.outcome.duplicates == 1


def overlapping_batches(user: str) -> list[tuple[Play, ...]]:
    """Batches whose windows overlap (each spans 30 minutes, a new one every 10), with many
    plays close enough to be the same listen as a play of an earlier batch."""
    rng = random.Random(11)
    batches = []
    for n in range(12):
        batch = []
        for _ in range(rng.randint(20, 80)):
            ended = T0 + timedelta(seconds=600 * n + rng.randint(0, 1_800))
            batch.append(play(f"k{rng.randint(0, 6)}", ended, user=user))
        batches.append(tuple(batch))
    return batches


async def test_pipelined_actor_matches_one_batch_at_a_time(
    aggregator: Aggregator, store: Store, user_id: str
) -> None:
    """Batches sent back to back through the actor loop (which plans one while it writes
    another) are stored exactly as one batch at a time would store them."""
    other, _ = await Users(store).upsert_from_profile(
        Profile(spotify_id="u2", display_name=None, image_url=None, product=None), T0
    )
    await store["users"].update_one({"_id": other.id}, {"$set": {"time_zone": "Europe/Berlin"}})
    expected = [
        await aggregator.ingest(PlayBatch(other.id, b)) for b in overlapping_batches(other.id)
    ]

    send, receive = anyio.create_memory_object_stream[AggregatorMessage](8)
    answers = []
    async with anyio.create_task_group() as tg:
        await tg.start(aggregator_run, receive, aggregator)
        async with send:
            for batch in overlapping_batches(user_id):
                reply, answer = Pending.open(BatchOutcome, "batch")
                answers.append(answer)
                await send.send(PlayBatch(user_id, batch, reply=reply))
            outcomes = [await answer.result() for answer in answers]
    assert outcomes == expected
    assert sum(o.duplicates for o in outcomes) > 0  # the batches did overlap
    stored = await store["plays"].count_documents({"user_id": user_id})
    assert stored == sum(o.stored for o in outcomes)
    await brute_force(store, user_id)


async def test_uncounted_plays_are_kept_but_not_counted(
    aggregator: Aggregator, store: Store, user_id: str
) -> None:
    short = play("s", T0, ms=5_000, user=user_id)
    assert decide(short) is not None
    outcome = await aggregator.ingest(PlayBatch(user_id, (short,)))
    assert (outcome.stored, outcome.counted) == (1, 0)
    doc = await store["plays"].find_one({})
    assert doc is not None
    assert doc["counted"] is False
    # The ledger keeps it (history shows it), but nothing counts it.
    totals = await brute_force(store, user_id)
    assert totals.plays == 0


async def test_delete_play_updates_the_ledger(
    aggregator: Aggregator, store: Store, user_id: str
) -> None:
    await aggregator.ingest(
        PlayBatch(
            user_id, (play("a", T0, user=user_id), play("b", T0 + timedelta(hours=1), user=user_id))
        )
    )
    doc = await store["plays"].find_one({"track_id": "a"})
    assert doc is not None
    assert await aggregator.delete(DeletePlay(user_id, str(doc["_id"])))
    assert not await aggregator.delete(DeletePlay(user_id, str(doc["_id"])))
    assert not await aggregator.delete(DeletePlay(user_id, "not-an-id"))
    totals = await brute_force(store, user_id)
    assert totals.plays == 1


async def test_interrupted_batch_is_redone_exactly_once(
    store: Store, user_id: str, events: Recorder
) -> None:
    plays = PlayStore(store)
    batch = [play(f"r{i}", T0 + timedelta(minutes=5 * i), user=user_id) for i in range(10)]
    docs = [play_document(new_play_id(p), p, counted=True, batch="b1") for p in batch]
    entry = Changes(docs).entry("b1", user_id, now=T0)
    await plays.journal(entry)
    # The "crash": half the plays were written, the ledger and the journal removal never happened.
    await store["plays"].insert_many(docs[:5])
    aggregator = Aggregator(plays, Users(store), events, now=lambda: T0)
    assert await aggregator.recover() == 1
    assert await aggregator.recover() == 0
    assert await store["plays"].count_documents({}) == 10
    assert (await brute_force(store, user_id)).plays == 10
    # Applying the same entry once more (a crash after the ledger, before the journal delete)
    # must not count anything twice.
    await plays.apply(entry)
    assert (await brute_force(store, user_id)).plays == 10


async def test_interrupted_deletion_is_redone(
    aggregator: Aggregator, store: Store, user_id: str, events: Recorder
) -> None:
    """A deletion journalled and then interrupted (the database stopped answering) is redone
    from the stored entry, whose datetimes must come back as the client's: UTC-aware."""
    await aggregator.ingest(
        PlayBatch(
            user_id, (play("a", T0, user=user_id), play("b", T0 + timedelta(hours=1), user=user_id))
        )
    )
    doc = await store["plays"].find_one({"track_id": "a"})
    assert doc is not None
    plays = PlayStore(store)
    await plays.journal(Changes(deletions=[doc]).entry("d1", user_id, now=T0))
    restarted = Aggregator(plays, Users(store), events, now=lambda: T0)
    assert await restarted.recover() == 1
    assert await store["plays"].count_documents({"user_id": user_id}) == 1
    assert (await brute_force(store, user_id)).plays == 1


async def test_random_histories_match_brute_force(
    aggregator: Aggregator, store: Store, user_id: str
) -> None:
    rng = random.Random(5)
    for _ in range(6):
        batch = []
        for _ in range(rng.randint(1, 120)):
            ended = T0 + timedelta(seconds=rng.randint(0, 5 * 86_400))
            source = rng.choice(["poll", "import"])
            precision = TimePrecision.MILLISECOND if source == "poll" else TimePrecision.SECOND
            batch.append(
                play(
                    f"k{rng.randint(0, 25)}",
                    ended,
                    ms=rng.randint(1_000, 300_000),
                    source=source,
                    precision=precision,
                    artist=rng.choice("ABC"),
                    user=user_id,
                )
            )
        await aggregator.ingest(PlayBatch(user_id, tuple(batch)))
    await brute_force(store, user_id)


def test_changed_periods() -> None:
    today = datetime(2025, 6, 30).date()
    assert changed_periods(["2025-06-30"], today) == [
        "week",
        "month",
        "quarter",
        "year",
        "all_time",
    ]
    assert changed_periods(["2025-06-01"], today) == ["month", "quarter", "year", "all_time"]
    assert changed_periods(["2020-01-01", "2025-06-20"], today) == [
        "month",
        "quarter",
        "year",
        "all_time",
    ]
    assert changed_periods(["2020-01-01"], today) == ["all_time"]
    assert changed_periods([], today) == []


async def test_two_replicas_storing_one_play_keep_it_once_in_the_plays_and_the_ledger(
    store: Store, user_id: str, events: Recorder
) -> None:
    """Two replicas plan the same play before either has written it: the store's unique key
    refuses the second document, and the second ledger write must not count it either."""
    first, second = (
        Aggregator(PlayStore(store, Ledger(store)), Users(store), events, now=lambda: T0)
        for _ in range(2)
    )
    one = play("same", T0, user=user_id)
    planned_first = await first.prepare(PlayBatch(user_id, (one,)))
    planned_second = await second.prepare(PlayBatch(user_id, (one,)))
    await first.commit(planned_first)
    await second.commit(planned_second)
    assert await store["plays"].count_documents({"user_id": user_id}) == 1
    assert (await brute_force(store, user_id)).plays == 1
