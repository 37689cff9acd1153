"""Routes that wait on an actor answer while the database fails under it, and a restarted actor
starts from fresh state.

The faults are the real server's own (mongod's ``failCommand`` failpoint, which SecantusDB
implements): the actor's command stalls or its connection drops, exactly as a database that
stops answering would do it, while the reads a route makes before asking (the session's user)
still work — so what is tested is the actor's answer, not the route's first read.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from actors.asking import NoAnswer
from actors.hub import Hub
from actors.pipeline import PipelineStreams, start_pipeline
from actors.supervisor import Backoff
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.embedded import running_embedded_server
from echostats.store.ledger_cache import Ledger
from echostats.store.users import Profile, Users
from tests.actors.test_aggregator import play
from tests.api.test_analytics_property import get
from tests.api.test_analytics_routes import seeded
from tests.api.test_sync_jobs import signed_in_with_history, trigger
from tests.ingest.test_replicas_and_outages import impatient_store
from tests.ledger_views import assert_ledger_matches_plays
from tests.signin import signin_world

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

STORE_TIMEOUT_MS = 3_000  # the driver gives up on a stalled command after this
STALL_MS = 5_000  # longer than the driver waits
ANSWER_WITHIN = 20.0
SECOND_BATCH = 20_000  # under the 16 MiB a journal entry may hold
PATIENT_MS = 60_000  # the actors' own deadlines are 10 s; no answer at all fails here


@contextlib.asynccontextmanager
async def fail_point(store: Store, mode: Any, **data: Any) -> AsyncIterator[None]:
    """Arm the server's ``failCommand`` failpoint for the block."""
    admin = store.client.admin
    await admin.command({"configureFailPoint": "failCommand", "mode": mode, "data": data})
    try:
        yield
    finally:
        await admin.command({"configureFailPoint": "failCommand", "mode": "off"})


async def until_answered(call: Any, within: float = 60.0) -> Any:
    """Call until the answer is no longer "try again" (503)."""
    with anyio.fail_after(within):
        while True:
            response = await call()
            if response.status_code != 503:
                return response
            await anyio.sleep(0.5)


async def test_delete_answers_503_while_the_database_stalls_then_works(
    settings: Settings, tmp_path: Path
) -> None:
    async with (
        running_embedded_server(tmp_path / "db", test_commands=True) as server,
        impatient_store(server, STORE_TIMEOUT_MS) as store,
        signin_world(settings, store) as world,
    ):
        headers, user_id, plays = await seeded(world, store, zone="UTC")
        target = (await get(world, headers, "/api/v1/history"))["items"][0]

        async def delete() -> Any:
            return await world.client.delete(f"/api/v1/history/{target['id']}", headers=headers)

        stall = {"failCommands": ["delete"], "blockConnection": True, "blockTimeMS": STALL_MS}
        async with fail_point(store, "alwaysOn", **stall):
            with anyio.fail_after(ANSWER_WITHIN):
                response = await delete()
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) >= 1
            assert "try again" in response.json()["detail"]
        # Asked again once the database answers: deleted now, or already deleted by the redo of
        # the journalled deletion when the aggregator restarted.
        response = await until_answered(delete)
        assert response.status_code in {204, 404}, response.text
        history = await get(world, headers, "/api/v1/history", limit="100")
        assert history["total"] == len(plays) - 1
        assert target["id"] not in {item["id"] for item in history["items"]}
        await assert_ledger_matches_plays(store, user_id)


async def test_sync_trigger_answers_503_while_the_database_fails_then_works(
    settings: Settings, tmp_path: Path
) -> None:
    async with (
        running_embedded_server(tmp_path / "db", test_commands=True) as server,
        impatient_store(server, STORE_TIMEOUT_MS) as store,
        signin_world(settings, store) as world,
    ):
        await signed_in_with_history(world)
        # Creating the job is an insert: it stalls past the driver's patience (a NetworkTimeout,
        # which is not one of our errors).
        stall = {"failCommands": ["insert"], "blockConnection": True, "blockTimeMS": STALL_MS}
        async with fail_point(store, "alwaysOn", **stall):
            with anyio.fail_after(ANSWER_WITHIN):
                response = await trigger(world)
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) >= 1
        response = await until_answered(lambda: trigger(world))
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "started"


async def test_a_failed_write_then_the_aggregators_restart_loses_no_play(tmp_path: Path) -> None:
    """Two batches at the aggregator at once; the first one's write fails while the second is
    being planned in its worker thread (a plan that counts the first's plays as stored). The
    restarted aggregator must not inherit that plan: sent again, every play is stored once."""
    async with (
        running_embedded_server(tmp_path / "db", test_commands=True) as server,
        impatient_store(server, PATIENT_MS) as own,  # writing 20,000 plays takes seconds
    ):
        t0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
        profile = Profile(spotify_id="u1", display_name=None, image_url=None, product=None)
        user, _ = await Users(own).upsert_from_profile(profile, t0)
        uid = user.id
        first = [play(f"a{i}", t0 + timedelta(minutes=4 * i), user=uid) for i in range(200)]
        # Big enough that its plan (seconds of CPU) is still running when the first write fails.
        second = [
            play(f"b{i % 5000}", t0 + timedelta(minutes=4 * i, seconds=90), user=uid)
            for i in range(SECOND_BATCH)
        ]
        async with Hub(backoff=Backoff(initial=0.1, maximum=0.5)) as hub:
            pipeline = await start_pipeline(
                hub, PipelineStreams.create(), own, Ledger(own), lambda: t0 + timedelta(days=30)
            )
            # The first write's journal insert stalls 0.5 s, then its connection drops — twice,
            # as the driver retries a write once — about 1 s in, amid the second batch's plan.
            drop = {"failCommands": ["insert"], "blockConnection": True, "blockTimeMS": 500}
            async with fail_point(own, {"times": 2}, errorCode=354, **drop):
                outcomes: list[object] = []

                async def submit(plays: list[Any]) -> None:
                    try:
                        outcomes.append(await pipeline.submit_plays(uid, plays))
                    except NoAnswer as exc:
                        outcomes.append(exc)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(submit, first)
                    await anyio.sleep(0.1)
                    tg.start_soon(submit, second)
            assert all(isinstance(o, NoAnswer) for o in outcomes), outcomes
            again = [await pipeline.submit_plays(uid, batch) for batch in (first, second)]
        assert [o.stored for o in again] == [len(first), len(second)], again
        assert await own["plays"].count_documents({"user_id": uid}) == len(first) + len(second)
        await assert_ledger_matches_plays(own, uid)
