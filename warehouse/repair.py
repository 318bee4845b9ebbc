"""Putting damaged tables right without the analytics: what ``arxiv-trends repair`` does in this layer.

- ``keep_aside``: copy every damaged file that still exists to ``<home>/damaged/<time>/<table>/<version>/``.
- ``newest_intact`` / ``restore_version``: make an older stored version current again (its files are kept by
  reference: hard links, or manifest entries), after checking every one of its files.
- ``rebuild_from_sources``: import again every input file ``backfill`` recorded (``state/inputs.json``) and
  every page under ``raw/`` into a scratch data root, giving ``papers`` and ``deleted`` as they were.
- ``replace_files``: a new version of a table whose damaged files are replaced by rebuilt ones (or left out)
  and whose intact files are kept by reference.

The derived tables (classifications, metrics, ...) are rebuilt by the analytics' own entry points; the
composition is ``flows/repair.py``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from warehouse.api import Warehouse
from warehouse.backfill import backfill_paths, detect_format, expand_paths
from warehouse.errors import InputError, TableDamaged
from warehouse.settings import Settings
from warehouse.state import recorded_inputs
from warehouse.tables import Damage, TableVersion

DAMAGED_DIR = "damaged"


def keep_aside(wh: Warehouse, damage: Iterable[Damage], folder: Path) -> list[str]:
    """Copy the damaged files that still exist into ``folder``; returns what was kept (``folder``-relative)."""
    kept = []
    for item in damage:
        if not item.location or item.file is None:  # a vanished version: nothing left to keep
            continue
        target = folder / item.table / f"v{item.version or 0}" / (item.file or "version").lstrip("./")
        try:
            wh.tables.export(item.location, target)
        except (FileNotFoundError, IsADirectoryError):
            continue
        kept.append(target.relative_to(folder).as_posix())
    return kept


def newest_intact(wh: Warehouse, name: str) -> TableVersion | None:
    """The newest stored version of ``name``, other than the current one, whose files all check out."""
    try:
        current = wh.tables.current(name)
    except TableDamaged:
        current = None
    for version in wh.tables.versions(name):
        if current is not None and version.number == current.number:
            continue
        if version.sums is not None and not wh.tables.check(version):
            return version
    return None


def restore_version(wh: Warehouse, name: str, version: TableVersion) -> None:
    """Make the files of ``version`` the current version of ``name`` again (a new version, kept by reference)."""
    with wh.tables.new_version(name) as build:
        for rel in version.files:
            build.reuse(rel, source=version)


def replace_files(wh: Warehouse, name: str, damaged: set[str] | None, rebuilt: TableVersion | None) -> dict:
    """A new version of ``name``: its intact files kept by reference, each ``damaged`` one taken from ``rebuilt``
    (or left out when the rebuild has no such file). ``damaged=None`` (or a current version that is gone) takes
    every file from ``rebuilt``. Returns ``{"replaced": [...], "dropped": [...], "rows": {rel: (now, before)}}``."""
    try:
        current = wh.tables.current(name)
    except TableDamaged:  # the whole current version is gone: everything comes from the rebuild
        current = None
    whole = current is None or damaged is None
    keep = [] if whole else [rel for rel in current.files if rel not in damaged]
    targets = sorted(rebuilt.files if rebuilt is not None else []) if whole else sorted(damaged)
    done: dict = {"replaced": [], "dropped": [], "rows": {}}
    with wh.tables.new_version(name) as build:
        for rel in keep:
            build.reuse(rel)
        for rel in targets:
            source = rebuilt.files.get(rel) if rebuilt is not None else None
            if source is None:
                done["dropped"].append(rel)
                continue
            target = build.folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            done["replaced"].append(rel)
            before = ((current.sums or {}).get(rel) or {}).get("rows") if current is not None else None
            done["rows"][rel] = (((rebuilt.sums or {}).get(rel) or {}).get("rows"), before)
    return done


@dataclass
class Sources:
    """What a rebuild of ``papers`` can read: recorded backfill inputs and harvested raw pages."""

    inputs: list[Path] = field(default_factory=list)      # recorded by backfill, still there
    missing: list[str] = field(default_factory=list)      # recorded, but gone or changed since
    raw_pages: list[Path] = field(default_factory=list)   # under <home>/raw/, in a format backfill reads
    unreadable_raw: int = 0                               # raw responses that are not pages (error pages, ...)

    @property
    def paths(self) -> list[Path]:
        return self.inputs + self.raw_pages

    def describe(self) -> str:
        text = f"{len(self.inputs)} recorded input file(s) and {len(self.raw_pages)} raw page(s)"
        if self.missing:
            text += f"; {len(self.missing)} recorded input(s) are gone or changed: {', '.join(self.missing[:3])}"
        return text


def find_sources(settings: Settings) -> Sources:
    found = Sources()
    for entry in recorded_inputs(settings):
        path = Path(entry["path"])
        try:
            stat = path.stat()
        except OSError:
            found.missing.append(str(path))
            continue
        if stat.st_size != entry.get("bytes") or stat.st_mtime_ns != entry.get("mtime_ns"):
            found.missing.append(f"{path} (changed since it was imported)")
        found.inputs.append(path)
    if settings.raw_dir.is_dir():
        try:
            files = expand_paths([settings.raw_dir])
        except InputError:
            files = []
        for path in files:
            try:
                detect_format(path)
            except InputError:
                found.unreadable_raw += 1
                continue
            found.raw_pages.append(path)
    return found


def rebuild_from_sources(sources: Sources, scratch: Path) -> Warehouse:
    """Import every source into a fresh data root under ``scratch``; returns it (to take tables from)."""
    rebuilt = Warehouse(Settings.from_home(scratch))
    if sources.paths:
        backfill_paths(rebuilt, sources.paths, progress=False)
    return rebuilt


def scratch_folder(settings: Settings) -> Path:
    """A private folder beside the tables for a rebuild (local even for a URL data root)."""
    base = settings.warehouse_dir / ".staging"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="repair-", dir=base))
