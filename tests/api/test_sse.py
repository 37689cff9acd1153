"""The SSE helper on a real uvicorn: ``ASGITransport`` buffers whole bodies, so cannot stream."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request, Response

from actors.events import Event
from actors.facade import Pipeline
from actors.hub import Hub
from echostats.api.sse import event_stream_response
from tests.servers import running_uvicorn

pytestmark = pytest.mark.anyio


@dataclasses.dataclass
class Frame:
    comments: list[str] = dataclasses.field(default_factory=list)
    event: str | None = None
    id: str | None = None
    data: str | None = None


async def frames(response: httpx.Response) -> AsyncIterator[Frame]:
    frame = Frame()
    async for line in response.aiter_lines():
        if not line:
            yield frame
            frame = Frame()
        elif line.startswith(":"):
            frame.comments.append(line[1:].strip())
        else:
            field, _, value = line.partition(": ")
            setattr(frame, field, value)


async def next_event(stream: AsyncIterator[Frame]) -> Frame:
    """The next frame that carries an event (heartbeats are skipped)."""
    with anyio.fail_after(5):
        while (frame := await anext(stream)).event is None:
            pass
    return frame


async def wait_until(condition: Callable[[], bool], within: float = 10) -> None:
    with anyio.fail_after(within):
        while not condition():
            await anyio.sleep(0.01)


def make_app(heartbeat_seconds: float = 15) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Hub() as hub:
            app.state.pipeline = Pipeline(hub)
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/stream/{user_id}")
    async def stream(request: Request, user_id: str) -> Response:
        topics = [f"now-playing:{user_id}", f"stats:{user_id}"]
        return event_stream_response(
            request, request.app.state.pipeline, topics, heartbeat_seconds=heartbeat_seconds
        )

    @app.get("/sync-jobs/{user_id}/{job_id}/stream")
    async def job_stream(request: Request, user_id: str, job_id: str) -> Response:
        return event_stream_response(
            request,
            request.app.state.pipeline,
            [f"sync-jobs:{user_id}"],
            include=lambda event: event.data.get("job_id") == job_id,
            close_after=lambda event: event.name == "finished",
        )

    return app


@dataclasses.dataclass
class Served:
    client: httpx.AsyncClient
    pipeline: Pipeline

    @contextlib.asynccontextmanager
    async def open(self, path: str, **kwargs: object) -> AsyncIterator[AsyncIterator[Frame]]:
        """A connected stream: yields once the server has registered the subscriber."""
        async with self.client.stream("GET", path, **kwargs) as response:  # type: ignore[arg-type]
            assert response.status_code == 200
            stream = frames(response)
            with anyio.fail_after(5):
                assert (await anext(stream)).comments == ["subscribed"]
            yield stream


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[Served]:
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=0)
    async with (
        running_uvicorn(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client,
    ):
        yield Served(client, app.state.pipeline)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with serve(make_app()) as served:
        yield served


async def test_events_arrive_with_name_id_and_json_data(served: Served) -> None:
    async with served.client.stream("GET", "/stream/u1") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        stream = frames(response)
        with anyio.fail_after(5):
            assert (await anext(stream)).comments == ["subscribed"]
        at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        playing = served.pipeline.publish(
            Event("now-playing:u1", "now_playing", {"track": "Blue in Green", "at": at})
        )
        served.pipeline.publish(Event("now-playing:u2", "idle", {}))  # someone else's
        stats = served.pipeline.publish(Event("stats:u1", "stats_updated", {"periods": ["day"]}))
        first, second = await next_event(stream), await next_event(stream)
    assert (first.event, first.id) == ("now_playing", str(playing.id))
    assert json.loads(first.data or "") == {
        "track": "Blue in Green",
        "at": "2026-03-01T12:00:00.000Z",
    }
    assert (second.event, second.id, second.data) == (
        "stats_updated",
        str(stats.id),
        '{"periods":["day"]}',
    )
    await wait_until(lambda: served.pipeline.broadcast_stats().subscribers == 0)


async def test_heartbeat_comments_are_sent_while_nothing_happens() -> None:
    async with serve(make_app(heartbeat_seconds=0.05)) as served:
        async with served.open("/stream/u1") as stream:
            with anyio.fail_after(5):
                heartbeats = [await anext(stream) for _ in range(2)]
        assert all(frame.comments == ["heartbeat"] for frame in heartbeats)
        assert all(frame.event is None and frame.data is None for frame in heartbeats)


async def test_reconnect_with_last_event_id_gets_only_newer_buffered_events(
    served: Served,
) -> None:
    sent = [
        served.pipeline.publish(Event("now-playing:u1", "now_playing", {"n": n})) for n in range(3)
    ]
    headers = {"Last-Event-ID": str(sent[0].id)}
    async with served.open("/stream/u1", headers=headers) as stream:
        replayed = [await next_event(stream), await next_event(stream)]
        live = served.pipeline.publish(Event("now-playing:u1", "idle", {}))
        after = await next_event(stream)
    assert [f.id for f in replayed] == [str(sent[1].id), str(sent[2].id)]
    assert [json.loads(f.data or "") for f in replayed] == [{"n": 1}, {"n": 2}]
    assert after.id == str(live.id)

    # Clients that cannot set headers pass the id in the query instead.
    async with served.open(f"/stream/u1?last_event_id={sent[2].id}") as stream:
        assert (await next_event(stream)).id == str(live.id)


async def test_malformed_last_event_id_means_no_replay(served: Served) -> None:
    served.pipeline.publish(Event("stats:u1", "stats_updated", {"n": 0}))
    async with served.open("/stream/u1", headers={"Last-Event-ID": "12abc"}) as stream:
        live = served.pipeline.publish(Event("now-playing:u1", "now_playing", {"n": 1}))
        assert (await next_event(stream)).id == str(live.id)


async def test_a_new_stream_starts_with_the_current_state(served: Served) -> None:
    """A subscriber hears what plays now before any change: the latest state event of each of
    its topics (not older states, not other events), then the live ones."""
    served.pipeline.publish(Event("now-playing:u1", "now_playing", {"n": 0}))
    state = served.pipeline.publish(Event("now-playing:u1", "now_playing", {"n": 1}))
    served.pipeline.publish(Event("stats:u1", "stats_updated", {"days": []}))
    served.pipeline.publish(Event("now-playing:u2", "idle", {}))  # someone else's
    async with served.open("/stream/u1") as stream:
        first = await next_event(stream)
        live = served.pipeline.publish(Event("now-playing:u1", "idle", {}))
        after = await next_event(stream)
    assert (first.event, first.id, json.loads(first.data or "")) == (
        "now_playing",
        str(state.id),
        {"n": 1},
    )
    assert (after.event, after.id) == ("idle", str(live.id))
    # A reconnecting client that already has the state is not sent it again.
    async with served.open("/stream/u1", headers={"Last-Event-ID": str(live.id)}) as stream:
        newer = served.pipeline.publish(Event("stats:u1", "stats_updated", {"days": []}))
        assert (await next_event(stream)).id == str(newer.id)


async def test_job_stream_keeps_to_its_job_and_closes_after_finished(served: Served) -> None:
    def job_event(name: str, job_id: str, **data: object) -> Event:
        return Event("sync-jobs:u1", name, {"job_id": job_id, **data})

    received: list[Frame] = []
    async with served.open("/sync-jobs/u1/j1/stream") as stream:
        served.pipeline.publish(job_event("progress", "j2", items_processed=5))
        served.pipeline.publish(job_event("progress", "j1", items_processed=10))
        served.pipeline.publish(job_event("finished", "j1", status="completed"))
        served.pipeline.publish(job_event("progress", "j1", items_processed=11))
        with anyio.fail_after(5):
            # The server ends the response after ``finished``: this loop ends by itself.
            received = [frame async for frame in stream if frame.event is not None]
    assert [(f.event, json.loads(f.data or "")["job_id"]) for f in received] == [
        ("progress", "j1"),
        ("finished", "j1"),
    ]
    await wait_until(lambda: served.pipeline.broadcast_stats().subscribers == 0)


async def test_many_clients_come_and_go_without_leaking(served: Served) -> None:
    clients, rounds = 200, 3
    pipeline = served.pipeline
    async with served.open("/stream/warm-up"):
        pass  # starts sse-starlette's process-wide shutdown watcher before the baseline
    await wait_until(lambda: pipeline.broadcast_stats().subscribers == 0)
    baseline = len(asyncio.all_tasks())

    for round_ in range(rounds):
        received = 0

        async def client(user: int) -> None:
            nonlocal received
            async with served.open(f"/stream/u{user % 7}") as stream:
                await next_event(stream)
                received += 1

        async with anyio.create_task_group() as tg:
            for user in range(clients):
                tg.start_soon(client, user)
            await wait_until(lambda: pipeline.broadcast_stats().subscribers == clients)
            for user in range(7):
                pipeline.publish(Event(f"stats:u{user}", "stats_updated", {"round": round_}))
        assert received == clients
        await wait_until(lambda: pipeline.broadcast_stats().subscribers == 0)

    await wait_until(lambda: len(asyncio.all_tasks()) <= baseline)
    assert pipeline.broadcast_stats().dropped == 0


async def test_server_shutdown_ends_open_streams_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # uvicorn drains requests before the lifespan ends: an endless stream must end by itself,
    # and with a proper last chunk rather than a cut connection.
    app = make_app()
    async with httpx.AsyncClient(timeout=10) as client:
        with anyio.fail_after(15):
            async with running_uvicorn(app) as url:
                request = client.build_request("GET", f"{url}/stream/u1")
                response = await client.send(request, stream=True)
                stream = frames(response)
                assert (await anext(stream)).comments == ["subscribed"]
            assert [frame async for frame in stream if frame.event] == []
            await response.aclose()
    assert app.state.pipeline.broadcast_stats().subscribers == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
