"""Docker cannot run here, so the compose file and Dockerfile are checked as data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from echostats.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_env_matches_settings() -> None:
    env = _compose()["services"]["echostats"]["environment"]
    fields = set(Settings.model_fields)
    for name in env:
        assert name.startswith("ECHOSTATS_"), name
        assert name.removeprefix("ECHOSTATS_").lower() in fields, f"{name} is not a setting"
    assert env["ECHOSTATS_MONGODB_URL"].startswith("mongodb://mongodb:27017")
    assert env["ECHOSTATS_HOST"] == "0.0.0.0"
    # Every secret setting is wired from the operator's environment, not hard-coded.
    for secret in ("SPOTIFY_CLIENT_SECRET", "SESSION_SECRET", "ENCRYPTION_KEYS"):
        assert re.fullmatch(r"\$\{ECHOSTATS_" + secret + r":-\}", env[f"ECHOSTATS_{secret}"])


def test_compose_mongodb_has_volume_healthcheck_and_gates_the_app() -> None:
    compose = _compose()
    mongodb = compose["services"]["mongodb"]
    assert mongodb["image"].startswith("mongo:8")
    assert "--replSet" in mongodb["command"]
    assert "healthcheck" in mongodb
    volume = mongodb["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    app = compose["services"]["echostats"]
    assert app["depends_on"]["mongodb"]["condition"] == "service_healthy"
    assert "/api/health" in " ".join(app["healthcheck"]["test"])
    published = app["ports"][0]
    assert published.endswith(":" + app["environment"]["ECHOSTATS_PORT"])


def test_dockerfile_runs_unprivileged_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*", text, flags=re.MULTILINE)
    assert "/api/health" in text
    assert 'CMD ["echostats", "serve"]' in text
