"""``echostats doctor``'s checks against the real store and the Spotify simulator."""

from __future__ import annotations

import fcntl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from echostats.doctor import Check, diagnose, exit_status
from echostats.domain.tokens import TokenSet
from echostats.security.keys import new_key_entry
from echostats.security.setup import token_cipher
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from echostats.store.embedded import LOCK_NAME, EmbeddedServer, free_loopback_port
from echostats.store.tokens import EncryptedTokenStore
from tests.signin import SIM_BASE, signin_world, wire

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sim_http() -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    sim = Simulator(SimulatorConfig(seed=7))
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_BASE) as http:
        yield sim, http


def on_store(
    settings: Settings, db_server: EmbeddedServer, store: Store, **changes: object
) -> Settings:
    values = {
        **dict(settings),
        "mongodb_url": SecretStr(db_server.url),
        "database_name": store.db.name,
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


async def signed_in_user(settings: Settings, store: Store, sim: Simulator) -> str:
    async with signin_world(settings, store, sim) as world:
        assert (await world.sign_in()).status_code == 303
        return str((await world.client.get("/api/v1/me")).json()["id"])


async def test_a_healthy_installation_passes(
    settings: Settings,
    store: Store,
    db_server: EmbeddedServer,
    sim_http: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, http = sim_http
    uid = await signed_in_user(settings, store, sim)
    checks = await diagnose(on_store(wire(settings, sim), db_server, store), http)
    found = by_name(checks)
    assert exit_status(checks) == 0, [c.line() for c in checks]
    assert found["spotify credentials"].detail == "Spotify accepted the client id and secret"
    assert found["database"].status == "ok"
    assert found[f"tokens of {uid}"].status == "ok"
    assert "readable with key test1" in found[f"tokens of {uid}"].detail
    assert found["data directory"].detail.endswith("will be created at first start")
    assert all("\n" not in check.line() for check in checks)


async def test_what_to_fix_is_said_for_each_problem(
    settings: Settings,
    store: Store,
    db_server: EmbeddedServer,
    sim_http: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, http = sim_http
    uid = await signed_in_user(settings, store, sim)
    tokens = EncryptedTokenStore(store, token_cipher(settings))
    doc = await store["tokens"].find_one({"_id": uid})
    assert doc is not None
    # Sealed for another user id: AES-GCM's associated data makes it unreadable here.
    await store["tokens"].insert_one({**doc, "_id": "copied"})
    expired = datetime.now(UTC) - timedelta(hours=1)
    await tokens.save("revoked", TokenSet("access-x", "refresh-x", expired))
    await tokens.mark_reauth_required("revoked", "invalid_grant: Refresh token revoked")

    wrong = wire(settings, sim, spotify_client_secret=SecretStr("not-the-secret"))
    newer_key = f"{new_key_entry('k2')},{settings.encryption_keys.get_secret_value()}"
    checks = await diagnose(
        on_store(wrong, db_server, store, encryption_keys=newer_key, session_secret="short"),
        http,
    )
    found = by_name(checks)
    assert exit_status(checks) == 1
    assert found["session secret"].status == "fail"
    assert "ECHOSTATS_SESSION_SECRET" in found["session secret"].detail
    assert found["spotify credentials"].status == "fail"
    assert "rejected the client id or secret" in found["spotify credentials"].detail
    assert found["tokens of copied"].status == "fail"
    assert "cannot be decrypted" in found["tokens of copied"].detail
    assert found["tokens of revoked"].status == "fail"
    assert found["tokens of revoked"].detail.startswith(
        "Spotify refused them (invalid_grant: Refresh token revoked): sign in again at"
    )
    assert found[f"tokens of {uid}"].status == "warn"
    assert "rotate-key" in found[f"tokens of {uid}"].detail
    text = "\n".join(check.line() for check in checks)
    assert "not-the-secret" not in text
    assert settings.encryption_keys.get_secret_value().split(":", 1)[1] not in text


async def test_unreachable_spotify_and_database_are_told_apart(
    settings: Settings, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_loopback_port()}"
    checks = await diagnose(
        settings.model_copy(
            update={
                "spotify_accounts_url": dead,
                "mongodb_url": SecretStr(f"mongodb://127.0.0.1:{free_loopback_port()}"),
                "store_start_timeout": 1.0,
                "public_base_url": "http://stats.example.org",
            }
        )
    )
    found = by_name(checks)
    assert found["spotify credentials"].status == "warn"
    assert "not verified" in found["spotify credentials"].detail
    assert found["spotify redirect URI"].status == "warn"
    assert "https" in found["spotify redirect URI"].detail
    assert found["database"].status == "fail"
    assert "did not answer" in found["database"].detail
    assert exit_status(checks) == 1


async def test_missing_credentials_and_an_unwritable_data_dir(
    settings: Settings, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    checks = await diagnose(
        settings.model_copy(
            update={
                "spotify_client_id": "",
                "data_dir": blocker / "data",
            }
        )
    )
    found = by_name(checks)
    assert found["spotify credentials"].status == "fail"
    assert "ECHOSTATS_SPOTIFY_CLIENT_ID" in found["spotify credentials"].detail
    assert found["data directory"].status == "fail"
    assert found["database"].detail == "no database yet; it is created at first start"


async def test_a_running_service_keeps_its_embedded_database(settings: Settings) -> None:
    """The service holds the data directory's lock; doctor must neither take it nor wait."""
    settings.data_dir.mkdir(parents=True)
    with (settings.data_dir / LOCK_NAME).open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        checks = await diagnose(settings.model_copy(update={"spotify_client_id": ""}))
    found = by_name(checks)
    assert found["database"].status == "warn"
    assert "in use by a running EchoStats" in found["database"].detail
    assert not any(check.name.startswith("tokens") for check in checks)
