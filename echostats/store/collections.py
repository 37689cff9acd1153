"""What store modules are handed: a ``Store`` or a bare database (migrations get the latter)."""

from __future__ import annotations

from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]


class Collections(Protocol):
    def __getitem__(self, name: str) -> AsyncCollection[Document]: ...
