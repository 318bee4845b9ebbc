"""The ``papers`` upsert: one row per arXiv id, newer version wins, idempotent, atomic, bounded memory.

Incoming rows are first spilled to Arrow files per id bucket (the last three digits of the id modulo
``BUCKETS``, stable across runs), so memory does not depend on the input size. Each bucket is then merged
with the rows already stored for it: the winner per id is the highest ``version``, then the latest
``updated``; on a full tie the stored row stays (so re-importing the same input changes nothing). Only the
``year=Y/bucket-BB.parquet`` files that actually change are rewritten; the others are kept by reference
(``VersionBuilder.reuse``: hard-linked locally, listed again in the manifest on object storage) in the new
table version, which then replaces the old one atomically.
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from warehouse.records import PAPERS_SCHEMA
from warehouse.tables import Abandon, BaseTableStore, TableVersion

TABLE = "papers"
BUCKETS = 16
MERGE_THREADS = 4  # buckets merged at once, at most (memory: one bucket each)
_FILE_RE = re.compile(r"year=(-?\d+)/bucket-(\d+)\.parquet$")
_KEYS = ["id", "version", "updated", "year"]


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def bucket_expr() -> pl.Expr:
    return pl.col("id").str.slice(-3).cast(pl.Int32, strict=False).fill_null(0) % BUCKETS


def _best_first(frame: pl.DataFrame | pl.LazyFrame, tie: str, tie_descending: bool):
    """Sort so that the winning row of each id comes first."""
    return frame.sort(["id", "version", "updated", tie], descending=[False, True, True, tie_descending],
                      nulls_last=[False, True, True, False])


class PapersUpsert:
    """Stage rows with ``stage`` while streaming, then ``commit`` them as one new table version."""

    def __init__(self, store: BaseTableStore):
        self.store = store
        self._staging = store.staging_dir / f"papers-{os.getpid()}"
        shutil.rmtree(self._staging, ignore_errors=True)
        self._staging.mkdir(parents=True)
        self._seq = 0
        self.staged_rows = 0

    def stage(self, rows: pl.DataFrame) -> None:
        if rows.is_empty():
            return
        rows = rows.with_columns(bucket_expr().alias("_bucket"),
                                 (pl.int_range(0, rows.height) + self.staged_rows).alias("_seq"))
        for (bucket,), part in rows.group_by("_bucket"):
            folder = self._staging / f"{bucket:02d}"
            folder.mkdir(exist_ok=True)
            part.drop("_bucket").write_ipc(folder / f"{self._seq:06d}.arrow", compression="uncompressed")
        self._seq += 1
        self.staged_rows += rows.height

    def discard(self) -> None:
        shutil.rmtree(self._staging, ignore_errors=True)

    def commit(self) -> UpsertResult:
        result = UpsertResult()
        try:
            with self.store.new_version(TABLE) as version:
                current = version.base
                old_files = _index(current) if current else {}
                written: set[str] = set()
                # buckets are independent: merge as many at once as there are cores (polars releases the GIL;
                # writing a bucket's Parquet files is most of the work and runs on one core)
                with ThreadPoolExecutor(max_workers=min(MERGE_THREADS, os.cpu_count() or 1)) as pool:
                    merged = pool.map(lambda folder: self._merge_bucket(int(folder.name), folder, current, old_files,
                                                                        version.folder),
                                      sorted(self._staging.iterdir()))
                    for counts, files in merged:
                        written |= files
                        result.inserted += counts.inserted
                        result.updated += counts.updated
                        result.unchanged += counts.unchanged
                if result.inserted == 0 and result.updated == 0:
                    raise Abandon
                for rel in old_files.values():
                    if rel not in written:  # unchanged: kept by reference, not copied
                        version.reuse(rel)
        finally:
            self.discard()
        return result

    def _merge_bucket(self, bucket: int, staged: Path, current: TableVersion | None,
                      old_files: dict[tuple[int, int], str], folder: Path) -> tuple[UpsertResult, set[str]]:
        """Merge one bucket; returns its counts and the relative paths it rewrote (or emptied) in the new version.

        Winners are decided on the key columns only; the full rows (mostly abstract text) are gathered once,
        already in the order of the file they go to."""
        result = UpsertResult()
        new = pl.read_ipc(sorted(staged.glob("*.arrow")))
        keys = _best_first(new.select(*_KEYS, "_seq").with_row_index("_row"), "_seq", True).unique(
            "id", keep="first", maintain_order=True)
        mine = {year: rel for (year, b), rel in old_files.items() if b == bucket}
        if mine:
            old_keys = pl.concat([
                current.scan([rel], hive=False).select(_KEYS[:-1]).with_columns(pl.lit(year, pl.Int32).alias("year"))
                for year, rel in mine.items()
            ]).collect()
        else:
            old_keys = pl.DataFrame(schema={"id": pl.Utf8, "version": pl.Int32, "updated": PAPERS_SCHEMA["updated"],
                                            "year": pl.Int32})
        candidates = pl.concat([
            old_keys.with_columns(pl.lit(False).alias("_new")),
            keys.select(_KEYS).with_columns(pl.lit(True).alias("_new")),
        ])
        best = _best_first(candidates, "_new", False).unique("id", keep="first", maintain_order=True)
        winners = best.filter(pl.col("_new")).select("id")
        if winners.is_empty():
            result.unchanged += keys.height
            return result, set()
        replaced = old_keys.join(winners, on="id", how="semi")
        result.updated += replaced.height
        result.inserted += winners.height - replaced.height
        result.unchanged += keys.height - winners.height
        incoming = keys.join(winners, on="id", how="semi").select("id", "year", "_row").sort("id")
        years = set(incoming["year"].unique().to_list()) | set(replaced["year"].unique().to_list())
        written = set()
        for year in sorted(years):
            rows = new[incoming.filter(pl.col("year") == year)["_row"]].drop("_seq", "year")
            rel = mine.get(year)
            if rel is not None:
                kept = current.scan([rel], hive=False).collect().join(winners, on="id", how="anti")
                rows = pl.concat([kept, rows], how="vertical").sort("id")
            out_rel = f"year={year}/bucket-{bucket:02d}.parquet"
            written.add(out_rel)  # an emptied file is written nowhere: the new version drops it
            target = folder / out_rel
            if rows.height:
                target.parent.mkdir(parents=True, exist_ok=True)
                rows.write_parquet(target, compression="zstd", compression_level=1, statistics=True)
        return result, written


def _index(version: TableVersion) -> dict[tuple[int, int], str]:
    """``(year, bucket) -> relative path`` of the files of a papers version."""
    out = {}
    for rel in version.parquet:
        match = _FILE_RE.search(rel)
        if match:
            out[(int(match.group(1)), int(match.group(2)))] = rel
    return out
