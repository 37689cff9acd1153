"""Spotify's ``fields=`` filter of ``/playlists/{id}`` and ``/playlists/{id}/items``.

``description,uri`` keeps two keys; ``items(added_at,added_by.id)`` drills into every row of a
list (parentheses) or into one object (a dot); ``album(!images,external_urls)`` keeps all but
the listed keys (Spotify's documented forms). A name the object does not have is simply
absent, so a stale expression such as ``items(track(name))`` (from before ``track`` became
``item``) yields empty rows, as on Spotify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TOKEN = re.compile(r"\s*([(),.!]|[^(),.!\s]+)")


class FieldsError(ValueError):
    """The expression does not parse."""


@dataclass
class Selection:
    keep: dict[str, Selection | None] = field(default_factory=dict)  # None: the whole value
    drop: set[str] = field(default_factory=set)

    def apply(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.apply(v) for v in value]
        if not isinstance(value, dict):
            return value
        if self.drop:
            return {k: v for k, v in value.items() if k not in self.drop}
        return {
            k: value[k] if sub is None else sub.apply(value[k])
            for k, sub in self.keep.items()
            if k in value
        }

    def merge(self, name: str, sub: Selection | None) -> None:
        if name in self.keep and self.keep[name] is None:
            return  # already the whole value
        if sub is None or name not in self.keep:
            self.keep[name] = sub
            return
        existing = self.keep[name]
        assert existing is not None
        for key, inner in sub.keep.items():
            existing.merge(key, inner)
        existing.drop |= sub.drop


def parse(expression: str) -> Selection:
    tokens = TOKEN.findall(expression)
    if "".join(tokens) != re.sub(r"\s+", "", expression):
        raise FieldsError(expression)
    selection, rest = _group(tokens)
    if rest:
        raise FieldsError(expression)
    return selection


def _group(tokens: list[str]) -> tuple[Selection, list[str]]:
    """``a,b.c,d(e),!f``: comma-separated fields up to a closing parenthesis or the end."""
    selection = Selection()
    # ``(!a,b)``: a group that starts with an exclusion excludes every field it lists.
    excluding = bool(tokens) and tokens[0] == "!"
    while True:
        marked = bool(tokens) and tokens[0] == "!"
        name, sub, tokens = _field(tokens[1:] if marked else tokens)
        if excluding or marked:
            selection.drop.add(name)
        else:
            selection.merge(name, sub)
        if not tokens or tokens[0] == ")":
            return selection, tokens
        if tokens[0] != ",":
            raise FieldsError("a comma was expected")
        tokens = tokens[1:]


def _field(tokens: list[str]) -> tuple[str, Selection | None, list[str]]:
    """One name and what is kept of it: ``.next`` (exactly one field) or ``(a group)``."""
    if not tokens or tokens[0] in "(),.!":
        raise FieldsError("a field name was expected")
    name, tokens = tokens[0], tokens[1:]
    if tokens and tokens[0] == ".":
        inner, sub, tokens = _field(tokens[1:])
        path = Selection()
        path.merge(inner, sub)
        return name, path, tokens
    if tokens and tokens[0] == "(":
        group, tokens = _group(tokens[1:])
        if not tokens or tokens[0] != ")":
            raise FieldsError("unbalanced parentheses")
        return name, group, tokens[1:]
    return name, None, tokens
