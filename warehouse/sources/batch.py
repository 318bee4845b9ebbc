"""What every source hands to ingestion: a batch of raw records plus the records it could not read."""

from __future__ import annotations

import gzip
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

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


def prefetch(batches: Iterator[RawBatch], depth: int = 2) -> Iterator[RawBatch]:
    """Read the next batches in a background thread while the caller works on this one.

    Parsing (gzip, JSON) and normalising/writing (polars) both release the GIL, so on two cores they overlap.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for batch in batches:
                slots.put(batch)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)
        slots.put(done)

    threading.Thread(target=produce, daemon=True, name="batch-prefetch").start()
    while True:
        item = slots.get()
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item
