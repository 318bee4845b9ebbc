"""The Kaggle/Cornell snapshot (``arxiv-metadata-oai-snapshot.json``): JSON lines, optionally gzip'ed.

Read in large blocks and parsed by polars (multi-threaded); a block with a broken line falls back to
line-by-line parsing so only the broken lines are quarantined, each with its line number.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

import orjson
import polars as pl

from warehouse.records import RAW_SCHEMA, WHERE, coerce_raw, raw_frame
from warehouse.sources.batch import RawBatch, open_maybe_gzip

BLOCK_BYTES = 32 << 20
_LIST_AS_TEXT = ("authors", "categories")  # polars turns a JSON list into text for a str field


def sniff(head: bytes) -> bool:
    """A JSON object per line, with an ``id`` key near the start."""
    first = head.lstrip()[:4096]
    return first.startswith(b"{") and b'"id"' in first


def iter_file_batches(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[RawBatch]:
    """Raw batches of the file, in order; ``_where`` is ``<file name>:<line number>``."""
    name = Path(path).name
    line_no = 0
    with open_maybe_gzip(path) as fh:
        while block := fh.read(block_bytes):
            if not block.endswith(b"\n"):
                block += fh.readline()  # the rest of the block's last line (nothing at the end of the file)
            n_lines = block.count(b"\n") + (not block.endswith(b"\n"))
            yield _parse_block(block, line_no, n_lines, name)
            line_no += n_lines


def iter_file_records(path: Path) -> Iterator[dict]:
    """Record dicts, for callers that want one record at a time."""
    for batch in iter_file_batches(path):
        yield from batch.extras
        yield from batch.frame.to_dicts()


def _parse_block(chunk: bytes, first_line: int, n_lines: int, name: str) -> RawBatch:
    """polars parses the block at once; when it returns fewer rows than lines (it skips blank lines and fails
    on a broken one, never returning more), the block is parsed line by line instead."""
    try:
        frame = pl.read_ndjson(io.BytesIO(chunk), schema=RAW_SCHEMA)
    except Exception:  # noqa: BLE001 - any parse failure means: find the bad lines one by one
        frame = None
    if frame is not None and frame.height == n_lines:
        frame = frame.with_columns(
            (pl.lit(f"{name}:") + (pl.int_range(1, frame.height + 1) + first_line).cast(pl.Utf8)).alias(WHERE))
        suspicious = pl.any_horizontal(pl.col(c).str.starts_with("[") for c in _LIST_AS_TEXT).fill_null(False)
        if not frame.select(suspicious.any()).item():
            return RawBatch(frame, [])
    lines = chunk.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return _parse_lines(lines, first_line, name)


def _parse_lines(lines: list[bytes], first_line: int, name: str) -> RawBatch:
    records, extras = [], []
    for offset, line in enumerate(lines):
        where = f"{name}:{first_line + offset + 1}"
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            extras.append({"_error": f"invalid JSON: {exc}", WHERE: where, "_raw": line[:4000].decode("utf-8", "replace")})
            continue
        if not isinstance(obj, dict):
            extras.append({"_error": "not a JSON object", WHERE: where, "_raw": line[:4000].decode("utf-8", "replace")})
            continue
        try:
            coerce_raw(obj)
        except ValueError as exc:
            extras.append({"_error": str(exc), WHERE: where, "_raw": line[:4000].decode("utf-8", "replace")})
            continue
        obj[WHERE] = where
        records.append(obj)
    return RawBatch(raw_frame(records), extras)
