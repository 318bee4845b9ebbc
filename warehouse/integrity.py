"""Verifying tables against the checksums recorded when they were written, and remembering what was found.

``verify_tables`` reads every file of the current versions (size, blake2b-128 digest, Parquet footer).
What it finds, and damage any command stumbles on, is kept in ``<home>/state/integrity.json`` so that
``status`` can say "verified at ..." or name the damage without reading the tables again:

    {"verified_at": ISO time of the last full verify, "verified": {"tables": n, "files": n, "bytes": n},
     "damage": [{"table", "file", "version", "problem", "location", "found_by", "found_at"}, ...]}

A damage entry is shown only while its table's current version is the damaged one: a table rewritten
since (by ``repair``, or by ``aggregate`` replacing its metrics) no longer carries it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from warehouse.errors import InputError, TableDamaged
from warehouse.settings import Settings
from warehouse.state import write_json_atomic
from warehouse.tables import BaseTableStore, Damage, utc_now_iso

STATE_FILE = "integrity.json"


@dataclass
class VerifyReport:
    """What ``verify`` read and what it found."""

    tables: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    damage: list[Damage] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)  # tables whose current version predates checksums
    checked_at: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.damage

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "tables": self.tables, "files": self.files, "bytes": self.bytes,
                "damage": [d.as_dict() for d in self.damage], "unrecorded": self.unrecorded,
                "checked_at": self.checked_at, "seconds": self.seconds}


def verify_tables(store: BaseTableStore, names: Iterable[str] | None = None, deep: bool = True) -> VerifyReport:
    """Check every file of the current version of each table (all tables when ``names`` is None)."""
    started = time.perf_counter()
    known = store.names()
    chosen = list(known if names is None else names)
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise InputError(f"no table named {unknown[0]!r} under {store.location} "
                         f"(tables: {', '.join(known) or 'none yet'})")
    report = VerifyReport(tables=chosen, checked_at=utc_now_iso())
    for name in chosen:
        try:
            version = store.current(name)
        except TableDamaged as exc:  # a vanished version folder, an unreadable checksum record or manifest
            report.damage.extend(exc.damage)
            continue
        if version is None:
            continue
        if version.sums is None:
            report.unrecorded.append(name)
        report.files += len(version.files)
        report.bytes += sum(int(s.get("bytes") or 0) for s in (version.sums or {}).values())
        report.damage.extend(store.check(version, deep=deep))
    report.seconds = round(time.perf_counter() - started, 2)
    return report


# -- what is known about damage (state/integrity.json) -------------------------------------------------
def _path(settings: Settings):
    return settings.state_dir / STATE_FILE


def read_state(settings: Settings) -> dict[str, Any]:
    try:
        data = json.loads(_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(settings: Settings, data: dict[str, Any]) -> None:
    """Best effort: a read-only data root must not turn a clear error into another one."""
    try:
        write_json_atomic(_path(settings), data)
    except OSError:
        pass


def _entry(damage: Damage, found_by: str, found_at: str) -> dict[str, Any]:
    return {**damage.as_dict(), "found_by": found_by, "found_at": found_at}


def record_verification(settings: Settings, report: VerifyReport, complete: bool) -> None:
    """Remember a verify: a complete one replaces everything known; one of some tables replaces their entries."""
    data = read_state(settings)
    kept = [] if complete else [e for e in data.get("damage", []) if e.get("table") not in report.tables]
    data["damage"] = kept + [_entry(d, "verify", report.checked_at) for d in report.damage]
    if complete:
        data["verified_at"] = report.checked_at
        data["verified"] = {"tables": len(report.tables), "files": report.files, "bytes": report.bytes}
    _save(settings, data)


def note_damage(settings: Settings, damage: list[Damage], found_by: str) -> None:
    """Remember damage a command ran into (``status`` shows it until the table is repaired or rewritten)."""
    data = read_state(settings)
    entries = data.get("damage", [])
    seen = {(e.get("table"), e.get("file"), e.get("version")) for e in entries}
    now = utc_now_iso()
    entries += [_entry(d, found_by, now) for d in damage if (d.table, d.file, d.version) not in seen]
    data["damage"] = entries
    _save(settings, data)


def forget_damage(settings: Settings, tables: Iterable[str]) -> None:
    """Drop what is known about ``tables`` (after they were repaired)."""
    gone = set(tables)
    data = read_state(settings)
    data["damage"] = [e for e in data.get("damage", []) if e.get("table") not in gone]
    _save(settings, data)


def known_damage(settings: Settings, store: BaseTableStore) -> list[dict[str, Any]]:
    """Recorded damage that still applies: its table's current version is still the damaged one."""
    out = []
    for entry in read_state(settings).get("damage", []):
        try:
            version = store.current(entry.get("table", ""))
        except TableDamaged:
            out.append(entry)
            continue
        if version is not None and entry.get("version") in (None, version.number):
            out.append(entry)
    return out


def diagnose(store: BaseTableStore, settings: Settings, names: Iterable[str] | None = None,
             found_by: str = "a command") -> TableDamaged | None:
    """After a read failed: verify the tables involved (all when ``names`` is None) and return the damage
    as a ``TableDamaged`` (also remembered for ``status``), or None when the files are intact."""
    present = set(store.names())
    chosen = None if names is None else [n for n in names if n in present]
    report = verify_tables(store, chosen)
    if report.ok:
        return None
    note_damage(settings, report.damage, found_by)
    return TableDamaged(report.damage)
