"""Atomic, versioned Parquet tables and the one-writer lock.

Two table stores implement one interface (``BaseTableStore``), chosen by the data root:

- ``TableStore`` (a local data root): table ``name`` is read at ``<warehouse>/<name>/``, a symlink to an
  immutable version folder ``<warehouse>/.versions/<name>/<n>/``. A write fills a fresh version folder,
  then swaps the symlink with ``os.replace`` (atomic on POSIX). Unchanged files are hard-linked into the
  new version, so a small change does not copy a big table.
- ``ManifestTableStore`` (a URL data root, ``warehouse.manifest_store``): object storage has no symlinks,
  renames or hard links, so each table has a manifest object listing its files; a write uploads the new
  files, then replaces the manifest (one PUT). Unchanged files are referenced from earlier versions.

Either way readers see the old or the new table, never a mixture, and a writer killed half-way leaves
the previous version in place (its unfinished files are cleaned up later). Writers use
``new_version(name)``, which yields a ``VersionBuilder``: new files go into ``builder.folder`` (a local
folder), unchanged files of the current version are kept with ``builder.reuse(rel_path)``, and
``builder.base`` is the current version (``TableVersion``) to read old files from.

Every file of a version has a checksum recorded when it is written (``FileSum``: size, blake2b-128, rows):
locally in ``.versions/<name>/<n>.checksums.json`` beside the version folder, on object storage in the
manifest. ``check`` compares a version's files with them (size, digest, Parquet footer). Every scan of a local
table first ``stat``s the files it reads (missing, another size) and reads a file modified since it was written
against its digest, so a truncated, emptied, replaced, deleted or altered file is a ``TableDamaged`` error
naming it, never a decoder's error or a wrong result.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable, Iterable, Iterator

import polars as pl

from warehouse.errors import ArxivTrendsError, TableDamaged, WarehouseLocked
from warehouse.settings import Settings
from warehouse.stopping import commit_section

VERSIONS_DIR = ".versions"
KEEP_VERSIONS = 2  # the current version and the one before it (for readers still open on it)
# Beside each local version folder <n>/: <n>.checksums.json = {"format", "table", "version", "files": {rel: FileSum}}
# (beside, not inside: polars refuses a table folder that holds anything but Parquet files)
CHECKSUMS_SUFFIX = ".checksums.json"
SUM_THREADS = 4  # files of a new version hashed at once
PARQUET_MAGIC = b"PAR1"

# {"bytes": int, "blake2b": 32 hex digits (blake2b-128), "rows": int | None, "mtime_ns": int (local files only)}
FileSum = dict[str, Any]
_UNCHANGED: set[tuple[str, int, int]] = set()  # (path, size, mtime) of files this process hashed and found intact


class IncompleteWrite(ArxivTrendsError):
    """A new table file is not a whole Parquet file (a writer that did not report a failed write)."""


class Abandon(Exception):
    """Raised inside ``TableStore.new_version`` when there turned out to be nothing to change."""


def update_with_file(digest, path: str | Path) -> None:
    """Feed a file's bytes into a hashlib ``digest``, a megabyte at a time."""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)


def file_sum(path: str | Path) -> FileSum:
    """Size, blake2b-128 digest, row count and modification time of a table file, recorded when it is written."""
    digest = hashlib.blake2b(digest_size=16)
    update_with_file(digest, path)
    try:
        import pyarrow.parquet as pq

        rows = pq.read_metadata(path).num_rows
    except Exception:  # not a Parquet file: recorded without a row count
        rows = None
    stat = os.stat(path)
    return {"bytes": stat.st_size, "blake2b": digest.hexdigest(), "rows": rows, "mtime_ns": stat.st_mtime_ns}


