"""The read/write API over the data root: ``open_warehouse(home)`` for notebooks, the CLI and the flows.

The readers that return data (``read``, ``papers``, ``topic_monthly()``, ...) turn a damaged table file into
``TableDamaged``, one line naming the file and pointing at ``arxiv-trends verify`` / ``repair``, whether the
damage shows before reading (a missing or resized file) or only while decoding (changed bytes).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import polars as pl

from warehouse.integrity import VerifyReport, diagnose, verify_tables
from warehouse.errors import TableDamaged
from warehouse.settings import Settings
from warehouse.tables import open_lock, open_store

if TYPE_CHECKING:  # pandas loads when a frame is first converted, not with the CLI
    import pandas as pd

DateLike = str | date | datetime


def _as_utc(value: DateLike) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Warehouse:
    """Tables under one data root, as pandas DataFrames or polars LazyFrames."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = open_lock(settings)
        self.tables = open_store(settings, self._lock)  # symlink versions locally, manifests behind a URL

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the one-writer lock; a second writer gets ``WarehouseLocked`` after ``wait`` seconds."""
        with self._lock(wait):
            yield

    def write_table(self, name: str, data: pl.DataFrame | pl.LazyFrame, partition_by: str | None = None) -> None:
        """Replace table ``name`` atomically (write a new version, then swap)."""
        self.tables.write(name, data, partition_by=partition_by)

    # -- generic reading -----------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        return self.tables.exists(name)

    def scan(self, name: str) -> pl.LazyFrame:
        """Lazy scan of table ``name`` (``FileNotFoundError`` if it was never written)."""
        return self.tables.scan(name)

    def files(self, name: str) -> list[str]:
        """The Parquet files of the current version of ``name`` (local paths, or URLs on object storage)."""
        return self.tables.files(name)

    def read(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        lf = self.scan(name)
        if columns is not None:
            lf = lf.select(list(columns))
        return self.collect(lf, [name]).to_pandas()

    def collect(self, lf: pl.LazyFrame, tables: Sequence[str]) -> pl.DataFrame:
        """``lf.collect()``; a failure that damage in ``tables`` explains becomes ``TableDamaged``."""
        try:
            return lf.collect()
        except TableDamaged:
            raise
        except Exception:
            found = self.diagnose(tables, found_by="read")
            if found is not None:
                raise found from None
            raise

    # -- integrity -----------------------------------------------------------------------------
    def verify(self, tables: Sequence[str] | None = None) -> VerifyReport:
        """Read every file of the current versions (of ``tables``, default all) against its checksum."""
        return verify_tables(self.tables, tables)

    def diagnose(self, tables: Sequence[str] | None = None, found_by: str = "a command") -> TableDamaged | None:
        """After a failure: the damage in ``tables`` (default all) as a ``TableDamaged``, or None if intact."""
        return diagnose(self.tables, self.settings, tables, found_by)

    # -- papers --------------------------------------------------------------------------------
    def scan_papers(self) -> pl.LazyFrame:
        """All papers, lazily (polars); filter and select before ``collect`` to read only what you need."""
        return self.scan("papers")

    def papers(
        self,
        since: DateLike | None = None,
        until: DateLike | None = None,
        categories: Iterable[str] | None = None,
        topics: Iterable[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Papers submitted in ``[since, until)`` having any of ``categories`` / any of ``topics``."""
        lf = self.scan_papers()
        if since is not None:
            lf = lf.filter(pl.col("submitted") >= _as_utc(since))
        if until is not None:
            lf = lf.filter(pl.col("submitted") < _as_utc(until))
        if categories is not None:
            wanted = list(categories)
            lf = lf.filter(pl.col("categories").list.eval(pl.element().is_in(wanted)).list.any())
        tables = ["papers"]
        if topics is not None:
            ids = self.scan("classifications").filter(pl.col("topic").is_in(list(topics))).select("id").unique()
            lf = lf.join(ids, on="id", how="semi")
            tables.append("classifications")
        if columns is not None:
            lf = lf.select(list(columns))
        return self.collect(lf, tables).to_pandas()

    # -- derived tables ------------------------------------------------------------------------
    def classifications(self) -> pd.DataFrame:
        return self.read("classifications")

    def subtopics(self) -> pd.DataFrame:
        return self.read("subtopics")

    def paper_subtopics(self) -> pd.DataFrame:
        return self.read("paper_subtopics")

    def topic_monthly(self) -> pd.DataFrame:
        return self.read("metrics/topic_monthly")

    def topic_yearly(self) -> pd.DataFrame:
        return self.read("metrics/topic_yearly")

    def subtopic_monthly(self) -> pd.DataFrame:
        return self.read("metrics/subtopic_monthly")

    def emerging_subtopics(self) -> pd.DataFrame:
        return self.read("metrics/emerging_subtopics")

    def topic_cooccurrence(self) -> pd.DataFrame:
        return self.read("metrics/topic_cooccurrence")

    def topic_categories(self) -> pd.DataFrame:
        return self.read("metrics/topic_categories")

    def coverage_monthly(self) -> pd.DataFrame:
        return self.read("metrics/coverage_monthly")


def open_warehouse(home: str | os.PathLike | None = None) -> Warehouse:
    """Open the warehouse under ``home`` (default ``$ARXIV_TRENDS_HOME``, else ``./data``).

    ``home`` may be a URL that fsspec knows (``s3://bucket/prefix``, ``gs://...``, ``memory://x``,
    ``file:///abs/path``): the tables are then read from and written to ``<home>/warehouse/``.
    """
    return Warehouse(Settings.from_home(home))
