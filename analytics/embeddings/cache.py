"""Vectors cached in the warehouse table ``embeddings``, so no paper is embedded twice.

Layout: ``embeddings/embedder_version=<v>/part-<n>.parquet`` with columns ``id``, ``text_hash``
(of the embedded text: a revised abstract is embedded again) and ``vector`` (list of float32, one
length per embedder; a list rather than a fixed-size array so that one scan reads all versions);
``wh.scan("embeddings")`` adds ``embedder_version`` from the folder name. Adding vectors builds a
new table version that keeps the existing part files by reference (hard links locally, manifest
entries on object storage) and adds one new file, so a daily run writes only its new rows and memory
stays bounded by what is asked for, not by the table size.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import polars as pl

from analytics.embeddings.base import Embedder
from warehouse.api import Warehouse
from warehouse.tables import TableVersion

TABLE = "embeddings"
PARTITION = "embedder_version"
CHUNK = 20_000  # texts embedded and written per part file
MAX_PARTS = 64  # more part files than this in one partition get merged into one


def text_hash(text: str) -> int:
    """64-bit fingerprint of an embedded text."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


class EmbeddingCache:
    """Aligned vectors for (paper id, text) pairs, computing and storing only the missing ones."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    @staticmethod
    def _partition_files(table: TableVersion | None, version: str) -> list[str]:
        """Relative paths of the part files of embedder ``version`` in ``table``, in order."""
        if table is None:
            return []
        prefix = f"{PARTITION}={version}/"
        return [rel for rel in table.parquet if rel.startswith(prefix) and "/" not in rel[len(prefix):]
                and rel.rsplit("/", 1)[-1].startswith("part-")]

    def lookup(self, ids: Sequence[str], hashes: Sequence[int], version: str, dim: int) -> pl.DataFrame:
        """Cached rows (``id``, ``vector``) among ``ids`` whose stored text hash still matches."""
        table = self.wh.tables.current(TABLE)
        files = self._partition_files(table, version)
        wanted = pl.LazyFrame({"id": list(ids), "text_hash": list(hashes)},
                              schema={"id": pl.String, "text_hash": pl.Int64})
        # vectors are read only from the part files holding a wanted key: at millions of papers, a batch's
        # papers sit in a few of them, and reading keys costs a fraction of reading vectors
        files = [rel for rel in files if table.scan([rel], hive=False).select("id", "text_hash")
                 .join(wanted, on=["id", "text_hash"], how="semi").head(1).collect().height]
        if not files:
            return pl.DataFrame(schema={"id": pl.String, "vector": pl.Array(pl.Float32, dim)})
        return (table.scan(files, hive=False).join(wanted, on=["id", "text_hash"], how="semi")
                .unique("id", keep="last", maintain_order=True)
                .select("id", pl.col("vector").cast(pl.Array(pl.Float32, dim))).collect())

    def cached(self, ids: Sequence[str], texts: Sequence[str],
               embedder: Embedder) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """``(vectors, found, hashes)``: the cached vectors of ``texts`` (zero rows where ``found`` is false) and each
        text's fingerprint, for ``store`` once the missing ones are embedded (elsewhere, e.g. in worker processes)."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        hashes = [text_hash(t) for t in texts]
        out = np.zeros((len(ids), embedder.dim), dtype=np.float32)
        found = np.zeros(len(ids), dtype=bool)
        cached = self.lookup(ids, hashes, embedder.version, embedder.dim)
        if cached.height:
            row_of = dict(zip(cached["id"].to_list(), range(cached.height)))
            rows = np.fromiter((row_of.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
            found = rows >= 0
            out[found] = cached["vector"].to_numpy()[rows[found]]
        return out, found, hashes

    def store(self, version: str, ids: Sequence[str], hashes: Sequence[int], vectors: np.ndarray) -> None:
        """Add the vectors of ``ids`` (embedded from texts with ``hashes``) to the cache of embedder ``version``."""
        if len(ids):
            self._append(version, pl.DataFrame({"id": list(ids), "text_hash": pl.Series(list(hashes), dtype=pl.Int64),
                                                "vector": pl.Series(np.asarray(vectors)).cast(pl.List(pl.Float32))}))

    def embed(self, ids: Sequence[str], texts: Sequence[str], embedder: Embedder,
              progress: bool = False, store: bool = True) -> np.ndarray:
        """Vectors of ``texts`` (row i belongs to ``ids[i]``), embedding only what the cache lacks (and adding it to
        the cache unless ``store`` is false)."""
        out, found, hashes = self.cached(ids, texts, embedder)
        todo = np.flatnonzero(~found)
        first: dict[str, int] = {}
        for i in todo:  # a repeated id is embedded once
            first.setdefault(ids[i], i)
        unique = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        bars = progress and sys.stderr.isatty()  # in a log, one line per chunk instead of a bar per chunk
        started = time.perf_counter()
        for start in range(0, len(unique), CHUNK):
            part = unique[start:start + CHUNK]
            vectors = embedder.encode([texts[i] for i in part], progress=bars)
            out[part] = vectors
            if progress and not bars:
                done = start + len(part)
                print(f"embed ({embedder.name}): {done:,} / {len(unique):,} papers "
                      f"({done / max(time.perf_counter() - started, 1e-9):,.0f}/s)", file=sys.stderr, flush=True)
            if store:
                self.store(embedder.version, [ids[i] for i in part], [hashes[i] for i in part], vectors)
        if len(unique) < len(todo):
            index = {ids[i]: i for i in unique}
            rest = np.array([i for i in todo if index[ids[i]] != i], dtype=np.int64)
            out[rest] = out[[index[ids[i]] for i in rest]]
        return out

    def _append(self, version: str, rows: pl.DataFrame) -> None:
        """New table version = the old part files (kept by reference) + one file with ``rows``."""
        with self.wh.tables.new_version(TABLE) as build:
            old = build.base
            mine = self._partition_files(old, version)
            for rel in (old.parquet if old is not None else []):
                if rel not in mine:
                    build.reuse(rel)
            target = build.folder / f"{PARTITION}={version}"
            target.mkdir(exist_ok=True)
            number = 1 + max((int(rel.rsplit("-", 1)[1].split(".")[0]) for rel in mine), default=-1)
            rows.write_parquet(target / f"part-{number:06d}.parquet", compression="zstd")
            if len(mine) + 1 > MAX_PARTS:
                self._compact(old, mine, target)
            else:
                for rel in mine:
                    build.reuse(rel)

    @staticmethod
    def _compact(old: TableVersion, mine: list[str], target: Path) -> None:
        """Merge a partition's part files (the old ones, then the new one in ``target``) into one, streaming
        (bounded memory): old files on object storage are first copied to the local staging folder."""
        new = sorted(target.glob("part-*.parquet"))
        if old.folder is not None:
            olds = [Path(old.files[rel]) for rel in mine]
        else:
            fetched = target / ".fetched"
            fetched.mkdir()
            olds = []
            for i, rel in enumerate(mine):
                olds.append(fetched / f"{i:06d}.parquet")
                old.scan([rel], hive=False).sink_parquet(olds[-1])
        merged = target / "merged.tmp"
        pl.scan_parquet(olds + new).sink_parquet(merged, compression="zstd")
        for p in new:
            p.unlink()
        if old.folder is None:
            shutil.rmtree(target / ".fetched")
        merged.rename(target / "part-000000.parquet")