def footer_problem(fh: IO[bytes], size: int) -> str | None:
    """What is wrong with the Parquet framing of an open file (magic bytes, footer), or None."""
    if size < 12:
        return f"is {size} bytes, too short for a Parquet file"
    fh.seek(0)
    head = fh.read(4)
    fh.seek(size - 8)
    tail = fh.read(8)
    if head != PARQUET_MAGIC or tail[4:] != PARQUET_MAGIC:
        return "is not a Parquet file any more (no PAR1 magic at its start or end)"
    if int.from_bytes(tail[:4], "little") + 12 > size:
        return "has a Parquet footer longer than the file"
    import pyarrow.parquet as pq

    fh.seek(0)
    try:
        pq.read_metadata(fh)
    except Exception as exc:  # pyarrow's many error types for a bad thrift footer
        return f"has an unreadable Parquet footer ({str(exc).splitlines()[0][:120]})"
    return None


@dataclass(frozen=True)
class Damage:
    """One thing wrong with a table: a file (``file``, table-relative) or the whole current version."""

    table: str
    problem: str                 # what is wrong, as the rest of a sentence ("is missing", ...)
    file: str | None = None
    version: int | None = None
    location: str | None = None  # where the file is (path or URL)
    kind: str = "file"           # "file": a data file is missing or changed; "stray": a file that does not
                                 # belong; "version": the version as a whole (gone, unreadable record)

    def describe(self) -> str:
        what = f"file {self.file}" if self.file and self.kind != "version" else "its current version"
        at = f" ({self.location})" if self.location else ""
        return f"table {self.table!r} is damaged: {what}{at} {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def command_line() -> str:
    """This process's command, short (for lock holders)."""
    return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class WriterLock:
    """Re-entrant, process-exclusive lock on the warehouse (``state/warehouse.lock``, ``flock``)."""

    def __init__(self, settings: Settings):
        self._path = settings.state_dir / "warehouse.lock"
        self._where = settings.location
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
                        f"the warehouse at {self._where} is being written by {self._holder()}; "
                        "wait for it to finish (or pass a longer wait) and run again"
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command_line(),
                             "since": utc_now_iso()}))
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

    def confirm(self) -> None:
        """Check, right before a commit, that the lock is still ours (only a remote lease can be lost)."""

    @contextmanager
    def __call__(self, wait: float = 0.0) -> Iterator[None]:
        self.acquire(wait)
        try:
            yield
        finally:
            self.release()


def path_order(rel: str) -> PurePosixPath:
    """Sort key of table-relative paths: the order of ``sorted(folder.rglob(...))`` on Python 3.11."""
    return PurePosixPath(rel)


def has_hive_folder(rel: str) -> bool:
    """Whether the file sits in a ``key=value`` folder (what turns Hive partitioning on)."""
    parts = rel.split("/")
    return len(parts) > 1 and "=" in parts[-2]


class TableVersion:
    """One committed version of a table, pinned: later commits do not change what it lists.

    ``files`` maps each table-relative path (``year=2020/bucket-03.parquet``) to where a reader finds it
    (a local path, or a path on the store's filesystem); ``stamp`` identifies the version.
    """

    def __init__(self, name: str, number: int, files: dict[str, str], stamp: str,
                 reader: Callable[["TableVersion", list[str], bool], pl.LazyFrame], folder: Path | None = None,
                 sums: dict[str, FileSum] | None = None,
                 precheck: Callable[["TableVersion", list[str]], None] | None = None):
        self.name = name
        self.number = number
        self.files = {rel: files[rel] for rel in sorted(files, key=path_order)}
        self.stamp = stamp
        self.folder = folder  # the version folder of a local table; None on object storage
        self.sums = sums  # FileSum per file as recorded when written; None for a version written before checksums
        self._reader = reader
        self._precheck = precheck

    @property
    def parquet(self) -> list[str]:
        """Table-relative paths of the Parquet files, in scan order."""
        return [rel for rel in self.files if rel.endswith(".parquet")]

    def scan(self, rels: Iterable[str] | None = None, hive: bool | None = None) -> pl.LazyFrame:
        """Lazy scan of all Parquet files (or of ``rels``); Hive columns from ``key=value`` folders."""
        chosen = self.parquet if rels is None else list(rels)
        if not chosen:
            raise FileNotFoundError(f"table {self.name!r} is empty (version {self.number})")
        unknown = [rel for rel in chosen if rel not in self.files]
        if unknown:
            raise FileNotFoundError(f"table {self.name!r} version {self.number} has no file {unknown[0]!r}")
        if hive is None:
            hive = any(has_hive_folder(rel) for rel in chosen)
        if self._precheck is not None:
            self._precheck(self, chosen)
        return self._reader(self, chosen, hive)


