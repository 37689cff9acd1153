"""Strict validation of simulator responses against Spotify's OpenAPI spec.

The spec's schemas are lax (almost nothing is required, extra keys are allowed), so they are
compiled into strict JSON Schemas first: ``$ref``/``allOf`` flattened, ``nullable`` honoured,
unknown keys rejected, every non-deprecated property required, deprecated properties rejected in
development mode. The only exceptions are the ones in ``deviations.py``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml

from .deviations import FIELD_DEVIATIONS, STATUS_DEVIATIONS, Deviation

SPEC_PATH = Path(__file__).parents[1] / "data" / "spotify-openapi.yml"
Schema = dict[str, Any]


@functools.cache
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


def _component(name: str) -> Schema:
    schemas: dict[str, Schema] = spec()["components"]["schemas"]
    return schemas[name]


def _deviations(names: set[str], prop: str) -> list[Deviation]:
    return [d for d in FIELD_DEVIATIONS if d.schema in names and d.field in (prop, "*")]


class Compiler:
    """Turns spec schemas into strict JSON Schemas for one mode (dev or extended quota)."""

    def __init__(self, *, dev_mode: bool, partial: bool = False) -> None:
        self.dev_mode = dev_mode
        # A ``fields=`` selection: only what was asked for is present, so nothing is required
        # (unknown keys and wrong types still fail).
        self.partial = partial

    def compile(self, node: Schema, name: str | None = None) -> Schema:
        if "$ref" in node:
            ref = str(node["$ref"]).rsplit("/", 1)[-1]
            return self.compile(_component(ref), ref)
        if "$literal" in node:  # a JSON Schema written out in deviations.py
            literal: Schema = node["$literal"]
            return literal
        if "$strict_ref" in node:
            inner = self.compile(_component(node["$strict_ref"]), node["$strict_ref"])
            if node.get("$null_items"):
                items = inner["properties"]["items"]
                inner["properties"]["items"] = {
                    "type": "array",
                    "items": {"anyOf": [items["items"], {"type": "null"}]},
                }
                return inner
            if "$extra" in node:  # the component plus keys the spec does not declare
                extra: Schema = node["$extra"]
                return {
                    **inner,
                    "properties": {**inner["properties"], **extra},
                    "required": [] if self.partial else sorted({*inner["required"], *extra}),
                }
            key = node["$wrap"]
            return {
                "type": "object",
                "properties": {key: inner},
                "required": [key],
                "additionalProperties": False,
            }
        if "allOf" in node and len(node["allOf"]) == 1 and "properties" not in node:
            compiled = self.compile(node["allOf"][0], name)
        elif "allOf" in node or "properties" in node:
            compiled = self._object(node, name)
        elif "oneOf" in node:
            compiled = {"oneOf": [self.compile(option) for option in node["oneOf"]]}
        elif node.get("type") == "array":
            compiled = {"type": "array", "items": self.compile(node.get("items", {}))}
        else:
            compiled = {
                k: v for k, v in node.items() if k in ("type", "enum", "minimum", "maximum")
            }
        if node.get("nullable"):
            compiled = {"anyOf": [compiled, {"type": "null"}]}
        return compiled

    def _collect(
        self,
        node: Schema,
        name: str | None,
        props: dict[str, tuple[Schema, str, bool]],
        required: set[str],
        names: set[str],
    ) -> None:
        if "$ref" in node:
            ref = str(node["$ref"]).rsplit("/", 1)[-1]
            self._collect(_component(ref), ref, props, required, names)
            return
        if name is not None:
            names.add(name)
        for part in node.get("allOf", []):
            self._collect(part, name if "$ref" not in part else None, props, required, names)
        for prop, sub in node.get("properties", {}).items():
            props[prop] = (sub, name or "?", bool(sub.get("deprecated")))
        required.update(node.get("required", []))

    def _object(self, node: Schema, name: str | None) -> Schema:
        props: dict[str, tuple[Schema, str, bool]] = {}
        spec_required: set[str] = set()
        names: set[str] = set()
        self._collect(node, name, props, spec_required, names)
        properties: dict[str, Schema] = {}
        required: set[str] = set()
        for prop, (sub, declared_by, deprecated) in props.items():
            found = _deviations({declared_by} | names, prop)
            kinds = {d.kind for d in found}
            if deprecated and self.dev_mode and "keep_deprecated" not in kinds:
                if prop in spec_required and "optional" not in kinds:
                    required.add(prop)  # unsatisfiable on purpose: needs a listed deviation
                continue  # removed in dev mode: additionalProperties rejects it
            replacement = next((d for d in found if d.kind == "replace"), None)
            schema = self.compile(replacement.json_schema) if replacement else self.compile(sub)
            if "nullable" in kinds:
                schema = {"anyOf": [schema, {"type": "null"}]}
            if "nullable_items" in kinds:
                schema = {**schema, "items": {"anyOf": [schema["items"], {"type": "null"}]}}
            properties[prop] = schema
            optional = "optional" in kinds or (deprecated and prop not in spec_required)
            if not optional:
                required.add(prop)
        for dev in FIELD_DEVIATIONS:
            if dev.kind == "extra" and dev.schema in names:
                properties[dev.field] = dev.json_schema
        return {
            "type": "object",
            "properties": properties,
            "required": [] if self.partial else sorted(required),
            "additionalProperties": False,
        }


def _operation(method: str, path: str) -> dict[str, Any]:
    paths: dict[str, Any] = spec()["paths"]
    if path not in paths or method.lower() not in paths[path]:
        raise AssertionError(f"{method} {path} is not in the spec")
    operation: dict[str, Any] = paths[path][method.lower()]
    return operation


def _response_schema(response: Schema) -> tuple[Schema | None, str | None]:
    name = None
    if "$ref" in response:
        name = str(response["$ref"]).rsplit("/", 1)[-1]
        response = spec()["components"]["responses"][name]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None, name
    return content["schema"], name


def body_kind(response: httpx.Response) -> str:
    if not response.content:
        return "empty"
    if response.headers.get("content-type", "").startswith("application/json"):
        return "json"
    return "text"


def check(compiler: Compiler, method: str, route: str, response: httpx.Response) -> list[str]:
    """Problems of one response (empty when it conforms); ``route`` is the simulator template."""
    path = route.removeprefix("/v1")
    status, kind = response.status_code, body_kind(response)
    for key in ((method, path, status, kind), ("*", "*", status, kind)):
        if key in STATUS_DEVIATIONS:
            return []
    operation = _operation(method, path)
    listed = operation["responses"].get(str(status))
    if status >= 400:
        # Spotify lists only some error statuses per path; every error has the same shape.
        listed = listed or spec()["components"]["responses"]["BadRequest"]
    if listed is None:
        return [f"{method} {path}: status {status} is not in the spec"]
    schema, name = _response_schema(listed)
    if schema is None:
        return (
            [] if kind == "empty" else [f"{method} {path} {status}: expected no body, got {kind}"]
        )
    if kind != "json":
        return [f"{method} {path} {status}: expected JSON, got {kind}: {response.text[:80]!r}"]
    inline_name = f"response:{name}" if name and "$ref" not in schema else None
    strict = compiler.compile(schema, inline_name)
    validator = jsonschema.Draft202012Validator(strict)
    body = json.loads(response.content)
    return [
        f"{method} {path} {status} at {'/'.join(map(str, err.absolute_path))}: {err.message}"
        for err in validator.iter_errors(body)
    ]
