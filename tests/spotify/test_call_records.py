"""Exactly one scrubbed ApiCallRecord per HTTP request, token calls included."""

from __future__ import annotations

import dataclasses

import pytest

from echostats.errors import SpotifyError
from echostats.simulator import Simulator
from echostats.spotify import ApiCallRecord, SpotifyClient, TokenSet
from tests.spotify.conftest import connect
from tests.spotify.memory_store import MemoryTokenStore

pytestmark = pytest.mark.anyio


async def test_one_record_per_request_with_templates(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore, records: list[ApiCallRecord]
) -> None:
    connect(sim, store, "alice", expires_in=0)
    sim.faults.server_errors(count=1, status=502)
    await client.me("alice")
    saved = await client.saved_albums("alice", limit=1)
    album_id = saved.items[0].album.id
    assert album_id is not None
    await client.album("alice", album_id)
    with pytest.raises(SpotifyError):
        await client.playlist_items("alice", "doesnotexist0000000000")
    http_calls = list(sim.calls)
    assert len(records) == len(http_calls)
    assert [r.endpoint for r in records] == [
        "/api/token",
        "/me",
        "/me",
        "/me/albums",
        "/albums/{id}",
        "/playlists/{id}/items",
    ]
    assert [r.status_code for r in records] == [c.status for c in http_calls]
    assert len({r.request_id for r in records}) == len(records)
    for record in records:
        assert record.service == "spotify"
        assert record.user_id == "alice"
        assert record.latency_ms >= 0
        assert record.timestamp.tzinfo is not None
        assert "?" not in record.endpoint
        assert album_id not in record.endpoint
        assert record.error is None or len(record.error) <= 300
        assert (record.error is None) == (200 <= record.status_code < 300)
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.status_code = 1  # type: ignore[misc]


async def test_failed_refresh_record_holds_no_token(
    sim: Simulator, client: SpotifyClient, store: MemoryTokenStore, records: list[ApiCallRecord]
) -> None:
    tokens = connect(sim, store, "alice", expires_in=0)
    sim.faults.revoke_refresh_token("alice")
    with pytest.raises(SpotifyError):
        await client.me("alice")
    (record,) = records
    assert record.endpoint == "/api/token"
    assert record.error is not None
    assert tokens.refresh_token not in repr(record)
    assert tokens.access_token not in repr(record)
    assert "sim-client-secret" not in repr(record)


async def test_records_of_a_token_storm_hold_no_secret(
    sim: Simulator,
    client: SpotifyClient,
    store: MemoryTokenStore,
    alice: TokenSet,
    records: list[ApiCallRecord],
) -> None:
    sim.faults.server_errors(count=2, status=503, path="/api/token")
    store.put("alice", dataclasses.replace(alice, access_token="rejected-token"))
    await client.me("alice")
    secrets = store.every_secret() | {"sim-client-secret"}
    assert [r.status_code for r in records] == [401, 503, 503, 200, 200]
    assert not [s for s in secrets for r in records if s in repr(r)]
