"""One way in for every source: raw batches -> normalised rows -> quarantine or ``papers`` upsert."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

import orjson
import polars as pl

from warehouse.api import Warehouse
from warehouse.papers import PapersUpsert
from warehouse.quarantine import Quarantine
from warehouse.records import WHERE, normalize_batch, raw_frame
from warehouse.sources.batch import RawBatch, prefetch

RECORDS_PER_BATCH = 20_000
DELETED_TABLE = "deleted"


@dataclass
class IngestStats:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    deleted: int = 0
    quarantine_file: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def batches_from_records(records: Iterable[dict], size: int = RECORDS_PER_BATCH) -> Iterator[RawBatch]:
    """Group record dicts (and ``_error`` / ``_deleted`` markers) into raw batches."""
    good: list[dict] = []
    extras: list[dict] = []
    for record in records:
        if "_error" in record or record.get("_deleted"):
            extras.append(record)
            continue
        good.append(record)
        if len(good) >= size:
            yield RawBatch(raw_frame(good), extras)
            good, extras = [], []
    if good or extras:
        yield RawBatch(raw_frame(good), extras)


def ingest_records(wh: Warehouse, records: Iterable[dict], *, default_source: str, origin: str,
                   progress: bool = False) -> IngestStats:
    """Normalise, quarantine and upsert record dicts (what the OAI and Atom parsers yield)."""
    report = stderr_progress("ingest") if progress else None
    return ingest_batches(wh, batches_from_records(records), default_source=default_source, origin=origin,
                          on_batch=(lambda n: report(origin, n)) if report else None)


def stderr_progress(label: str) -> Callable[[str, int], None]:
    """A running count of records per name, one line to stderr per batch (for logs, where no bar fits)."""
    seen: dict[str, int] = {}

    def report(name: str, n: int) -> None:
        seen[name] = seen.get(name, 0) + n
        print(f"{label} {name}: {seen[name]:,} records", file=sys.stderr, flush=True)

    return report


def ingest_batches(wh: Warehouse, batches: Iterable[RawBatch], *, default_source: str, origin: str,
                   on_batch: Callable[[int], None] | None = None) -> IngestStats:
    """The ingestion loop, holding the writer lock throughout; ``on_batch(n)`` reports progress."""
    stats = IngestStats()
    deleted: list[dict] = []
    now = datetime.now(timezone.utc)
    with wh.lock():
        upsert = PapersUpsert(wh.tables)
        try:
            with Quarantine(wh.settings, origin) as quarantine:
                normalized = prefetch(_normalize_all(batches, default_source=default_source, origin=origin, now=now))
                for batch, frame, rows, rejected in normalized:
                    for extra in batch.extras:
                        if extra.get("_deleted"):
                            deleted.append({"id": str(extra.get("id")), "where": str(extra.get(WHERE, "")),
                                            "seen_at": now})
                        else:
                            quarantine.add(extra.get(WHERE, origin), extra["_error"], extra.get("_raw"))
                    if rejected.height:
                        _quarantine_rejected(quarantine, frame, rejected)
                    upsert.stage(rows)
                    n = batch.frame.height + len(batch.extras)
                    stats.read += n
                    if on_batch is not None:
                        on_batch(n)
                stats.quarantined = quarantine.count
            result = upsert.commit()
        finally:
            upsert.discard()
        stats.inserted, stats.updated, stats.unchanged = result.inserted, result.updated, result.unchanged
        stats.quarantine_file = str(quarantine.path) if quarantine.count else None
        if deleted:
            stats.deleted = _record_deletions(wh, deleted)
    return stats


def _normalize_all(batches: Iterable[RawBatch], *, default_source: str, origin: str, now: datetime
                   ) -> Iterator[tuple[RawBatch, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """``(batch, raw frame with every row's _where, papers rows, rejected)`` per batch.

    Run ahead in a thread (``prefetch``) so normalising overlaps with staging the previous batch.
    """
    for batch in batches:
        frame = batch.frame.with_columns(pl.col(WHERE).fill_null(
            pl.lit(f"{origin}#") + pl.int_range(1, batch.frame.height + 1).cast(pl.Utf8)))
        rows, rejected = normalize_batch(frame, default_source=default_source, ingested_at=now)
        yield batch, frame, rows, rejected


def _quarantine_rejected(quarantine: Quarantine, frame: pl.DataFrame, rejected: pl.DataFrame) -> None:
    raw_rows = frame.join(rejected.select(WHERE, "reason"), on=WHERE, how="inner")
    for row in raw_rows.iter_rows(named=True):
        reason = row.pop("reason")
        where = row.pop(WHERE)
        raw = {k: v for k, v in row.items() if v is not None}
        quarantine.add(where, reason, orjson.loads(orjson.dumps(raw, default=str)))


def _record_deletions(wh: Warehouse, deleted: list[dict]) -> int:
    """Keep OAI deletions in the ``deleted`` table (id, where, seen_at): first sighting per id wins."""
    new = pl.DataFrame(deleted, schema={"id": pl.Utf8, "where": pl.Utf8, "seen_at": pl.Datetime("us", "UTC")})
    if wh.has_table(DELETED_TABLE):
        old = wh.scan(DELETED_TABLE).collect()
        merged = pl.concat([old, new]).unique("id", keep="first", maintain_order=True)
        if merged.height == old.height:
            return len(deleted)
    else:
        merged = new.unique("id", keep="first", maintain_order=True)
    wh.write_table(DELETED_TABLE, merged.sort("id"))
    return len(deleted)

