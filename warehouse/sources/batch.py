"""What every source hands to ingestion: a batch of raw records plus the records it could not read."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import polars as pl

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class RawBatch:
    """``frame`` follows ``records.RAW_SCHEMA`` (+ ``_where``); ``extras`` holds ``_error`` / ``_deleted`` markers."""

    frame: pl.DataFrame
    extras: list[dict] = field(default_factory=list)


def open_maybe_gzip(path: Path) -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing it when it is gzip (by content, not by name)."""
    fh = open(path, "rb")
    magic = fh.read(2)
    fh.seek(0)
    if magic == GZIP_MAGIC:
        return gzip.open(fh, "rb")
    return fh


def read_head(path: Path, size: int = 65536) -> bytes:
    """The first ``size`` decompressed bytes, for format detection."""
    with open_maybe_gzip(path) as fh:
        return fh.read(size)
