"""Run bookkeeping: when each kind of job last finished and what it did (for ``status`` and reports)."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from warehouse.settings import Settings

RUN_KINDS = ("backfill", "harvest", "classify", "aggregate", "report")


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON next to ``path`` and rename it into place, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, sort_keys=True, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _runs_path(settings: Settings) -> Path:
    return settings.state_dir / "runs.json"


def last_runs(settings: Settings) -> dict[str, dict[str, Any]]:
    """The last finished run of each kind, e.g. ``{"harvest": {"finished_at": ..., "added": 12}}``."""
    path = _runs_path(settings)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def record_run(settings: Settings, kind: str, **info: Any) -> None:
    """Remember that a run of ``kind`` just finished, with its summary numbers."""
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}; expected one of {RUN_KINDS}")
    runs = last_runs(settings)
    runs[kind] = {"finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **info}
    write_json_atomic(_runs_path(settings), runs)


def _inputs_path(settings: Settings) -> Path:
    return settings.state_dir / "inputs.json"


def recorded_inputs(settings: Settings) -> list[dict[str, Any]]:
    """Every file ``backfill`` imported (``path, bytes, mtime_ns, imported_at``), first import first: what a
    repair re-reads to rebuild ``papers`` (with the harvested pages under ``raw/``)."""
    try:
        data = json.loads(_inputs_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def record_inputs(settings: Settings, paths: list[Path]) -> None:
    """Remember the files of a finished backfill (one entry per path; a re-import updates size and time)."""
    entries = {e["path"]: e for e in recorded_inputs(settings) if isinstance(e, dict) and "path" in e}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for path in paths:
        resolved = Path(path).resolve()
        if resolved.is_relative_to(settings.raw_dir.resolve()):
            continue  # harvested pages are found under raw/ anyway
        stat = resolved.stat()
        old = entries.get(str(resolved), {})
        entries[str(resolved)] = {"path": str(resolved), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                                  "imported_at": old.get("imported_at", now)}
    write_json_atomic(_inputs_path(settings), list(entries.values()))
