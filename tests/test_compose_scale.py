"""The scale-out recipe (compose profile ``scale`` and its nginx file), checked as data.

Docker cannot run here. What the replicas do together (one poller per user through leases, live
events crossing over through the change-stream bridge, take-over when one stops) is tested on the
embedded store in ``tests/ingest/test_replicas_and_outages.py``; this file checks that the
recipe wires real replicas the way those tests assume.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from fastapi.routing import APIRoute

from echostats.api.routers import ROUTERS
from echostats.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PROFILE = "scale"
REPLICAS = ("echostats-1", "echostats-2", "echostats-3")
PROXY = "echostats-proxy"
# Settings that must be identical on every replica, and come from the operator's .env exactly as
# for the single service.
SHARED_SECRETS = ("SESSION_SECRET", "ENCRYPTION_KEYS", "SPOTIFY_CLIENT_SECRET")
SHARED = (
    *SHARED_SECRETS,
    "SPOTIFY_CLIENT_ID",
    "SPOTIFY_REDIRECT_URI",
    "PUBLIC_BASE_URL",
    "MONGODB_URL",
    "DATABASE_NAME",
    "TRUSTED_PROXIES",
)
DEFAULT_VALUE = re.compile(r"\$\{[A-Z_]+:-(?P<default>[^}]*)\}")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _env(service: str) -> dict[str, str]:
    env = _services()[service]["environment"]
    assert isinstance(env, dict)
    return {str(k): str(v) for k, v in env.items()}


def _default_of(value: str) -> str:
    match = DEFAULT_VALUE.fullmatch(value)
    assert match, f"{value!r} is not ${{VAR:-default}}"
    return match["default"]


# --- a minimal nginx parser: directives and blocks, enough to read our own file ---

Directive = tuple[list[str], list[Any] | None]  # (words, children of a block or None)


def _parse_nginx(text: str) -> list[Directive]:
    text = re.sub(r"#[^\n]*", "", text)
    tokens = re.findall(r'"[^"]*"|[{};]|[^\s{};"]+', text)
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].append((words, None))
            words = []
        elif token == "{":
            block: list[Directive] = []
            stack[-1].append((words, block))
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1, "unbalanced braces in the nginx file"
    assert not words, f"unterminated directive {words}"
    return stack[0]


def _find(directives: list[Directive], name: str) -> list[Directive]:
    return [d for d in directives if d[0] and d[0][0] == name]


def _values(block: list[Directive], name: str) -> list[list[str]]:
    return [words[1:] for words, _ in _find(block, name)]


def _nginx_file() -> Path:
    for mount in _services()[PROXY]["volumes"]:
        source, target = str(mount).split(":")[:2]
        if target.startswith("/etc/nginx/"):
            return (ROOT / source).resolve()
    raise AssertionError("the proxy mounts no nginx configuration")


def _nginx() -> list[Directive]:
    path = _nginx_file()
    assert path.is_file(), f"{path} is missing"
    return _parse_nginx(path.read_text())


def _server() -> list[Directive]:
    (server,) = _find(_nginx(), "server")
    assert server[1] is not None
    return server[1]


def _locations() -> dict[str, list[Directive]]:
    found: dict[str, list[Directive]] = {}
    for words, block in _find(_server(), "location"):
        assert block is not None
        found[words[-1]] = block
    return found


def _sse_paths() -> list[str]:
    """Every route that answers with an event stream, as a concrete path."""
    paths = []
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                content = (route.responses.get(200) or {}).get("content", {})
                if "text/event-stream" in content:
                    paths.append(re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", route.path))
    assert len(paths) >= 4, paths
    return paths


def _sse_location() -> tuple[re.Pattern[str], list[Directive]]:
    regexes = {k: v for k, v in _locations().items() if k.startswith("^")}
    assert len(regexes) == 1, f"expected one regex location for live streams, got {regexes}"
    ((pattern, block),) = regexes.items()
    return re.compile(pattern), block


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert match, value
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2] or "s"]
    return int(match[1]) * unit


# --- default behaviour ---


def test_without_a_profile_only_the_single_instance_setup_starts() -> None:
    services = _services()
    unprofiled = {name for name, svc in services.items() if "profiles" not in svc}
    assert unprofiled == {"mongodb", "echostats"}
    for name in unprofiled:
        # Still on the implicit default network only, and depending on nothing from a profile.
        assert "networks" not in services[name]
        assert set(services[name].get("depends_on", {})) <= unprofiled
    assert services["echostats"]["ports"] == ["127.0.0.1:8000:8000"]
    assert services["echostats"]["volumes"] == ["echostats-data:/data"]
    assert "ECHOSTATS_INSTANCE_ID" not in services["echostats"]["environment"]
    assert "ECHOSTATS_TRUSTED_PROXIES" not in services["echostats"]["environment"]
    for name, svc in services.items():
        if name not in unprofiled:
            assert svc["profiles"] == [PROFILE], name


# --- the scale profile ---


def test_the_scale_profile_runs_three_replicas_behind_one_proxy() -> None:
    services = _services()
    scaled = {name for name, svc in services.items() if PROFILE in svc.get("profiles", [])}
    assert scaled == {*REPLICAS, PROXY}
    for name in REPLICAS:
        replica = services[name]
        assert replica["build"] == "."
        assert "ports" not in replica, f"{name} must be reached through the proxy only"
        assert replica["depends_on"]["mongodb"]["condition"] == "service_healthy"
        assert "/api/health" in " ".join(replica["healthcheck"]["test"])
        volume = replica["volumes"][0].split(":")[0]
        assert volume in _compose()["volumes"]
    proxy = services[PROXY]
    assert set(proxy["depends_on"]) == set(REPLICAS)
    assert proxy["ports"][0].startswith("127.0.0.1:")
    assert proxy["ports"][0].endswith(":8080")


def test_mongodb_is_a_replica_set_and_every_replica_uses_it() -> None:
    mongodb = _services()["mongodb"]
    command = mongodb["command"]
    assert "--replSet" in command
    replica_set = command[command.index("--replSet") + 1]
    # The health check is what initiates the set, under the same name and host.
    check = " ".join(mongodb["healthcheck"]["test"])
    assert f"rs.initiate({{_id: '{replica_set}'" in check
    assert "host: 'mongodb:27017'" in check
    for name in REPLICAS:
        url = urlsplit(_env(name)["ECHOSTATS_MONGODB_URL"])
        assert url.scheme == "mongodb"
        assert url.hostname == "mongodb"
        assert url.port == 27017
        assert parse_qs(url.query)["replicaSet"] == [replica_set], name


def test_replicas_share_secrets_and_settings_and_differ_only_in_name() -> None:
    single = _env("echostats")
    envs = {name: _env(name) for name in REPLICAS}
    fields = set(Settings.model_fields)
    for name, env in envs.items():
        for key in env:
            assert key.removeprefix("ECHOSTATS_").lower() in fields, f"{name}: {key}"
        for secret in SHARED_SECRETS:
            # Wired from the operator's environment, and the same variable as the single service.
            value = env[f"ECHOSTATS_{secret}"]
            assert re.fullmatch(r"\$\{ECHOSTATS_" + secret + r":-\}", value), (name, value)
            assert value == single[f"ECHOSTATS_{secret}"]
    for key in (f"ECHOSTATS_{s}" for s in SHARED):
        assert len({env[key] for env in envs.values()}) == 1, f"{key} differs between replicas"
    ids = [env["ECHOSTATS_INSTANCE_ID"] for env in envs.values()]
    assert all(ids)
    assert len(set(ids)) == len(ids), f"instance ids must be distinct: {ids}"
    # Apart from the instance id, the replicas are configured identically.
    rest = [{k: v for k, v in env.items() if k != "ECHOSTATS_INSTANCE_ID"} for env in envs.values()]
    assert rest[0] == rest[1] == rest[2]
    for name in REPLICAS:
        settings = Settings.model_validate(
            {
                key.removeprefix("ECHOSTATS_").lower(): value
                for key, value in envs[name].items()
                if "${" not in value
            }
        )
        assert settings.instance_id == name
        assert not settings.embedded_store


def test_the_public_url_defaults_to_the_proxy() -> None:
    base_url = _default_of(_env(REPLICAS[0])["ECHOSTATS_PUBLIC_BASE_URL"])
    published = _services()[PROXY]["ports"][0]
    match = re.fullmatch(r"(?P<host>[\d.]+):(?P<port>\$\{[A-Z_]+:-\d+\}):8080", published)
    assert match, published
    assert base_url == f"http://{match['host']}:{_default_of(match['port'])}"


def test_replicas_trust_only_the_network_they_share_with_the_proxy() -> None:
    compose = _compose()
    services = compose["services"]
    assert services[PROXY]["networks"] == ["scale-edge"]
    for name in REPLICAS:
        assert sorted(services[name]["networks"]) == ["default", "scale-edge"]
    on_edge = {name for name, svc in services.items() if "scale-edge" in svc.get("networks", [])}
    assert on_edge == {*REPLICAS, PROXY}
    (subnet,) = compose["networks"]["scale-edge"]["ipam"]["config"]
    trusted = _env(REPLICAS[0])["ECHOSTATS_TRUSTED_PROXIES"]
    assert trusted == subnet["subnet"]
    network = ipaddress.ip_network(_default_of(trusted))
    assert network.is_private
    assert Settings(trusted_proxies=str(network)).trusted_proxy_networks == (network,)


# --- the nginx file ---


def test_the_proxy_balances_over_exactly_the_three_replicas() -> None:
    (upstream,) = _find(_nginx(), "upstream")
    name, block = upstream[0][1], upstream[1]
    assert block is not None
    servers = [words[0] for words in _values(block, "server")]
    port = _env(REPLICAS[0])["ECHOSTATS_PORT"]
    assert servers == [f"{replica}:{port}" for replica in REPLICAS]
    assert _values(block, "zone")
    assert _values(_nginx(), "resolver")
    assert all("resolve" in words for words in _values(block, "server"))
    for location in _locations().values():
        assert _values(location, "proxy_pass") == [[f"http://{name}"]]
    server = _server()
    assert _values(server, "listen") == [["8080"]]
    # Uploads are capped and streamed by the replica; the client cannot forge forwarded hops.
    assert _values(server, "client_max_body_size") == [["0"]]
    assert _values(server, "proxy_request_buffering") == [["off"]]
    assert ["X-Forwarded-For", "$remote_addr"] in _values(server, "proxy_set_header")


def test_every_live_stream_route_goes_unbuffered_with_a_long_read_timeout() -> None:
    pattern, block = _sse_location()
    for path in _sse_paths():
        assert pattern.search(path), f"{path} would be buffered by the proxy"
    for path in ("/api/v1/sync-jobs/abc", "/api/v1/history/import", "/api/v1/me", "/"):
        assert not pattern.search(path), path
    assert _values(block, "proxy_buffering") == [["off"]]
    assert _values(block, "proxy_cache") == [["off"]]
    # Far above the replicas' 15 s heartbeat.
    (timeout,) = _values(block, "proxy_read_timeout")
    assert _seconds(timeout[0]) >= 3600
    # Keep-alive to the upstream needs HTTP/1.1 and an empty Connection header.
    assert _values(_server(), "proxy_http_version") == [["1.1"]]
    assert ["Connection", '""'] in _values(_server(), "proxy_set_header")


@pytest.mark.parametrize(
    "text",
    ["server { listen 1;", "server { listen 1; }}", "listen 1"],
)
def test_the_nginx_reader_refuses_broken_files(text: str) -> None:
    with pytest.raises(AssertionError):
        _parse_nginx(text)


# --- the README ---


def test_the_readme_documents_the_recipe_and_points_at_the_replica_tests() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Scale-out")
    section = readme[start : readme.index("\n## ", start + 1)]
    assert f"docker compose --profile {PROFILE} up -d {PROXY}" in section
    for term in ("change stream", "lease", "ECHOSTATS_SESSION_SECRET", "ECHOSTATS_ENCRYPTION_KEYS"):
        assert term in section, term
    assert "proxy_buffering off" in section
    assert str(_nginx_file().relative_to(ROOT)) in section
    replica_tests = "tests/ingest/test_replicas_and_outages.py"
    assert replica_tests in section
    text = (ROOT / replica_tests).read_text()
    assert "async def test_two_instances_one_poller_and_events_cross_over" in text
    assert "async def test_a_replica_takes_over_when_the_other_stops" in text