class VersionBuilder:
    """A table version being built: new files go into ``folder``; ``reuse`` keeps a file of ``base``.

    ``base`` (the current version) is looked up when first used, so a writer that replaces a damaged table
    without reading it (``write``) is not stopped by the damage.
    """

    def __init__(self, name: str, folder: Path, base: TableVersion | None | Callable[[], TableVersion | None]):
        self.name = name
        self.folder = folder
        self._base = base
        self.reused: dict[str, TableVersion] = {}  # table-relative path -> the version it is kept from

    @property
    def base(self) -> TableVersion | None:
        if callable(self._base):
            self._base = self._base()
        return self._base

    def reuse(self, rel: str, source: TableVersion | None = None) -> None:
        """Keep file ``rel`` of ``source`` (default: the current version) in the new version, uncopied."""
        raise NotImplementedError

    def _source(self, rel: str, source: TableVersion | None) -> TableVersion:
        source = source if source is not None else self.base
        if source is None or rel not in source.files:
            raise FileNotFoundError(f"table {self.name!r} has no current file {rel!r} to reuse")
        self.reused[rel] = source
        return source

    def sums(self) -> dict[str, FileSum]:
        """The checksum of every file of the new version: a reused file keeps the one it was written with, a
        new file (or a reused one written before checksums) is hashed now."""
        out = {rel: source.sums[rel] for rel, source in self.reused.items() if (source.sums or {}).get(rel)}
        todo = [(path.relative_to(self.folder).as_posix(), path) for path in sorted(self.folder.rglob("*"))]
        todo = [(rel, path) for rel, path in todo if path.is_file() and rel not in out]
        # hashed on every core (hashlib releases the GIL): a 3M-paper backfill writes 1.6 GB of papers files
        with ThreadPoolExecutor(max_workers=max(1, min(SUM_THREADS, os.cpu_count() or 1))) as pool:
            for (rel, _path), checked in zip(todo, pool.map(lambda item: file_sum(item[1]), todo)):
                out[rel] = checked
                if rel.endswith(".parquet") and checked["rows"] is None and rel not in self.reused:
                    raise IncompleteWrite(f"table {self.name!r}: {rel} was not written completely (its Parquet "
                                          "footer cannot be read; is the disk full?); nothing was committed")
        return out

    # A builder also behaves like its folder (``builder / "x.parquet"``), as the folder yielded before.
    def __fspath__(self) -> str:
        return os.fspath(self.folder)

    def __truediv__(self, other: str | os.PathLike) -> Path:
        return self.folder / other


