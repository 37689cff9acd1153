"""``Timestamp``: the datetime type of every response field (``domain/timestamps.py`` says why)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer

from echostats.domain.timestamps import iso_utc

Timestamp = Annotated[datetime, PlainSerializer(iso_utc, return_type=str, when_used="json")]
