"""``arxiv-trends repair``: every damaged table back, rebuilt from what it is derived from or restored.

``verify`` first; every damaged file that still exists is copied to ``<home>/damaged/<UTC time>/`` (with
``repair.json``: what was found and what was done). Then, in dependency order:

1. ``papers`` and ``deleted``: the damaged files are rebuilt by importing again every input ``backfill``
   recorded and every page under ``raw/`` into a scratch data root (the intact files stay as they are);
   without sources, the newest intact older version is restored.
2. ``embeddings``: the damaged part files are dropped. It is a cache: what is missing is embedded again.
3. ``classifications``, ``topic_scores``, ``paper_subtopics``, ``subtopics``, ``subtopic_periods``: set aside,
   then rebuilt
   from papers and the saved model (``classify_warehouse(all=True)``: no refit); without a usable model the
   newest intact version is restored, if there is one.
4. ``metrics/*``: recomputed (``aggregate``) when damaged or when anything they are computed from changed.
5. Any other table: its newest intact older version.

A damaged ``models/current.json`` is moved aside (the next ``classify`` fits a new model). Repair ends with
a fresh ``verify``; what could not be restored is listed with what to do about it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from flows.steps import entry_point
from warehouse.api import Warehouse
from warehouse.errors import ArxivTrendsError
from warehouse.integrity import record_verification
from warehouse.repair import (DAMAGED_DIR, find_sources, keep_aside, newest_intact, rebuild_from_sources,
                              replace_files, restore_version, scratch_folder)
from warehouse.settings import Settings
from warehouse.state import write_json_atomic
from warehouse.tables import Damage

SOURCE_TABLES = ("papers", "deleted")
CACHE_TABLES = ("embeddings",)
CLASSIFY_TABLES = ("classifications", "topic_scores", "paper_subtopics", "subtopics", "subtopic_periods")
METRICS_PREFIX = "metrics/"
MODEL_FILE = "current.json"


@dataclass
class RepairSummary:
    """What repair found, did and could not do (``--json``)."""

    found: list[dict] = field(default_factory=list)
    model_problem: str | None = None
    done: list[str] = field(default_factory=list)
    not_restored: list[str] = field(default_factory=list)
    kept_in: str | None = None
    intact_after: bool = True
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_problem(settings: Settings) -> str | None:
    """What is wrong with ``models/current.json`` and the model it names (None: fine, or no model yet)."""
    path = settings.models_dir / MODEL_FILE
    if not path.exists():
        return None
    try:
        version = json.loads(path.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{path} is unreadable ({type(exc).__name__}: {str(exc)[:80]})"
    if not (settings.models_dir / str(version)).is_dir():
        return f"{path} names model {version}, whose folder {settings.models_dir / str(version)} is missing"
    return None


class _Repair:
    def __init__(self, wh: Warehouse, damage: list[Damage], say: Callable[[str], None], summary: RepairSummary):
        self.wh, self.say, self.summary = wh, say, summary
        self.by_table: dict[str, list[Damage]] = defaultdict(list)
        for item in damage:
            self.by_table[item.table].append(item)
        self.changed: set[str] = set()  # tables given a new version (their dependants are recomputed)

    def did(self, text: str) -> None:
        self.summary.done.append(text)

    def failed(self, text: str) -> None:
        self.summary.not_restored.append(text)

    # -- the ways back -----------------------------------------------------------------------------------
    def restore_or_retire(self, name: str, why: str) -> None:
        """The newest intact older version, else no table at all (readers then see it as not built yet)."""
        older = newest_intact(self.wh, name)
        if older is not None:
            restore_version(self.wh, name, older)
            self.changed.add(name)
            self.did(f"{name}: restored version {older.number}, the newest intact one ({why})")
            self.failed(f"{name}: what was written after version {older.number} is not in it; {_redo(name)}")
            return
        self.wh.tables.retire(name)
        self.changed.add(name)
        self.failed(f"{name}: no intact version to restore ({why}); the table is removed: {_redo(name)}")

    def from_sources(self, names: list[str]) -> None:
        sources = find_sources(self.wh.settings)
        if not sources.paths:
            for name in names:
                self.restore_or_retire(name, "no recorded inputs and no raw pages to rebuild it from")
            return
        self.say(f"rebuilding {', '.join(names)} from {sources.describe()}")
        scratch = scratch_folder(self.wh.settings)
        try:
            rebuilt = rebuild_from_sources(sources, scratch)
            for name in names:
                damaged = self.by_table[name]
                whole = any(d.kind == "version" for d in damaged)
                files = None if whole else {d.file for d in damaged if d.kind == "file"}
                version = rebuilt.tables.current(name)
                if version is None:
                    self.restore_or_retire(name, f"the inputs rebuild no {name} table")
                    continue
                result = replace_files(self.wh, name, files, version)
                self.changed.add(name)
                self._report_rebuild(name, result, sources)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _report_rebuild(self, name: str, result: dict, sources) -> None:
        if result["replaced"]:
            counts = [f"{rel} ({now:,} rows" + (f", {before:,} when written)" if before is not None else ")")
                      for rel, (now, before) in result["rows"].items() if now is not None]
            self.did(f"{name}: rebuilt {len(result['replaced'])} file(s) from {sources.describe()}: "
                     + "; ".join(counts[:5]) + (" ..." if len(counts) > 5 else ""))
            short = [rel for rel, (now, before) in result["rows"].items()
                     if now is not None and before is not None and now < before]
            if short:
                self.failed(f"{name}: {', '.join(short[:3])} rebuilt with fewer rows than when written: their other "
                            "records came from inputs that are gone; import them again with `arxiv-trends backfill`")
        if result["dropped"]:
            self.failed(f"{name}: {', '.join(result['dropped'][:3])} could not be rebuilt (no recorded input or raw "
                        "page holds its records) and was left out; import those records again with "
                        "`arxiv-trends backfill`")
        if not result["replaced"] and not result["dropped"]:
            self.did(f"{name}: left out the file(s) that did not belong to it")

    def drop_damaged(self, name: str) -> None:
        """A cache table: a new version without the damaged files (what is missing is computed again)."""
        damaged = self.by_table[name]
        if any(d.kind == "version" for d in damaged):
            self.wh.tables.retire(name)
            self.changed.add(name)
            self.did(f"{name}: removed (its version was unreadable); it is a cache, refilled when next needed")
            return
        result = replace_files(self.wh, name, {d.file for d in damaged if d.kind == "file"}, None)
        self.changed.add(name)
        self.did(f"{name}: dropped {len(result['dropped'])} damaged file(s); it is a cache: the missing vectors are "
                 "embedded again when next needed")

    def classification(self, names: list[str]) -> None:
        problem = model_problem(self.wh.settings)
        if problem is None and (self.wh.settings.models_dir / MODEL_FILE).exists():
            for name in names:
                self.wh.tables.retire(name)  # classify rewrites them; it must not read the damaged files
            try:
                summary = entry_point("classify")(self.wh, all=True, embedder=None, progress=self.say)
            except ArxivTrendsError as exc:
                self.failed(f"{', '.join(names)}: could not be rebuilt ({exc}); run `arxiv-trends classify --all` "
                            "once that is fixed")
                return
            self.changed.update(names)
            self.did(f"{', '.join(names)}: rebuilt from papers and model {summary.model_version} "
                     f"(classify --all: {summary.classified:,} papers)")
            return
        for name in names:
            self.restore_or_retire(name, problem or "no classifier fitted yet")

    def metrics(self, names: list[str]) -> None:
        try:
            entry_point("aggregate")(self.wh)
            self.did("metrics: recomputed from papers and classifications (aggregate)")
        except ArxivTrendsError as exc:
            self.say(f"aggregate could not run ({exc})")
        for name in names:
            version = self.wh.tables.current(name) if self.wh.has_table(name) else None
            if version is not None and not self.wh.tables.check(version):
                self.changed.add(name)
                continue
            self.restore_or_retire(name, "aggregate did not rewrite it")


def _redo(name: str) -> str:
    """How a user brings table ``name`` up to date again."""
    if name in SOURCE_TABLES:
        return "import those records again (`arxiv-trends backfill` of your inputs, or `arxiv-trends harvest`)"
    if name in CLASSIFY_TABLES:
        return "`arxiv-trends classify --all` rewrites it"
    if name.startswith(METRICS_PREFIX):
        return "`arxiv-trends aggregate` rewrites it"
    return "write it again"


def repair_warehouse(wh: Warehouse, progress: Callable[[str], None] | None = None) -> RepairSummary:
    """Verify, keep the damaged files aside, restore or rebuild every damaged table, verify again."""
    started = time.perf_counter()
    say = progress or (lambda text: None)
    settings = wh.settings
    summary = RepairSummary()
    with wh.lock():
        report = wh.verify()
        summary.found = [d.as_dict() for d in report.damage]
        summary.model_problem = model_problem(settings)
        if report.ok and summary.model_problem is None:
            record_verification(settings, report, complete=True)
            summary.seconds = round(time.perf_counter() - started, 2)
            return summary
        aside = settings.home / DAMAGED_DIR / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside.mkdir(parents=True, exist_ok=True)
        summary.kept_in = str(aside)
        kept = keep_aside(wh, report.damage, aside)
        if kept:
            say(f"kept {len(kept)} damaged file(s) in {aside}")
        run = _Repair(wh, report.damage, say, summary)
        if summary.model_problem and "unreadable" in summary.model_problem:
            (aside / "models").mkdir(exist_ok=True)
            shutil.move(settings.models_dir / MODEL_FILE, aside / "models" / MODEL_FILE)
            run.did(f"{summary.model_problem}: moved to {aside / 'models'}; the next `arxiv-trends classify` fits "
                    "a new model")
        elif summary.model_problem:
            run.failed(f"{summary.model_problem}: run `arxiv-trends classify --refit`")
        damaged = set(run.by_table)
        sources = [t for t in SOURCE_TABLES if t in damaged]
        if sources:
            run.from_sources(sources)
        for name in CACHE_TABLES:
            if name in damaged:
                run.drop_damaged(name)
        classify = [t for t in CLASSIFY_TABLES if t in damaged]
        if classify:
            run.classification(classify)
        metrics = sorted(t for t in damaged if t.startswith(METRICS_PREFIX))
        if metrics or run.changed & {"papers", *CLASSIFY_TABLES}:
            run.metrics(metrics)
        for name in sorted(damaged - set(SOURCE_TABLES) - set(CACHE_TABLES) - set(CLASSIFY_TABLES)
                           - set(metrics)):
            run.restore_or_retire(name, "repair knows no way to rebuild it")
        after = wh.verify()
        record_verification(settings, after, complete=True)
        for item in after.damage:
            run.failed(item.describe())
        summary.intact_after = after.ok and model_problem(settings) is None
        write_json_atomic(aside / "repair.json", {**summary.as_dict(), "kept": kept})
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary
