"""Atomic, versioned Parquet tables and the one-writer lock.

A table ``name`` is read at ``<warehouse>/<name>/``, which is a symlink to an immutable version folder
``<warehouse>/.versions/<name>/<n>/``. A write fills a fresh version folder, then swaps the symlink with
``os.replace`` (atomic on POSIX). Readers therefore see the old or the new table, never a mixture, and a
writer killed half-way leaves the previous version in place (its unfinished folder is cleaned up later).
Unchanged files can be hard-linked into the new version, so a small change does not copy a big table.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import polars as pl

from warehouse.errors import WarehouseLocked
from warehouse.settings import Settings

VERSIONS_DIR = ".versions"
KEEP_VERSIONS = 2  # the current version and the one before it (for readers still open on it)


class Abandon(Exception):
    """Raised inside ``TableStore.new_version`` when there turned out to be nothing to change."""


class WriterLock:
    """Re-entrant, process-exclusive lock on the warehouse (``state/warehouse.lock``, ``flock``)."""

    def __init__(self, settings: Settings):
        self._path = settings.state_dir / "warehouse.lock"
        self._fh = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._depth > 0

    def _holder(self) -> str:
        try:
            info = json.loads(self._path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return "another process"
        return (f"pid {info.get('pid', '?')} on {info.get('host', '?')} "
                f"({info.get('command', '?')}, since {info.get('since', '?')})")

    def acquire(self, wait: float = 0.0) -> None:
        if self._depth:
            self._depth += 1
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self._path, "a+", encoding="utf-8")
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise WarehouseLocked(
                        f"the warehouse at {self._path.parent.parent} is being written by {self._holder()}; "
                        "wait for it to finish (or pass a longer wait) and run again"
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(),
            "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200],
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }))
        fh.flush()
        self._fh = fh
        self._depth = 1

    def release(self) -> None:
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._fh is not None:
            self._fh.truncate(0)
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    @contextmanager
    def __call__(self, wait: float = 0.0) -> Iterator[None]:
        self.acquire(wait)
        try:
            yield
        finally:
            self.release()


class TableStore:
    """Creates, swaps and prunes the version folders of the warehouse tables."""

    def __init__(self, settings: Settings, lock: WriterLock):
        self.settings = settings
        self.lock = lock
        self.root = settings.warehouse_dir

    def path(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def current_version_dir(self, name: str) -> Path | None:
        link = self.path(name)
        return link.resolve() if link.exists() else None

    @contextmanager
    def new_version(self, name: str) -> Iterator[Path]:
        """Yield an empty folder to fill; on success it becomes the table's current version.

        If the body raises (or the process dies) the table is untouched.
        """
        with self.lock():
            versions = self.root / VERSIONS_DIR / name
            versions.mkdir(parents=True, exist_ok=True)
            self._sweep_unfinished(versions)
            numbers = [int(p.name) for p in versions.iterdir() if p.name.isdigit()]
            number = max(numbers, default=0) + 1
            staging = versions / f".{number}.inprogress"
            staging.mkdir()
            try:
                try:
                    yield staging
                except Abandon:
                    shutil.rmtree(staging, ignore_errors=True)
                    return
                os.sync()  # the new files are durable before they become visible (one call, not one per file)
                final = versions / f"{number:06d}"
                os.rename(staging, final)
                self._swap_link(name, final)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            self._prune(versions, keep=final)

    def _swap_link(self, name: str, target: Path) -> None:
        link = self.path(name)
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() and not link.is_symlink():
            raise RuntimeError(f"{link} is a real folder, not a table link; refusing to replace it")
        tmp_link = link.parent / f".{link.name}.link-{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        os.symlink(os.path.relpath(target, link.parent), tmp_link)
        os.replace(tmp_link, link)
        _fsync_dir(link.parent)

    @staticmethod
    def _sweep_unfinished(versions: Path) -> None:
        for p in versions.glob(".*.inprogress"):
            shutil.rmtree(p, ignore_errors=True)

    @staticmethod
    def _prune(versions: Path, keep: Path) -> None:
        done = sorted((p for p in versions.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        for old in done[:-KEEP_VERSIONS]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)

    def write(self, name: str, data: pl.DataFrame | pl.LazyFrame, partition_by: str | None = None) -> Path:
        """Replace table ``name`` with ``data`` atomically; returns the new version folder."""
        frame = data.collect() if isinstance(data, pl.LazyFrame) else data
        with self.new_version(name) as folder:
            if partition_by is None:
                frame.write_parquet(folder / "part-0.parquet", compression="zstd", statistics=True)
            else:
                for key, part in frame.group_by(partition_by, maintain_order=True):
                    value = key[0]
                    sub = folder / f"{partition_by}={value}"
                    sub.mkdir()
                    part.drop(partition_by).write_parquet(sub / "part-0.parquet", compression="zstd")
            return folder

    def scan(self, name: str) -> pl.LazyFrame:
        folder = self.current_version_dir(name)
        if folder is None:
            raise FileNotFoundError(f"table {name!r} does not exist yet under {self.root}")
        files = sorted(folder.rglob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"table {name!r} is empty ({folder})")
        hive = any("=" in p.parent.name for p in files)
        return pl.scan_parquet(files, hive_partitioning=hive)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
