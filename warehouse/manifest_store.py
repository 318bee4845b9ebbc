"""Tables on object storage (any fsspec filesystem): manifest commits instead of symlink swaps.

Layout under ``<url>/warehouse/``::

    .versions/<name>/<n>/<files>      data files, written once, never modified
    _manifests/<name>.json            {"version": n, "files": [paths relative to the warehouse],
                                       "digests"/"sizes"/"rows": {path: ...}, "previous": {...}, ...}
    _lock.json                        the writer's lease (see ``LeaseLock``)

A table is exactly the files its manifest lists. A commit uploads every new file of version ``n`` and
then writes the manifest (one PUT, atomic on object stores; on a local filesystem a temporary file
renamed into place). Readers resolve the manifest once and read exactly its files, so they see the old
or the new table, never a mixture; a writer killed before the manifest write leaves the table as it
was, and its orphan files are removed by the next commit of that table. Files that do not change are
*referenced* from earlier versions in the manifest (``VersionBuilder.reuse``), so changing one papers
bucket uploads one file. After a commit, every file under ``.versions/<name>/`` that neither the new nor
the previous manifest lists is deleted (``KEEP_VERSIONS = 2``, as for local tables).

Storage options come from fsspec's own configuration (``FSSPEC_S3_KEY``-style variables, fsspec config
files, and each backend's usual environment: ``AWS_*`` for s3fs, ...).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote

import polars as pl

from warehouse.errors import TableDamaged, WarehouseLocked
from warehouse.settings import LOCK_STALE_ENV, Settings
from warehouse.stopping import commit_section
from warehouse.tables import (VERSIONS_DIR, Abandon, BaseTableStore, Damage, FileSum, TableVersion, VersionBuilder,
                              WriterLock, command_line, path_order, utc_now_iso)

MANIFESTS_DIR = "_manifests"
LEASE_NAME = "_lock.json"
MANIFEST_FORMAT = 1
_HELD_TOKENS: set[str] = set()  # leases this process holds now (a lease of ours not in here is a leftover)


def open_filesystem(url: str):
    """``(fsspec filesystem, path on it)`` for ``url``; options from fsspec's config and environment."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    return fs, path.rstrip("/")


def _is_local(fs) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


SUM_KEYS = (("digests", "blake2b"), ("sizes", "bytes"), ("rows", "rows"))  # manifest field -> FileSum key


