"""Cache keys that survive across flow runs.

Prefect's default cache policy includes the flow run id, so a new run never reuses anything. The keys
here depend only on what the step reads. ``papers`` is written only when a paper changed, and its
versions are immutable, so the version (``TableStore.version_id``: the folder plus its mtime, in case the
table is deleted and its numbering restarts; on object storage the manifest's version and commit time)
identifies its content. The derived tables are rewritten by every classify run even when nothing changed
(with identical bytes), so they are identified by a hash of their files (``TableStore.content_id``; on
object storage from the file digests the manifest records, so nothing is downloaded).
A step whose inputs did not change since the last run is then skipped and its persisted summary reused.

Outputs are not part of the keys (every run changes them, so keys holding them would never hit);
instead a step whose outputs are missing is run with ``refresh_cache`` (see ``metrics_missing``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from warehouse.api import Warehouse

# What aggregate reads and what report reads (beyond the metrics it renders).
AGGREGATE_INPUTS = ("papers", "classifications", "topic_scores", "paper_subtopics", "subtopics")
REPORT_INPUTS = ("papers", "classifications", "subtopics", "metrics/topic_monthly", "metrics/topic_yearly",
                 "metrics/subtopic_monthly", "metrics/emerging_subtopics", "metrics/topic_cooccurrence",
                 "metrics/topic_categories", "metrics/coverage_monthly")
REPORT_MARKER = ".arxiv-trends-report"


def table_version(wh: Warehouse, name: str) -> str | None:
    """What identifies the content of table ``name`` (see above); None when it does not exist."""
    if name == "papers":
        return wh.tables.version_id(name)
    return wh.tables.content_id(name)


def file_version(path: Path) -> str | None:
    return f"{path.stat().st_size}@{path.stat().st_mtime_ns}" if path.exists() else None


def _digest(kind: str, payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def aggregate_key(context: Any, parameters: dict[str, Any]) -> str:
    """Same inputs, same model, same UTC day (the day decides the partial month)."""
    wh: Warehouse = parameters["wh"]
    return _digest("aggregate", {
        "home": wh.settings.location,
        "inputs": {name: table_version(wh, name) for name in AGGREGATE_INPUTS},
        "model": file_version(wh.settings.models_dir / "current.json"),
        "day": datetime.now(timezone.utc).date().isoformat(),
        "include_partial": parameters.get("include_partial", False),
    })


def report_dir(wh: Warehouse, out_dir: str | None) -> Path:
    return Path(out_dir or wh.settings.reports_dir).expanduser().resolve()


def metrics_missing(wh: Warehouse) -> bool:
    return not wh.has_table("metrics/coverage_monthly")


def site_missing(wh: Warehouse, out_dir: str | None) -> bool:
    return not (report_dir(wh, out_dir) / REPORT_MARKER).exists()


def report_key(context: Any, parameters: dict[str, Any]) -> str:
    """Same tables and model, same output folder, same title."""
    wh: Warehouse = parameters["wh"]
    out = report_dir(wh, parameters.get("out_dir"))
    return _digest("report", {
        "home": wh.settings.location,
        "inputs": {name: table_version(wh, name) for name in REPORT_INPUTS},
        "model": file_version(wh.settings.models_dir / "current.json"),
        "out_dir": str(out),
        "title": parameters.get("title"),
    })