class BaseTableStore:
    """What the warehouse's readers and writers need from a table store (local or object storage)."""

    settings: Settings
    lock: WriterLock
    location: str  # where the tables live, for messages
    staging_dir: Path  # a local folder for files being prepared

    def current(self, name: str) -> TableVersion | None:
        """The current version of table ``name``; None if it was never written."""
        raise NotImplementedError

    def names(self) -> list[str]:
        """Names of every table, sorted."""
        raise NotImplementedError

    def new_version(self, name: str):
        """Context manager yielding a ``VersionBuilder``; on success it becomes the current version.

        If the body raises (or the process dies) the table is untouched; ``Abandon`` drops the version quietly.
        """
        raise NotImplementedError

    def content_id(self, name: str) -> str | None:
        """A digest of the table's Parquet files (names and contents); None when it does not exist."""
        version = self.current(name)
        if version is None:
            return None
        digest = hashlib.blake2b(digest_size=16)
        for rel in version.parquet:
            digest.update(rel.encode())
            self._digest_contents(digest, version, rel)
        return digest.hexdigest()

    def _digest_contents(self, digest, version: TableVersion, rel: str) -> None:
        """Feed what stands for the contents of file ``rel`` into ``digest``."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        return self.current(name) is not None

    def files(self, name: str) -> list[str]:
        """Where the current Parquet files of ``name`` are (local paths, or URLs on object storage)."""
        version = self.current(name)
        return [] if version is None else [self.url_of(version.files[rel]) for rel in version.parquet]

    def url_of(self, location: str) -> str:
        return location

    def version_id(self, name: str) -> str | None:
        """What identifies the current version (changes with every commit); None when absent."""
        version = self.current(name)
        return None if version is None else version.stamp

    def scan(self, name: str) -> pl.LazyFrame:
        version = self.current(name)
        if version is None:
            raise FileNotFoundError(f"table {name!r} does not exist yet under {self.location}")
        return version.scan()

    # -- integrity -----------------------------------------------------------------------------
    def versions(self, name: str) -> list[TableVersion]:
        """The versions of ``name`` still stored, newest first (the current one among them)."""
        raise NotImplementedError

    def check(self, version: TableVersion, deep: bool = True) -> list[Damage]:
        """What is wrong with the files of ``version``: missing, another size than recorded, and with ``deep``
        a digest that differs from the recorded one or a bad Parquet footer (the whole file is read)."""
        out = []
        for rel, location in version.files.items():
            mode = "full" if deep and rel.endswith(".parquet") else "size"
            problem = self._check_file(location, (version.sums or {}).get(rel), mode)
            if problem:
                out.append(Damage(version.name, problem, rel, version.number, self.url_of(location)))
        out.extend(self._strays(version))
        return out

    def _check_file(self, location: str, expected: FileSum | None, mode: str) -> str | None:
        """``mode``: "size" (there, with its recorded size), "changed" (also its digest, if it was modified since
        it was written: another mtime), "full" (digest and Parquet footer, always)."""
        found = self._stat(location)
        if found is None:
            return "is missing"
        size, mtime = found
        expected = expected or {}
        if expected.get("bytes") is not None and size != expected["bytes"]:
            return f"is {size:,} bytes, {expected['bytes']:,} when written (truncated or replaced)"
        if mode == "size" or (mode == "changed" and (expected.get("mtime_ns") in (None, mtime)
                                                   or (location, size, mtime) in _UNCHANGED)):
            return None
        with self._open(location) as fh:
            if expected.get("blake2b"):
                digest = hashlib.blake2b(digest_size=16)
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
                if digest.hexdigest() != expected["blake2b"]:
                    return "does not match its checksum (its bytes changed after it was written)"
                if mode == "changed":
                    _UNCHANGED.add((location, size, mtime))
                    return None
            return footer_problem(fh, size)

    def _stat(self, location: str) -> tuple[int, int | None] | None:
        """``(size, mtime in ns or None)`` of a stored file; None when it is not there."""
        raise NotImplementedError

    def _open(self, location: str) -> IO[bytes]:
        raise NotImplementedError

    def _strays(self, version: TableVersion) -> list[Damage]:
        """Files found in a version that were not written with it."""
        return []

    def export(self, location: str, target: Path) -> None:
        """Copy a stored file to a local path (to keep a damaged file for inspection)."""
        raise NotImplementedError

    def retire(self, name: str) -> None:
        """Make table ``name`` absent (its versions stay stored until the next writes prune them)."""
        raise NotImplementedError

    def write(self, name: str, data: pl.DataFrame | pl.LazyFrame, partition_by: str | None = None) -> None:
        """Replace table ``name`` with ``data`` atomically."""
        frame = data.collect() if isinstance(data, pl.LazyFrame) else data
        with self.new_version(name) as version:
            folder = version.folder
            if partition_by is None:
                frame.write_parquet(folder / "part-0.parquet", compression="zstd", statistics=True)
            else:
                for key, part in frame.group_by(partition_by, maintain_order=True):
                    value = key[0]
                    sub = folder / f"{partition_by}={value}"
                    sub.mkdir()
                    part.drop(partition_by).write_parquet(sub / "part-0.parquet", compression="zstd")


def _scan_local(version: TableVersion, rels: list[str], hive: bool) -> pl.LazyFrame:
    return pl.scan_parquet([Path(version.files[rel]) for rel in rels], hive_partitioning=hive)


class _LocalBuilder(VersionBuilder):
    def reuse(self, rel: str, source: TableVersion | None = None) -> None:
        """Hard-link file ``rel`` of ``source`` (default: the current version) into the new version."""
        source = self._source(rel, source)
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source.files[rel], target)


class TableStore(BaseTableStore):
    """Creates, swaps and prunes the version folders of the tables of a local data root."""

    def __init__(self, settings: Settings, lock: WriterLock):
        self.settings = settings
        self.lock = lock
        self.root = settings.warehouse_dir
        self.location = str(self.root)
        self.staging_dir = self.root / ".staging"

    def path(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        link = self.path(name)
        return link.exists() or link.is_symlink()  # a link to a vanished version is a damaged table, not none

    def current_version_dir(self, name: str) -> Path | None:
        link = self.path(name)
        if link.exists():
            return link.resolve()
        if link.is_symlink():
            target = os.readlink(link)
            number = os.path.basename(target)
            raise TableDamaged([Damage(name, f"is gone: its link points to {target}, which is missing",
                                       version=int(number) if number.isdigit() else None, location=str(link),
                                       kind="version")])
        return None

    def current(self, name: str) -> TableVersion | None:
        folder = self.current_version_dir(name)
        if folder is None:
            return None
        try:
            return self._version(name, folder)
        except FileNotFoundError:  # pruned between resolve and listing: a newer version is current
            return self.current(name)

    def _version(self, name: str, folder: Path) -> TableVersion:
        stamp = f"{folder.name}@{folder.stat().st_mtime_ns}"
        sums = self._read_sums(name, folder)
        if sums is None:  # written before checksums: the files are whatever the folder holds
            files = {p.relative_to(folder).as_posix(): str(p) for p in folder.rglob("*") if p.is_file()}
        else:  # the files written with it, present or not: a missing one is damage, not a smaller table
            files = {rel: str(folder / rel) for rel in sums}
        number = int(folder.name) if folder.name.isdigit() else 0
        return TableVersion(name, number, files, stamp, _scan_local, folder=folder, sums=sums,
                            precheck=self._precheck)

    @staticmethod
    def _read_sums(name: str, folder: Path) -> dict[str, FileSum] | None:
        path = sums_path(folder)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            if not folder.is_dir():
                raise
            return None
        try:
            record = json.loads(raw)
            return {rel: dict(value) for rel, value in record["files"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TableDamaged([Damage(name, "has an unreadable checksum record", path.name,
                                       int(folder.name) if folder.name.isdigit() else None, str(path),
                                       kind="version")]) from None

    def _precheck(self, version: TableVersion, rels: list[str]) -> None:
        """Before a scan: every file it reads is there with its recorded size (a ``stat`` each), and a file
        modified since it was written (another mtime) still has its recorded digest (it is read once)."""
        if version.sums is None:
            return
        damage = [Damage(version.name, problem, rel, version.number, version.files[rel]) for rel in rels
                  if (problem := self._check_file(version.files[rel], version.sums.get(rel), "changed"))]
        if damage:
            raise TableDamaged(damage)

    def versions(self, name: str) -> list[TableVersion]:
        folder = self.root / VERSIONS_DIR / name
        if not folder.is_dir():
            return []
        out = []
        for path in sorted((p for p in folder.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True):
            try:
                out.append(self._version(name, path))
            except (TableDamaged, FileNotFoundError):  # an unreadable checksum record: cannot be trusted
                continue
        return out

    def _stat(self, location: str) -> tuple[int, int | None] | None:
        try:
            stat = os.stat(location)
        except FileNotFoundError:
            return None
        return stat.st_size, stat.st_mtime_ns

    def _open(self, location: str) -> IO[bytes]:
        return open(location, "rb")

    def _strays(self, version: TableVersion) -> list[Damage]:
        if version.sums is None or version.folder is None:
            return []
        found = {p.relative_to(version.folder).as_posix() for p in version.folder.rglob("*") if p.is_file()}
        return [Damage(version.name, "was not written with this version (an extra file)", rel, version.number,
                       str(version.folder / rel), kind="stray")
                for rel in sorted(found - set(version.sums))]

    def export(self, location: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(location, target)

    def retire(self, name: str) -> None:
        with self.lock(), commit_section():
            link = self.path(name)
            if link.is_symlink():
                link.unlink()
                _fsync_dir(link.parent)

    def names(self) -> list[str]:
        if not self.root.exists():
            return []
        found = [p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_symlink()]
        return sorted(n for n in found if not n.startswith("."))

    def _digest_contents(self, digest, version: TableVersion, rel: str) -> None:
        """The digest recorded when the file was written (the file is read only if none was recorded)."""
        recorded = (version.sums or {}).get(rel, {}).get("blake2b")
        if recorded:
            digest.update(recorded.encode())
        else:
            update_with_file(digest, version.files[rel])

    @contextmanager
    def new_version(self, name: str) -> Iterator[VersionBuilder]:
        """Yield a builder over an empty folder; on success it becomes the table's current version.

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
            builder = _LocalBuilder(name, staging, lambda: self.current(name))
            final = versions / f"{number:06d}"
            try:
                try:
                    yield builder
                except Abandon:
                    shutil.rmtree(staging, ignore_errors=True)
                    return
                record = {"format": 1, "table": name, "version": number, "written_at": utc_now_iso(),
                          "files": builder.sums()}
                sums_path(final).write_text(json.dumps(record, indent=1), encoding="utf-8")
                os.sync()  # the new files are durable before they become visible (one call, not one per file)
                with commit_section():  # a stop request (SIGTERM) waits for these two steps
                    os.rename(staging, final)
                    self._swap_link(name, final)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                if not final.is_dir():
                    sums_path(final).unlink(missing_ok=True)
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
        for record in versions.glob(f"*{CHECKSUMS_SUFFIX}"):  # of a version a killed writer never renamed
            if not (versions / record.name[:-len(CHECKSUMS_SUFFIX)]).is_dir():
                record.unlink(missing_ok=True)

    @staticmethod
    def _prune(versions: Path, keep: Path) -> None:
        done = sorted((p for p in versions.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        for old in done[:-KEEP_VERSIONS]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)
                sums_path(old).unlink(missing_ok=True)


def sums_path(folder: Path) -> Path:
    """Where the checksums of the local version folder ``folder`` are recorded (beside it)."""
    return folder.with_name(folder.name + CHECKSUMS_SUFFIX)


def open_lock(settings: Settings) -> WriterLock:
    """The writer lock of the data root: ``flock`` locally, plus a lease object on object storage."""
    if settings.is_remote:
        from warehouse.manifest_store import RemoteWriterLock

        return RemoteWriterLock(settings)
    return WriterLock(settings)


def open_store(settings: Settings, lock: WriterLock) -> BaseTableStore:
    """The table store of the data root: symlink versions locally, manifests behind a URL."""
    if settings.is_remote:
        from warehouse.manifest_store import ManifestTableStore

        return ManifestTableStore(settings, lock)
    return TableStore(settings, lock)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
