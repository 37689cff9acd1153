"""Incremental reading of one top-level JSON array, in memory bounded by the largest element.

Export files are single JSON arrays of hundreds of megabytes in total; ``json.load`` would hold
the whole text and every row at once. This reader keeps a sliding text buffer of a few chunks
and decodes one element at a time with the C scanner behind ``json.JSONDecoder.raw_decode``.

Damage does not stop the reading: an element that does not decode yields ``MALFORMED`` and
reading resumes at the next ``{`` (export rows are flat objects, so the next brace starts the
next row); a file cut off mid-way yields its complete elements and then one ``MALFORMED`` for
the broken tail. Only a file that is not an array at all raises ``NotAnArray``.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from typing import Any, Final

CHUNK = 1 << 16
# An element is a row of ~700 bytes; one larger than this is garbage, not a row still arriving.
MAX_ELEMENT_CHARS = 1 << 20


class _Malformed:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MALFORMED"


MALFORMED: Final = _Malformed()

_WHITESPACE = " \t\n\r"
_scan = json.JSONDecoder().raw_decode


class NotAnArray(ValueError):
    """The text does not start with a JSON array."""


class ArrayReader:
    """Iterate the elements of the JSON array read from ``read(n) -> bytes``.

    ``bytes_read`` tells how far into the input the reader is (for progress reports). An element
    longer than ``max_element_chars`` is taken for garbage (export rows are small; a caller
    whose elements are whole pages of rows raises it).
    """

    def __init__(
        self,
        read: Callable[[int], bytes],
        chunk: int = CHUNK,
        max_element_chars: int = MAX_ELEMENT_CHARS,
    ) -> None:
        self._read = read
        self._chunk = chunk
        self._max_element_chars = max_element_chars
        # utf-8-sig: a BOM is tolerated (SPOTIFY.md §5.2); invalid bytes become U+FFFD so a
        # damaged byte spoils one row, not the file.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._buf = ""
        self._pos = 0
        self._eof = False
        self.bytes_read = 0

    def _fill(self) -> bool:
        """Append one chunk; False at the end of the input."""
        if self._eof:
            return False
        data = self._read(self._chunk)
        self.bytes_read += len(data)
        if not data:
            self._eof = True
            self._buf += self._decoder.decode(b"", final=True)
            return False
        if self._pos > len(self._buf) // 2:
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += self._decoder.decode(data)
        return True

    def _skip_ws(self) -> str | None:
        """The next non-whitespace character (not consumed), or None at the end of input."""
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self._fill():
                return None

    def _decode_element(self) -> Any:
        """One element at ``_pos``; MALFORMED (and resynchronised) when it does not decode."""
        while True:
            # Keep a chunk of look-ahead so a failure is rarely just "not arrived yet".
            while not self._eof and len(self._buf) - self._pos < self._chunk and self._fill():
                pass
            try:
                value, end = _scan(self._buf, self._pos)
            except json.JSONDecodeError:
                if self._eof or len(self._buf) - self._pos > self._max_element_chars:
                    self._resync()
                    return MALFORMED
                self._fill()
                continue
            self._pos = end
            return value

    def _resync(self) -> None:
        """Move to the next ``{`` after the broken element (or to the end)."""
        while True:
            found = self._buf.find("{", self._pos + 1)
            if found >= 0:
                self._pos = found
                return
            self._pos = len(self._buf)
            if not self._fill():
                return

    def __iter__(self) -> Iterator[Any]:
        first = self._skip_ws()
        if first != "[":
            raise NotAnArray("the file does not start with a JSON array")
        self._pos += 1
        if self._skip_ws() == "]":
            return
        while True:
            char = self._skip_ws()
            if char is None:
                return  # cut off between elements: everything complete was read
            if char == "]":
                return
            value = self._decode_element()
            yield value
            if value is MALFORMED:
                continue
            char = self._skip_ws()
            if char == ",":
                self._pos += 1
            elif char == "]" or char is None:
                return
            else:
                # Garbage between elements: report it once and look for the next row.
                self._resync()
                yield MALFORMED
