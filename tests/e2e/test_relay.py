"""The relay across two EchoStats instances on loopback.

A (the sender) records listens and relays them to B (the receiver, a second EchoStats with a
database of its own) through B's ListenBrainz API. B is stopped mid-way, listens recorded
meanwhile wait in A's queue (visible through A's API), A itself restarts while they wait, and
when B is back every listen arrives — each exactly once.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from echostats.app import create_app
from echostats.settings import Settings
from echostats.store import Store
from echostats.store.embedded import EmbeddedServer, free_loopback_port
from echostats.store.users import Users
from tests import leaks
from tests.api.test_listenbrainz import new_token
from tests.conftest import prepared_store
from tests.ingest.truth import stored_plays
from tests.servers import running_uvicorn
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio


@pytest.fixture
async def receiver_store(db_server: EmbeddedServer) -> AsyncIterator[Store]:
    async with prepared_store(db_server, "receiver") as store:
        yield store


@contextlib.asynccontextmanager
async def receiver(settings: Settings, store: Store, port: int) -> AsyncIterator[FastAPI]:
    """Instance B on a fixed loopback port (so A's relay address stays the same)."""
    app = create_app(settings, store=store)
    async with running_uvicorn(app, port=port):
        yield app


async def receiver_token(app: FastAPI, store: Store) -> tuple[str, str]:
    """B's user (a local one) and their scrobble token, made through B's own sign-in link.

    In-process: uvicorn's access log would carry the link (spent, but a secret all the same)."""
    users = Users(store)
    user = await users.create_local("Relay target", datetime.now(UTC))
    secret = await users.issue_sign_in_link(user.id, datetime.now(UTC), timedelta(minutes=5))
    assert secret is not None
    leaks.SECRETS.add(secret)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as browser:
        signed = await browser.get("/api/v1/auth/link", params={"token": secret})
        assert signed.status_code == 303, signed.text
        return user.id, (await new_token(browser, "from A"))["token"]


def listen(minutes_ago: int) -> dict[str, Any]:
    return {
        "listened_at": int(time.time()) - 60 * minutes_ago,
        "track_metadata": {
            "artist_name": "Boards of Canada",
            "track_name": f"Track {minutes_ago}",
            "additional_info": {"duration_ms": 200_000},
        },
    }


async def scrobble(world: SignInWorld, token: str, *minutes_ago: int) -> None:
    response = await world.client.post(
        "/1/submit-listens",
        json={"listen_type": "import", "payload": [listen(m) for m in minutes_ago]},
        headers={"Authorization": f"Token {token}"},
    )
    assert response.json() == {"status": "ok"}, response.text


async def wait_for_plays(store: Store, user_id: str, count: int, timeout: float = 30) -> None:  # noqa: ASYNC109 - a bound, passed to fail_after
    with anyio.fail_after(timeout):
        while len(await stored_plays(store, user_id)) < count:
            await anyio.sleep(0.2)


async def relay_status(world: SignInWorld) -> dict[str, Any]:
    response = await world.client.get("/api/v1/relay")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_relay_survives_the_receiver_stopping_and_the_sender_restarting(
    settings: Settings, store: Store, receiver_store: Store, tmp_path: Path
) -> None:
    port = free_loopback_port()
    b_settings = settings.model_copy(update={"data_dir": tmp_path / "b", "port": port})
    b_url = f"http://127.0.0.1:{port}"
    async with receiver(b_settings, receiver_store, port) as b_app:
        b_user, b_token = await receiver_token(b_app, receiver_store)
        async with signin_world(settings, store, relay_max_retry_wait=1.0) as a:
            assert (await a.sign_in()).status_code == 303
            a_token = (await new_token(a.client, "phone"))["token"]
            bad = await a.client.put("/api/v1/relay", json={"url": "ftp://x", "token": "t"})
            assert bad.status_code == 422
            relay = {"url": f"{b_url}/apis/listenbrainz/", "token": b_token}
            configured = await a.client.put("/api/v1/relay", json=relay)
            assert configured.status_code == 200, configured.text
            assert configured.json()["url"] == f"{b_url}/apis/listenbrainz/1"
            assert b_token not in configured.text
            await scrobble(a, a_token, 50, 40, 30)
            await wait_for_plays(receiver_store, b_user, 3)
            with anyio.fail_after(10):
                while (await relay_status(a))["queue"]["sent"] < 3:
                    await anyio.sleep(0.1)
    # B is down. A records two more listens; they wait, with the reason visible.
    async with signin_world(settings, store, relay_max_retry_wait=1.0) as a:
        await a.sign_in()
        await scrobble(a, a_token, 20, 10)
        with anyio.fail_after(20):
            while True:
                waiting = (await a.client.get("/api/v1/relay/listens?state=pending")).json()
                if len(waiting) == 2 and all(item["attempts"] >= 2 for item in waiting):
                    break
                await anyio.sleep(0.2)
        assert all("did not answer" in item["last_error"] for item in waiting)
        status = await relay_status(a)
        assert status["queue"] == {"pending": 2, "sent": 3, "rejected": 0, "dropped": 0}
        assert status["problem"] is None
    # A stopped too (a restart); B comes back; a new A run sends what waited.
    async with (
        receiver(b_settings, receiver_store, port),
        signin_world(settings, store, relay_max_retry_wait=1.0) as a,
    ):
        await a.sign_in()
        await wait_for_plays(receiver_store, b_user, 5)
        with anyio.fail_after(10):
            while (await relay_status(a))["queue"]["sent"] < 5:
                await anyio.sleep(0.1)
        # A token B refuses pauses the relay and says why.
        refused = {"url": f"{b_url}/apis/listenbrainz", "token": str(uuid.uuid4())}
        assert (await a.client.put("/api/v1/relay", json=refused)).status_code == 200
        await scrobble(a, a_token, 5)
        with anyio.fail_after(10):
            while (await relay_status(a))["problem"] is None:
                await anyio.sleep(0.1)
        assert "401" in (await relay_status(a))["problem"]
        assert (await a.client.delete("/api/v1/relay")).status_code == 204
        assert (await relay_status(a))["configured"] is False
    received = await stored_plays(receiver_store, b_user)
    assert sorted(str(p["track_name"]) for p in received) == [
        "Track 10",
        "Track 20",
        "Track 30",
        "Track 40",
        "Track 50",
    ]
    assert {p["source"] for p in received} == {"scrobble"}
