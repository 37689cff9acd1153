"""The OpenAPI document lists every route's error answers, with the body the app really sends."""

from __future__ import annotations

from typing import Any

from echostats.app import create_app
from echostats.settings import Settings

ERROR_BODIES = {"#/components/schemas/ErrorOut", "#/components/schemas/ValidationErrorOut"}


def _document(settings: Settings) -> dict[str, Any]:
    schema: dict[str, Any] = create_app(settings).openapi()
    return schema


def test_every_error_answer_has_the_error_body(settings: Settings) -> None:
    document = _document(settings)
    assert "HTTPValidationError" not in str(document)  # FastAPI's list-shaped detail
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if int(status) < 400 or (path, status) == ("/api/health/ready", "503"):
                    continue  # readiness answers 503 with its own report
                schema = answer["content"]["application/json"]["schema"]
                assert schema["$ref"] in ERROR_BODIES, (method, path, status)
                if status in {"429", "503"}:
                    assert "Retry-After" in answer["headers"], (method, path, status)


def test_statuses_follow_what_each_route_does(settings: Settings) -> None:
    paths = _document(settings)["paths"]

    def statuses(method: str, path: str) -> set[str]:
        return set(paths[path][method]["responses"])

    # A session, a parameter, a Spotify call, a state change, an id in the path.
    assert {"401", "500", "503"} <= statuses("get", "/api/v1/me")
    assert "422" not in statuses("get", "/api/v1/me")
    assert {"401", "422"} <= statuses("get", "/api/v1/history")
    assert {"403", "409", "429", "501", "502"} <= statuses("post", "/api/v1/player/pause")
    assert {"400", "403", "422"} <= statuses("patch", "/api/v1/me/settings")
    assert {"404", "422"} <= statuses("get", "/api/v1/sync-jobs/{job_id}")
    assert "401" not in statuses("get", "/api/v1/auth/status")
    assert statuses("get", "/api/health") == {"200", "500"}
    assert {"400", "429", "502"} <= statuses("get", "/api/v1/auth/callback")
    assert "200" not in statuses("get", "/api/v1/auth/callback")  # it redirects (303)
