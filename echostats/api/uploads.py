"""Receive a multipart upload straight to disk, under a byte limit.

Starlette's ``request.form()`` spools each file in memory up to 1 MiB and then into the system
temp directory, after the whole body arrived; an import of several GiB must instead go to the
data directory as it arrives, and stop the moment it passes the limit. So the body is fed chunk
by chunk to python-multipart's streaming parser and each file part is written to its own file
in a private directory. Client file names are only *reported*: files on disk are numbered.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from echostats.errors import InsufficientStorage, PayloadTooLarge, Unprocessable

MAX_FIELD_BYTES = 1_000
MAX_PARTS = 100
MAX_NAME_CHARS = 200
# Writes that fail because there is no room (disk, quota or file-size limit), not because of a bug.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
DISK_FULL = (
    "The server's disk is full: the upload could not be stored and nothing of it was kept. "
    "Free some space in the data directory, or upload fewer files at once, and try again."
)


def no_room(exc: OSError) -> InsufficientStorage | None:
    """The 507 to raise when ``exc`` means the disk is full, else None."""
    return InsufficientStorage(DISK_FULL) if exc.errno in NO_ROOM else None


@dataclass
class Received:
    files: list[tuple[str, Path]] = field(default_factory=list)  # (client's base name, on disk)
    fields: dict[str, str] = field(default_factory=dict)


def _base_name(raw: str) -> str:
    # Browsers send a base name; other clients may send a whole path (either separator). The
    # name is only shown (reports, logs): control characters (NUL, line breaks) go.
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_NAME_CHARS] or "upload"


class _Collector:
    def __init__(self, directory: Path, file_field: str) -> None:
        self._directory = directory
        self._file_field = file_field
        self.received = Received()
        self._header_field = b""
        self._header_value = b""
        self._disposition = b""
        self._out: IO[bytes] | None = None
        self._field_name: str | None = None
        self._field_value = bytearray()
        self._parts = 0

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise Unprocessable(f"An upload may carry at most {MAX_PARTS} parts.")
        self._disposition = b""
        self._field_name = None
        self._field_value.clear()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_field.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            self._field_name = name
            return
        if name != self._file_field:
            raise Unprocessable(
                f"Send the export files in the form field {self._file_field!r}, not {name!r}."
            )
        path = self._directory / f"{len(self.received.files):03d}.upload"
        self._out = path.open("xb")
        self.received.files.append((_base_name(filename.decode("utf-8", "replace")), path))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self._out.write(data[start:end])
            return
        self._field_value += data[start:end]
        if len(self._field_value) > MAX_FIELD_BYTES:
            raise Unprocessable(f"The form field {self._field_name!r} is far too long.")

    def on_part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        elif self._field_name:
            self.received.fields[self._field_name] = self._field_value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


async def receive_files(
    request: Request, directory: Path, *, max_bytes: int, file_field: str = "file"
) -> Received:
    """Write every file part of ``request`` into ``directory`` (which must exist).

    Raises ``PayloadTooLarge`` once the body passes ``max_bytes`` (or declares it will),
    ``InsufficientStorage`` when the disk fills up, and ``Unprocessable`` for a body that is not
    multipart form data. The caller removes ``directory`` on any failure.
    """
    limit_text = (
        f"{max_bytes / (1 << 30):.3g} GiB" if max_bytes >= 1 << 30 else f"{max_bytes:,} bytes"
    )
    too_large = PayloadTooLarge(
        f"The upload is larger than the {limit_text} this server accepts; "
        "upload the export's files in smaller groups."
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise Unprocessable(
            f"Send the export as multipart/form-data with the files in the field {file_field!r}."
        )
    collector = _Collector(directory, file_field)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": collector.on_part_begin,
            "on_part_data": collector.on_part_data,
            "on_part_end": collector.on_part_end,
            "on_header_field": collector.on_header_field,
            "on_header_value": collector.on_header_value,
            "on_header_end": collector.on_header_end,
            "on_headers_finished": collector.on_headers_finished,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise too_large
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise Unprocessable("The upload is not valid multipart form data.") from None
    except OSError as exc:
        if (full := no_room(exc)) is not None:
            raise full from None
        raise
    finally:
        try:
            collector.close()
        except OSError as exc:  # closing flushes the last bytes: the disk can fill up here too
            if (full := no_room(exc)) is None:
                raise
            raise full from None
    return collector.received