class ManifestVersion(TableVersion):
    """A version read from a manifest: also the manifest's entries (``rel -> path under the root``)."""

    def __init__(self, *args, manifest: dict[str, Any], entries: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.manifest = manifest
        self.entries = entries

    def digest_of(self, rel: str) -> str | None:
        return (self.manifest.get("digests") or {}).get(self.entries[rel])


def _sums_of(manifest: dict[str, Any], entries: dict[str, str]) -> dict[str, FileSum] | None:
    """``FileSum`` per file from the manifest's ``digests``/``sizes``/``rows`` (None: none recorded)."""
    if not manifest.get("digests"):
        return None
    return {rel: {key: (manifest.get(field) or {}).get(entry) for field, key in SUM_KEYS}
            for rel, entry in entries.items()}


class _ManifestBuilder(VersionBuilder):
    def reuse(self, rel: str, source: TableVersion | None = None) -> None:
        """Reference file ``rel`` of ``source`` (default: the current version) in the new manifest (no copy)."""
        self._source(rel, source)


class ManifestTableStore(BaseTableStore):
    """Versioned tables over an fsspec filesystem, committed by writing a manifest object last."""

    def __init__(self, settings: Settings, lock: WriterLock, fs=None, root: str | None = None):
        if settings.warehouse_url is None and (fs is None or root is None):
            raise ValueError("a manifest table store needs a URL data root (or a filesystem and a root)")
        self.settings = settings
        self.lock = lock
        if fs is None:
            fs, root = open_filesystem(settings.warehouse_url)
        self.fs = fs
        self.root = root.rstrip("/")
        self.location = settings.warehouse_url or self.fs.unstrip_protocol(self.root)
        self.staging_dir = settings.warehouse_dir / ".staging"
        self._local = _is_local(fs)
        self._arrow = None

    # -- paths ---------------------------------------------------------------------------------
    def _abs(self, entry: str) -> str:
        return f"{self.root}/{entry}"

    def _entry_of(self, path: str) -> str:
        path = self.fs._strip_protocol(path).rstrip("/")
        if not path.startswith(self.root + "/"):
            raise ValueError(f"{path} is not under {self.root}")
        return path[len(self.root) + 1:]

    def manifest_path(self, name: str) -> str:
        return self._abs(f"{MANIFESTS_DIR}/{name}.json")

    def url_of(self, location: str) -> str:
        return self.fs.unstrip_protocol(location)

    @property
    def arrow_filesystem(self):
        """The pyarrow filesystem the scans read through (pyarrow's own for a local filesystem)."""
        if self._arrow is None:
            import pyarrow.fs as pafs

            self._arrow = pafs.LocalFileSystem() if self._local else pafs.PyFileSystem(pafs.FSSpecHandler(self.fs))
        return self._arrow

    # -- reading -------------------------------------------------------------------------------
    def read_manifest(self, name: str) -> dict[str, Any] | None:
        try:
            raw = self.fs.cat_file(self.manifest_path(name))
        except FileNotFoundError:
            return None
        try:
            manifest = json.loads(raw)
            version = int(manifest["version"])
            files = list(manifest["files"])
        except (ValueError, KeyError, TypeError):
            raise TableDamaged([Damage(name, "has an unreadable manifest", f"{MANIFESTS_DIR}/{name}.json",
                                       location=self.url_of(self.manifest_path(name)), kind="version")]) from None
        if manifest.get("format", MANIFEST_FORMAT) > MANIFEST_FORMAT:
            raise ValueError(f"table {name!r} at {self.location} was written by a newer arxiv-trends "
                             f"(manifest format {manifest['format']})")
        if version < 1 or not all(isinstance(f, str) for f in files):
            raise TableDamaged([Damage(name, "has an unreadable manifest", f"{MANIFESTS_DIR}/{name}.json",
                                       location=self.url_of(self.manifest_path(name)), kind="version")])
        return manifest

    def current(self, name: str) -> ManifestVersion | None:
        manifest = self.read_manifest(name)
        return None if manifest is None else self._version(name, manifest)

    def _version(self, name: str, manifest: dict[str, Any]) -> ManifestVersion:
        """The version a manifest (or the ``previous`` part of one) describes."""
        number = int(manifest["version"])
        prefix = f"{VERSIONS_DIR}/{name}/"
        entries: dict[str, str] = {}
        for entry in manifest["files"]:
            head, _, rest = entry[len(prefix):].partition("/") if entry.startswith(prefix) else ("", "", "")
            if not head.isdigit() or not rest:
                raise ValueError(f"manifest of table {name!r} at {self.location} lists {entry!r}, "
                                 f"which is not under {prefix}<n>/")
            entries[rest] = entry
        files = {rel: self._abs(entry) for rel, entry in entries.items()}
        stamp = f"{number:06d}@{manifest.get('committed_at', '')}"
        return ManifestVersion(name, number, files, stamp, self._scan_files, sums=_sums_of(manifest, entries),
                               manifest=manifest, entries=entries)

    def versions(self, name: str) -> list[TableVersion]:
        """The current version and the one before it (the manifest keeps both lists of files)."""
        try:
            manifest = self.read_manifest(name)
        except TableDamaged:
            return []
        if manifest is None:
            return []
        out = [self._version(name, manifest)]
        previous = manifest.get("previous")
        if previous and previous.get("files"):
            out.append(self._version(name, {**previous, "committed_at": f"previous-of-{manifest['version']}"}))
        return out

    def exists(self, name: str) -> bool:
        path = self.manifest_path(name)
        self.fs.invalidate_cache(path)  # another process may have committed since a listing was cached
        return self.fs.exists(path)

    def names(self) -> list[str]:
        base = self._abs(MANIFESTS_DIR)
        self.fs.invalidate_cache(base)
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        names = []
        for path in found:
            rel = self.fs._strip_protocol(path)[len(base) + 1:]
            if rel.endswith(".json") and not rel.rsplit("/", 1)[-1].startswith("."):
                names.append(rel[:-len(".json")])
        return sorted(names)

    def _stat(self, location: str) -> tuple[int, int | None] | None:
        self.fs.invalidate_cache(location)
        try:
            return int(self.fs.info(location)["size"]), None
        except FileNotFoundError:
            return None

    def _open(self, location: str):
        return self.fs.open(location, "rb")

    def export(self, location: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.fs.get_file(location, str(target))

    def retire(self, name: str) -> None:
        """Delete the table's manifest: the table is then absent (its files go with the next commits' pruning)."""
        with self.lock(), commit_section():
            self.lock.confirm()
            try:
                self.fs.rm_file(self.manifest_path(name))
            except FileNotFoundError:
                pass

    def _digest_contents(self, digest, version: ManifestVersion, rel: str) -> None:
        """The digest the manifest records for the file (nothing is downloaded)."""
        digest.update((version.digest_of(rel) or version.entries[rel]).encode())

    def _scan_files(self, version: TableVersion, rels: list[str], hive: bool) -> pl.LazyFrame:
        """A LazyFrame over exactly these files, through a pyarrow dataset on the fsspec filesystem.

        Hive columns (``year=2020/...``) are given to each file as its partition expression, since the
        files of one version may sit in different version folders; integers become Int64, the rest
        String, as polars infers them for local tables.
        """
        import pyarrow as pa
        import pyarrow.dataset as ds

        paths = [version.files[rel] for rel in rels]
        fmt = ds.ParquetFileFormat()
        schema = fmt.inspect(paths[0], filesystem=self.arrow_filesystem)
        partitions = None
        if hive:
            keys = [_hive_keys(rel) for rel in rels]
            names = list(dict.fromkeys(k for found in keys for k in found))
            types = {k: pa.int64() if all(_is_int(found[k]) for found in keys if k in found) else pa.string()
                     for k in names}
            for k in names:
                if schema.get_field_index(k) < 0:
                    schema = schema.append(pa.field(k, types[k]))
            partitions = []
            for found in keys:
                expr = ds.scalar(True)
                for k, value in found.items():
                    scalar = pa.scalar(int(value) if types[k] == pa.int64() else value, types[k])
                    expr = expr & (ds.field(k) == scalar)
                partitions.append(expr)
        dataset = ds.FileSystemDataset.from_paths(paths, schema=schema, format=fmt,
                                                  filesystem=self.arrow_filesystem, partitions=partitions)
        return pl.scan_pyarrow_dataset(dataset)

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def new_version(self, name: str) -> Iterator[VersionBuilder]:
        with self.lock():
            try:
                base = self.current(name)
                number = (base.number if base else 0) + 1
            except TableDamaged:  # an unreadable manifest: a full rewrite may still replace the table
                base, number = (lambda: self.current(name)), self._highest_number(name) + 1
            safe = name.replace("/", "__")
            staging = self.staging_dir / f"{safe}-{number:06d}-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            builder = _ManifestBuilder(name, staging, base)
            try:
                try:
                    yield builder
                except Abandon:
                    return
                manifest = self._commit(name, number, builder)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            self._prune(name, manifest)

    def _highest_number(self, name: str) -> int:
        versions = self._abs(f"{VERSIONS_DIR}/{name}")
        self.fs.invalidate_cache(versions)
        try:
            children = self.fs.ls(versions, detail=False)
        except FileNotFoundError:
            return 0
        names = [child.rstrip("/").rsplit("/", 1)[-1] for child in children]
        return max((int(n) for n in names if n.isdigit()), default=0)

    def _commit(self, name: str, number: int, builder: _ManifestBuilder) -> dict[str, Any]:
        """Upload the new files of version ``number``, then write its manifest (the commit point)."""
        folder = f"{VERSIONS_DIR}/{name}/{number:06d}"
        self._remove(self._abs(folder))  # files of a writer killed before its manifest: never referenced
        new = {p.relative_to(builder.folder).as_posix(): p for p in sorted(builder.folder.rglob("*")) if p.is_file()}
        entries = {rel: source.entries[rel] for rel, source in builder.reused.items() if rel not in new}
        for rel in new:
            entries[rel] = f"{folder}/{rel}"
        sums = builder.sums()  # hashes the new files; reused ones keep what their manifest recorded
        if new:
            self.upload([str(p) for p in new.values()], [self._abs(entries[rel]) for rel in new])
        try:
            base = builder.base
        except TableDamaged:  # replacing a table whose manifest is unreadable: no previous version to keep
            base = None
        manifest = {
            "format": MANIFEST_FORMAT,
            "table": name,
            "version": number,
            "files": [entries[rel] for rel in sorted(entries, key=path_order)],
            **_sum_fields({entries[rel]: sums.get(rel) or {} for rel in entries}),
            "committed_at": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            "previous": ({"version": base.number, "files": base.manifest["files"],
                          **{field: base.manifest.get(field) or {} for field, _ in SUM_KEYS}} if base else None),
        }
        with commit_section():  # a stop request (SIGTERM) waits for the lease check and the manifest PUT
            self.lock.confirm()
            self.put_object(self.manifest_path(name), json.dumps(manifest, indent=1).encode("utf-8"))
        return manifest

    def upload(self, local_paths: list[str], paths: list[str]) -> None:
        """Copy local files to the store (one call: backends like s3fs upload them concurrently)."""
        if self._local:
            for parent in sorted({p.rsplit("/", 1)[0] for p in paths}):
                os.makedirs(parent, exist_ok=True)
        self.fs.put(local_paths, paths)
        if self._local:
            os.sync()  # durable before the manifest makes them visible

    def put_object(self, path: str, data: bytes) -> None:
        """Replace one object atomically: one PUT, or on a local filesystem write-then-rename."""
        if self._local:
            parent = os.path.dirname(path)
            os.makedirs(parent, exist_ok=True)
            tmp = os.path.join(parent, f".{os.path.basename(path)}.tmp-{os.getpid()}")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        else:
            self.fs.pipe_file(path, data)

    def _remove(self, path: str) -> None:
        try:
            if self.fs.exists(path):
                self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass

    def _prune(self, name: str, manifest: dict[str, Any]) -> None:
        """Delete the files of ``name`` that neither this manifest nor the previous one lists."""
        keep = set(manifest["files"]) | set((manifest.get("previous") or {}).get("files") or [])
        versions = self._abs(f"{VERSIONS_DIR}/{name}")
        self.fs.invalidate_cache(versions)
        try:
            children = self.fs.ls(versions, detail=False)
        except FileNotFoundError:
            return
        for child in children:
            child = self.fs._strip_protocol(child).rstrip("/")
            if not child.rsplit("/", 1)[-1].isdigit():
                continue  # another table's folder (``metrics`` beside ``metrics/topic_monthly``)
            found = [f for f in self.fs.find(child)]
            stale = [f for f in found if self._entry_of(f) not in keep]
            if len(stale) == len(found):
                self._remove(child)
            elif stale:
                self.fs.rm(stale)


def _sum_fields(sums: dict[str, FileSum]) -> dict[str, dict]:
    """The manifest's ``digests``, ``sizes`` and ``rows`` (entry -> value) from a ``FileSum`` per entry."""
    return {field: {entry: s[key] for entry, s in sums.items() if s.get(key) is not None} for field, key in SUM_KEYS}


def _hive_keys(rel: str) -> dict[str, str]:
    out = {}
    for part in rel.split("/")[:-1]:
        key, eq, value = part.partition("=")
        if eq and key:
            out[unquote(key)] = unquote(value)
    return out


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


class LeaseLock:
    """A lease object beside the tables, so writers on different hosts see each other.

    ``acquire`` creates ``_lock.json`` (holder pid, host, command, since, a random token). A lease held by
    another process is respected until it is ``stale_s`` old (counted from its last renewal: every commit
    renews it) or, on this same host, until its process is gone; then it is taken over. Object stores
    without conditional writes cannot make this exact (two hosts may both see no lease and both create
    one: the token read back catches most such races, not all), so one writer host is the supported setup.
    """

    def __init__(self, fs, path: str, location: str, stale_s: float):
        self.fs = fs
        self.path = path
        self.location = location
        self.stale_s = stale_s
        self.token: str | None = None
        self._local = _is_local(fs)

    def read(self) -> dict[str, Any] | None:
        try:
            raw = self.fs.cat_file(self.path)
        except FileNotFoundError:
            return None
        try:
            info = json.loads(raw)
        except ValueError:
            return {}
        return info if isinstance(info, dict) else {}

    def _create(self, data: bytes) -> None:
        """Create the lease object, failing with ``FileExistsError`` when it exists (atomic where supported)."""
        if self._local:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "xb") as fh:
                fh.write(data)
            return
        try:
            self.fs.pipe_file(self.path, data, mode="create")  # s3fs on AWS S3: a conditional PUT (If-None-Match)
            return
        except FileExistsError:
            raise
        except (TypeError, NotImplementedError, OSError):  # no ``mode`` argument, or a store without the condition
            pass
        self.fs.invalidate_cache(self.path)
        if self.fs.exists(self.path):
            raise FileExistsError(self.path)
        self.fs.pipe_file(self.path, data)

    def _write(self, info: dict[str, Any]) -> None:
        data = json.dumps(info).encode("utf-8")
        if self._local:
            tmp = f"{self.path}.tmp-{os.getpid()}"
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
        else:
            self.fs.pipe_file(self.path, data)

    def _delete(self) -> None:
        try:
            self.fs.rm_file(self.path)
        except FileNotFoundError:
            pass

    def _age_s(self, info: dict[str, Any]) -> float:
        stamp = info.get("renewed_at") or info.get("since")
        try:
            then = datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            return float("inf")  # unreadable: treat as abandoned
        if then.tzinfo is None:
            then = then.replace(tzinfo=timezone.utc)
        return (datetime.now(timezone.utc) - then).total_seconds()

    def takeable(self, info: dict[str, Any]) -> bool:
        """Whether a lease found in place may be taken over (stale, its process gone, or a leftover of ours)."""
        if self._age_s(info) > self.stale_s:
            return True
        if info.get("host") != socket.gethostname():
            return False
        pid = info.get("pid")
        if pid == os.getpid():
            return info.get("token") not in _HELD_TOKENS
        try:
            os.kill(int(pid), 0)
        except (TypeError, ValueError, ProcessLookupError):
            return True
        except PermissionError:
            return False
        return False

    def describe(self, info: dict[str, Any]) -> str:
        return (f"pid {info.get('pid', '?')} on {info.get('host', '?')} "
                f"({info.get('command', '?')}, since {info.get('since', '?')})")

    def acquire(self, deadline: float) -> None:
        while True:
            held = self.read()
            if held is None or self.takeable(held):
                if held is not None:
                    self._delete()
                token = uuid.uuid4().hex
                now = utc_now_iso()
                info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command_line(),
                        "since": now, "renewed_at": now, "token": token}
                try:
                    self._create(json.dumps(info).encode("utf-8"))
                except FileExistsError:
                    held = self.read()
                else:
                    held = self.read()
                    if held is not None and held.get("token") == token:
                        self.token = token
                        _HELD_TOKENS.add(token)
                        return
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"the warehouse at {self.location} is being written by "
                    f"{self.describe(held) if held else 'another process'}; wait for it to finish (or pass a "
                    f"longer wait) and run again (a lease not renewed for {self.stale_s / 3600:g} h is taken "
                    f"over; {LOCK_STALE_ENV} sets that)")
            time.sleep(0.5)

    def confirm(self) -> None:
        """Check that the lease is still ours, and renew it (every commit calls this before its manifest)."""
        held = self.read()
        if held is None or held.get("token") != self.token:
            raise WarehouseLocked(
                f"the writer lease on {self.location} was lost"
                + (f" to {self.describe(held)}" if held else "")
                + "; this run stopped before committing (the tables are unchanged by it)")
        held["renewed_at"] = utc_now_iso()
        self._write(held)

    def release(self) -> None:
        if self.token is None:
            return
        try:
            held = self.read()
            if held is not None and held.get("token") == self.token:
                self._delete()
        finally:
            _HELD_TOKENS.discard(self.token)
            self.token = None


class RemoteWriterLock(WriterLock):
    """The local ``flock`` (in the local working folder) plus the lease object on the store."""

    def __init__(self, settings: Settings, fs=None, root: str | None = None):
        super().__init__(settings)
        if fs is None:
            fs, root = open_filesystem(settings.warehouse_url)
        self.lease = LeaseLock(fs, f"{root.rstrip('/')}/{LEASE_NAME}", settings.location, settings.lock_stale_s)

    def acquire(self, wait: float = 0.0) -> None:
        if self._depth:
            self._depth += 1
            return
        deadline = time.monotonic() + max(wait, 0.0)
        super().acquire(wait)
        try:
            self.lease.acquire(deadline)
        except BaseException:
            super().release()
            raise

    def release(self) -> None:
        if self._depth == 1:
            try:
                self.lease.release()
            finally:
                super().release()
        else:
            super().release()

    def confirm(self) -> None:
        if self._depth:
            self.lease.confirm()
