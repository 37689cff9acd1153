"""The error answers of every route, written into the OpenAPI document in one place.

FastAPI documents only the success status and a 422 whose body (``detail`` as a list) is not the
one ``echostats.api.errors`` sends. Clients and the schema fuzzer read the document as the
contract, so each operation also lists what it can really answer: 401 when it needs a session,
422 when it takes parameters or a body, Spotify's mapped failures when it calls Spotify, 403 on
state-changing routes (the Origin check), 404 where a path names
something, 500 and 503 (database unavailable) everywhere — each with the
``{"detail", "request_id"}`` body. A route's own declaration of a status wins; one without a
body schema gets the error body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, get_args

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from echostats.api.auth import current_user
from echostats.api.passthrough import SpotifyDep
from echostats.api.protection import UNSAFE_METHODS


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """Every error answer: one sentence for a person, and the id of the request in the logs."""

    detail: str = Field(min_length=1)
    request_id: str | None


class ValidationErrorOut(ErrorOut):
    """A 422: the sentence names the first problem; ``errors`` lists each one when the request
    failed validation (a body that is valid JSON but not an export has only the sentence)."""

    errors: list[FieldError] = Field(default_factory=list)


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}

DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be carried out as sent (its body cannot be read, or Spotify "
    "refused it).",
    401: "No valid session: sign in (or sign in to Spotify again).",
    403: "Refused: a cross-site request, or (Spotify commands) Spotify Premium is required.",
    404: "Nothing with that id is known here.",
    409: "Conflict (for Spotify commands: no active device, or the command is not allowed now).",
    413: "The upload is over the size limit.",
    422: "The request is not valid; `errors` lists each field and its problem.",
    429: "Rate limited; try again after `Retry-After` seconds.",
    500: "Something went wrong on our side; the request id finds it in the logs.",
    501: "Spotify no longer offers this to development-mode apps.",
    502: "Spotify failed or did not answer.",
    503: "The database is unavailable right now; try again after `Retry-After` seconds.",
    507: "The server's disk is full; nothing of the upload was kept.",
}

# The dependency that hands a route the Spotify client, and the statuses such a route answers
# (``echostats.spotify.errors_map``). Sign-in routes use Spotify through their own context and
# declare theirs.
SPOTIFY_DEPENDENCY = get_args(SpotifyDep)[1].dependency
SPOTIFY_STATUSES = (400, 401, 403, 404, 409, 429, 501, 502)
# Health routes are answered without the database and without a session.
NO_DATABASE_PATHS = frozenset({"/api/health", "/api/health/update"})


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def error_statuses(route: APIRoute) -> set[int]:
    calls = set(_calls(route.dependant))
    statuses = {500}
    if route.path_format not in NO_DATABASE_PATHS:
        statuses.add(503)
    if current_user in calls:
        statuses.add(401)
    if SPOTIFY_DEPENDENCY in calls:
        statuses.update(SPOTIFY_STATUSES)
    if route.dependant.path_params:
        statuses.add(404)  # the id names nothing of this person's
    if route.body_field:
        statuses.add(400)  # a body that cannot even be read (not UTF-8, broken form data)
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        statuses.add(422)
    if (route.methods or set()) & UNSAFE_METHODS and route.path_format.startswith("/api/"):
        statuses.add(403)  # the cross-site check of ``echostats.api.protection``
    return statuses


def _error_response(status: int, ref: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": ref}}},
    }
    if status in {429, 503}:
        response["headers"] = _RETRY_AFTER
    return response


def document_errors(schema: dict[str, Any], routes: list[APIRoute]) -> dict[str, Any]:
    """Add the error answers of ``routes`` to ``schema`` (an OpenAPI document, changed)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldError, ErrorOut, ValidationErrorOut):
        components[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    for route in routes:
        operations = schema["paths"].get(route.path_format, {})
        for method in route.methods or ():
            operation = operations.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            declared_errors = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
            for status in sorted(error_statuses(route) | declared_errors):
                model = ValidationErrorOut if status == 422 else ErrorOut
                ref = f"#/components/schemas/{model.__name__}"
                declared = responses.get(str(status))
                if declared is None:
                    responses[str(status)] = _error_response(status, ref)
                    continue
                content = declared.get("content", {}).get("application/json", {})
                if not content.get("schema") or "HTTPValidationError" in str(content["schema"]):
                    filled = _error_response(status, ref)
                    declared["content"] = filled["content"]
                    if "headers" in filled:
                        declared.setdefault("headers", filled["headers"])
    # FastAPI's own validation-error models describe a body this app never sends.
    if "/HTTPValidationError" not in json.dumps(schema["paths"]):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def install_error_docs(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Serve the OpenAPI document with the error answers of the routes of ``routers`` (built
    once, on first use)."""
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate(), routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
