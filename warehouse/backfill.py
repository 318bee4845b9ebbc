"""``arxiv-trends backfill``: bulk import of snapshot files, raw OAI-PMH pages and Atom feeds.

The format of each file is detected from its content (gzip or not), never from its name. Every path is
checked before anything is imported, so a typo fails fast instead of after an hour of work.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import polars as pl

from warehouse.api import Warehouse
from warehouse.errors import InputError
from warehouse.ingest import IngestStats, batches_from_records, ingest_batches, stderr_progress
from warehouse.sources.batch import RawBatch, prefetch, read_head
from warehouse.state import record_inputs, record_run

Detected = tuple[Path, str, str, str]  # (path, format, parser module, default source label)
ReadFiles = Callable[[list[Detected]], Iterator[Iterable[RawBatch]]]

# (format name, module under warehouse.sources, default source label); tried in this order.
FORMATS = (("snapshot", "warehouse.sources.snapshot", "snapshot"),
           ("oai-pmh", "warehouse.sources.oai", "oai"),
           ("atom", "warehouse.sources.atom", "atom"))


@dataclass
class BackfillSummary(IngestStats):
    """The ingest counts of the whole backfill, plus what was read from each file and how long it took."""

    files: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus every file under folders named (sorted), skipping hidden ones."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not out:
        raise InputError("no input files found in " + ", ".join(str(p) for p in paths))
    return out


def detect_format(path: Path) -> tuple[str, str, str]:
    """(format, module, default source) for ``path``, by content; a clear error when unknown."""
    try:
        head = read_head(path)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from exc
    if not head.strip():
        raise InputError(f"{path}: the file is empty")
    for fmt, module_name, source in FORMATS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if module.sniff(head):
            return fmt, module_name, source
    raise InputError(f"{path}: unrecognised format (expected arXiv snapshot JSON lines, an OAI-PMH response "
                     "or an arXiv API Atom feed)")


def file_batches(path: Path, module_name: str) -> Iterator[RawBatch]:
    """Raw batches of one file of a detected format."""
    module = importlib.import_module(module_name)
    if hasattr(module, "iter_file_batches"):
        return module.iter_file_batches(path)
    return batches_from_records(module.iter_file_records(path))


def read_files_here(detected: list[Detected]) -> Iterator[Iterable[RawBatch]]:
    """The raw batches of each detected file, in order, parsed in this process."""
    return (file_batches(path, module_name) for path, _fmt, module_name, _source in detected)


def backfill_paths(wh: Warehouse, paths: Iterable[str | Path], progress: bool = True,
                   on_records: Callable[[str, int], None] | None = None,
                   read_files: ReadFiles = read_files_here) -> BackfillSummary:
    """Import every file as one atomic change of the warehouse; returns per-file and total counts.

    ``on_records(file_name, n)`` is called after each batch (for progress bars); without it and with
    ``progress`` a line per batch goes to stderr. ``read_files`` turns the detected files into their batches,
    one iterable per file in order: the flows pass one that parses the files on Dask workers.
    """
    started = time.perf_counter()
    files = expand_paths(paths)
    detected = [(path, *detect_format(path)) for path in files]
    summary = BackfillSummary(files=[{"path": str(p), "format": fmt, "records": 0} for p, fmt, _, _ in detected])
    if on_records is None and progress:
        on_records = stderr_progress("backfill")

    def all_batches() -> Iterator[RawBatch]:
        for entry, (path, _fmt, _module, source), batches in zip(summary.files, detected, read_files(detected)):
            for batch in batches:
                if batch.frame.height and "x_source" in batch.frame.columns:
                    batch.frame = batch.frame.with_columns(pl.col("x_source").fill_null(source))
                n = batch.frame.height + len(batch.extras)
                entry["records"] += n
                if on_records is not None:
                    on_records(path.name, n)
                yield batch

    stats = ingest_batches(wh, prefetch(all_batches()), default_source="snapshot", origin="backfill")
    summary = BackfillSummary(**stats.as_dict(), files=summary.files,
                              seconds=round(time.perf_counter() - started, 2))
    record_run(wh.settings, "backfill", files=len(files), read=summary.read, inserted=summary.inserted,
               updated=summary.updated, quarantined=summary.quarantined)
    record_inputs(wh.settings, files)  # what `arxiv-trends repair` re-reads to rebuild papers
    return summary
