"""The incremental JSON array reader: same values as json.loads, bounded look-ahead, damage."""

from __future__ import annotations

import io
import json

import pytest

from echostats.domain.jsonstream import MALFORMED, ArrayReader, NotAnArray

ROWS = [
    {"ts": f"2020-01-01T00:00:{i % 60:02d}Z", "name": "é" * (i % 7), "n": i} for i in range(500)
]


def read(data: bytes, chunk: int = 64) -> list[object]:
    return list(ArrayReader(io.BytesIO(data).read, chunk=chunk))


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 16])
def test_reads_what_json_loads_reads_at_any_chunk_size(chunk: int) -> None:
    data = json.dumps(ROWS, indent=2, ensure_ascii=False).encode()
    assert read(data, chunk) == ROWS


def test_bom_and_empty_arrays() -> None:
    assert read(b"\xef\xbb\xbf[ ]") == []
    assert read(b"[]") == []


def test_truncated_file_yields_complete_rows_then_one_malformed() -> None:
    data = json.dumps(ROWS[:10]).encode()
    cut = data[: data.index(b'"n": 7') + 3]
    values = read(cut)
    assert values[:7] == ROWS[:7]
    assert values[7:] == [MALFORMED]


def test_a_broken_row_in_the_middle_is_skipped_and_reading_resumes() -> None:
    data = b'[{"a": 1}, {"a": tru}, {"a": 3}]'
    assert read(data) == [{"a": 1}, MALFORMED, {"a": 3}]


def test_not_an_array() -> None:
    with pytest.raises(NotAnArray):
        read(b'{"a": 1}')
    with pytest.raises(NotAnArray):
        read(b"")


def test_bytes_read_reaches_the_input_size() -> None:
    data = json.dumps(ROWS).encode()
    reader = ArrayReader(io.BytesIO(data).read, chunk=100)
    assert len(list(reader)) == len(ROWS)
    assert reader.bytes_read == len(data)
