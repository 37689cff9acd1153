"""The ListenBrainz API against ListenBrainz's published documentation: every route, good and
bad payloads, bad and revoked tokens, limits, error bodies and rate-limit headers, at both
roots; and scrobble tokens through ``/api/v1/scrobble-tokens``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from actors import topics
from actors.facade import Pipeline
from echostats.domain.listens import MAX_LISTEN_PAYLOAD_SIZE, MAX_LISTENS_PER_REQUEST
from echostats.settings import Settings
from echostats.store import Store
from tests import leaks
from tests.ingest.truth import stored_plays
from tests.signin import SignInWorld, signin_world

pytestmark = pytest.mark.anyio

ROOTS = ("/1", "/apis/listenbrainz/1")
TRACK = "4uLU6hMCjMI75M1A2tKUQC"


@dataclass
class Scrobbling:
    world: SignInWorld
    user_id: str
    token: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.client

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Token {token or self.token}"}

    async def submit(
        self, listen_type: str, payload: list[Any], root: str = "/1", token: str | None = None
    ) -> httpx.Response:
        # As Navidrome and liblistenbrainz send it: JSON bytes without a Content-Type.
        body = json.dumps({"listen_type": listen_type, "payload": payload}).encode()
        headers = {**self.auth(token), "Content-Type": ""}
        return await self.client.post(f"{root}/submit-listens", content=body, headers=headers)


async def new_token(client: httpx.AsyncClient, name: str = "Navidrome") -> dict[str, Any]:
    response = await client.post("/api/v1/scrobble-tokens", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    leaks.SECRETS.add(body["token"])  # from now on no log line or response may carry it
    return body


@pytest.fixture
async def lb(settings: Settings, store: Store) -> AsyncIterator[Scrobbling]:
    async with signin_world(settings, store, scrobble_rate_limit=1000) as world:
        assert (await world.sign_in()).status_code == 303
        me = (await world.client.get("/api/v1/me")).json()
        yield Scrobbling(world, me["id"], (await new_token(world.client))["token"])


def listen(minutes_ago: int = 10, **info: Any) -> dict[str, Any]:
    started = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "listened_at": int(started.timestamp()),
        "track_metadata": {
            "artist_name": "Rick Astley",
            "track_name": f"Track {minutes_ago}",
            "release_name": "Whenever You Need Somebody",
            "additional_info": {"duration_ms": 213_573, "submission_client": "test", **info},
        },
    }


def lb_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "error"}, body
    assert body["code"] == status
    return str(body["error"])


async def test_scrobble_tokens_are_shown_once_listed_without_secret_and_revoked_at_once(
    lb: Scrobbling,
) -> None:
    second = await new_token(lb.client, "Pano Scrobbler")
    assert set(second) == {"id", "name", "token", "created_at"}
    listed = (await lb.client.get("/api/v1/scrobble-tokens")).json()
    assert [t["name"] for t in listed] == ["Navidrome", "Pano Scrobbler"]
    assert all(set(t) == {"id", "name", "created_at"} for t in listed)
    for root in ROOTS:
        valid = await lb.client.get(f"{root}/validate-token", headers=lb.auth(second["token"]))
        assert valid.json() == {
            "code": 200,
            "message": "Token valid.",
            "valid": True,
            "user_name": lb.user_id,
        }
    # liblistenbrainz still asks with ?token=
    by_query = await lb.client.get("/1/validate-token", params={"token": second["token"]})
    assert by_query.json()["valid"] is True

    gone = await lb.client.delete(f"/api/v1/scrobble-tokens/{second['id']}")
    assert gone.status_code == 204
    assert (await lb.client.delete(f"/api/v1/scrobble-tokens/{second['id']}")).status_code == 404
    invalid = await lb.client.get("/1/validate-token", headers=lb.auth(second["token"]))
    assert invalid.json() == {"code": 200, "message": "Token invalid.", "valid": False}
    refused = await lb.submit("single", [listen()], token=second["token"])
    assert lb_error(refused, 401) == "Invalid authorization token."
    assert "need to provide" in lb_error(await lb.client.get("/1/validate-token"), 400)
    # The rest of the API keeps its own error shape.
    empty = await lb.client.post("/api/v1/scrobble-tokens", json={"name": ""})
    assert empty.status_code == 422
    assert "detail" in empty.json()


async def test_listens_are_stored_once_through_the_pipeline(lb: Scrobbling, store: Store) -> None:
    single = listen(10, spotify_id=f"https://open.spotify.com/track/{TRACK}")
    for root in ROOTS:  # sent twice, once to each root: one play
        response = await lb.submit("single", [single], root)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
    many = [listen(minutes) for minutes in (20, 30, 40)]
    assert (await lb.submit("import", many)).json() == {"status": "ok"}
    plays = await stored_plays(store, lb.user_id)
    assert len(plays) == 4
    assert {p["source"] for p in plays} == {"scrobble"}
    assert all(p["counted"] for p in plays)
    history = (await lb.client.get("/api/v1/history", params={"source": "scrobble"})).json()
    assert history["total"] == 4
    newest = history["items"][0]
    assert newest["track"]["spotify_id"] == TRACK
    assert newest["played_at"][:19] == datetime.fromtimestamp(single["listened_at"], UTC).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )


async def test_listens_read_back_newest_first_and_only_by_their_owner(lb: Scrobbling) -> None:
    await lb.submit("import", [listen(minutes) for minutes in (10, 20, 30, 40, 50)])
    read = await lb.client.get(f"/1/user/{lb.user_id}/listens", headers=lb.auth())
    assert read.status_code == 200, read.text
    payload = read.json()["payload"]
    assert payload["count"] == 5
    assert payload["user_id"] == lb.user_id
    starts = [item["listened_at"] for item in payload["listens"]]
    assert starts == sorted(starts, reverse=True)
    assert payload["latest_listen_ts"] == starts[0]
    assert payload["oldest_listen_ts"] == starts[-1]
    first = payload["listens"][0]["track_metadata"]
    assert (first["artist_name"], first["track_name"]) == ("Rick Astley", "Track 10")
    paged = await lb.client.get(
        f"/apis/listenbrainz/1/user/{lb.user_id}/listens",
        params={"max_ts": starts[1], "count": 2},
        headers=lb.auth(),
    )
    assert [i["listened_at"] for i in paged.json()["payload"]["listens"]] == starts[2:4]
    forward = await lb.client.get(
        f"/1/user/{lb.user_id}/listens",
        params={"min_ts": starts[-1], "count": 2},
        headers=lb.auth(),
    )
    assert [i["listened_at"] for i in forward.json()["payload"]["listens"]] == starts[-3:-1]
    bad = await lb.client.get(
        f"/1/user/{lb.user_id}/listens", params={"count": "many"}, headers=lb.auth()
    )
    assert lb_error(bad, 400) == "Invalid count argument: many"
    other = await lb.client.get("/1/user/someone-else/listens", headers=lb.auth())
    assert lb_error(other, 404) == "Cannot find user: someone-else"
    anonymous = await lb.client.get(f"/1/user/{lb.user_id}/listens")
    assert lb_error(anonymous, 401) == "You need to provide an Authorization header."


@pytest.mark.parametrize(
    ("listen_type", "payload", "words"),
    [
        ("single", [], "does not contain any listens"),
        ("single", [listen(), listen(20)], "should contain only one"),
        ("import", [{"track_metadata": {"artist_name": "A"}}], "key listened_at"),
        ("single", [{**listen(), "listened_at": 1_000_000}], "too low"),
        ("single", [listen(duration_ms=-1)], "duration_ms is invalid"),
        ("playing_now", [listen()], "must not contain listened_at"),
        ("radio", [listen()], "valid listen_type"),
    ],
)
async def test_bad_payloads_are_refused_in_listenbrainz_words(
    lb: Scrobbling, store: Store, listen_type: str, payload: list[Any], words: str
) -> None:
    assert words in lb_error(await lb.submit(listen_type, payload), 400)
    assert await stored_plays(store, lb.user_id) == []


async def test_limits_and_authorization_headers(lb: Scrobbling) -> None:
    too_many = [listen(1 + i % 500) for i in range(MAX_LISTENS_PER_REQUEST + 1)]
    assert "Too many listens" in lb_error(await lb.submit("import", too_many), 400)
    huge = b"{" + b" " * MAX_LISTEN_PAYLOAD_SIZE + b"}"
    response = await lb.client.post("/1/submit-listens", content=huge, headers=lb.auth())
    assert "Payload too large" in lb_error(response, 400)
    not_json = await lb.client.post("/1/submit-listens", content=b"{nope", headers=lb.auth())
    assert "Cannot parse JSON document" in lb_error(not_json, 400)
    no_header = await lb.client.post("/1/submit-listens", content=b"{}")
    assert lb_error(no_header, 401) == "You need to provide an Authorization header."
    half = await lb.client.post(
        "/1/submit-listens", content=b"{}", headers={"Authorization": "Token"}
    )
    assert lb_error(half, 401) == "Provided Authorization header is invalid."
    nowhere = await lb.client.get("/1/user/x/listen-count", headers=lb.auth())
    assert "Nothing is served" in lb_error(nowhere, 404)


async def test_rate_limit_headers_and_429(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store, scrobble_rate_limit=3) as world:
        await world.sign_in()
        token = (await new_token(world.client))["token"]
        headers = {"Authorization": f"Token {token}"}
        seen = []
        for _ in range(3):
            response = await world.client.get("/1/validate-token", headers=headers)
            assert response.status_code == 200
            seen.append(response.headers)
        assert [h["X-RateLimit-Remaining"] for h in seen] == ["2", "1", "0"]
        assert {h["X-RateLimit-Limit"] for h in seen} == {"3"}
        assert 0 <= int(seen[-1]["X-RateLimit-Reset-In"]) <= 10
        assert abs(int(seen[-1]["X-RateLimit-Reset"]) - datetime.now(UTC).timestamp()) <= 12
        limited = await world.client.get("/1/validate-token", headers=headers)
        assert "Too many requests" in lb_error(limited, 429)
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        # Another client (no token: counted by address) has its own window; EchoStats' own
        # routes are not limited by it.
        assert (await world.client.get("/1/validate-token?token=x")).status_code == 200
        assert "X-RateLimit-Limit" not in (await world.client.get("/api/v1/me")).headers


async def test_playing_now_feeds_the_live_stream_and_expires(lb: Scrobbling) -> None:
    pipeline: Pipeline = lb.world.app.state.pipeline
    now_playing = listen(duration_ms=1_500, media_player="Navidrome")
    del now_playing["listened_at"]
    async with pipeline.subscribe([topics.now_playing(lb.user_id)]) as events:
        sent = anyio.current_time()
        assert (await lb.submit("playing_now", [now_playing])).json() == {"status": "ok"}
        with anyio.fail_after(1):
            event = await anext(aiter(events))
        assert anyio.current_time() - sent < 1
        assert event.name == "now_playing"
        assert event.data["track"]["name"] == "Track 10"
        assert event.data["device"] == "Navidrome"
        read = await lb.client.get(f"/1/user/{lb.user_id}/playing-now", headers=lb.auth())
        payload = read.json()["payload"]
        assert (payload["count"], payload["playing_now"]) == (1, True)
        assert payload["listens"][0]["track_metadata"]["track_name"] == "Track 10"
        with anyio.fail_after(5):
            ended = await anext(aiter(events))
        assert ended.name == "idle"
    read = await lb.client.get(f"/1/user/{lb.user_id}/playing-now", headers=lb.auth())
    assert read.json()["payload"]["listens"] == []
