"""Harvest state under ``<home>/state/harvest/<stream>/``: the watermark and the per-page checkpoint.

A *stream* is one (endpoint, metadata prefix, sets, category filter) combination; each has its own
watermark, so adding a set or a filter never makes a harvest skip dates it has not seen.

- ``watermark.json``: the last OAI datestamp day up to which everything is in the warehouse.
- ``checkpoint.json``: the plan of a harvest in progress and where it is (slice, resumptionToken, page,
  pages saved but not yet ingested). Written after every page; deleted when the harvest completes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warehouse.harvest.rawstore import path_part
from warehouse.settings import Settings
from warehouse.state import write_json_atomic


@dataclass(frozen=True)
class Stream:
    endpoint: str
    prefix: str
    sets: tuple[str, ...]
    categories: tuple[str, ...]

    @property
    def host(self) -> str:
        parts = urlsplit(self.endpoint)
        return path_part(parts.netloc or self.endpoint)

    @property
    def slug(self) -> str:
        ident = json.dumps([self.endpoint, self.prefix, list(self.sets), list(self.categories)])
        digest = hashlib.sha1(ident.encode()).hexdigest()[:8]
        sets = "+".join(path_part(s) for s in self.sets) or "all"
        return f"{self.host}-{self.prefix}-{sets}-{digest}"

    def folder(self, settings: Settings) -> Path:
        return settings.state_dir / "harvest" / self.slug


@dataclass
class Checkpoint:
    """Where an OAI harvest is; everything before slice ``position`` is ingested."""

    run_id: str
    from_date: str
    until_date: str
    window_days: int
    position: int = 0             # index of the current (window, set) slice
    token: str | None = None      # resumptionToken for the next page of that slice; None = its first page
    page: int = 0                 # pages of the current slice received so far
    attempt: int = 0              # restarts of the current slice after an expired token
    rejected: int = 0             # resumptionTokens rejected in a row (the backoff of the next restart)
    plan: list[list[str]] | None = None  # [from, until, set] per slice once a window was split; None: by window_days
    pending_pages: list[str] = field(default_factory=list)  # saved + parsed, not yet ingested
    pages_fetched: int = 0
    records_ingested: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def read_json(path: Path) -> dict | None:
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def load_checkpoint(settings: Settings, stream: Stream) -> Checkpoint | None:
    data = read_json(stream.folder(settings) / "checkpoint.json")
    return Checkpoint(**data["checkpoint"]) if data else None


def save_checkpoint(settings: Settings, stream: Stream, cp: Checkpoint) -> None:
    write_json_atomic(stream.folder(settings) / "checkpoint.json",
                      {"stream": asdict(stream), "checkpoint": cp.as_dict()})


def clear_checkpoint(settings: Settings, stream: Stream) -> None:
    (stream.folder(settings) / "checkpoint.json").unlink(missing_ok=True)


def load_watermark(settings: Settings, stream: Stream) -> str | None:
    data = read_json(stream.folder(settings) / "watermark.json")
    return data.get("watermark") if data else None


def save_watermark(settings: Settings, stream: Stream, day: str, finished_at: str) -> None:
    write_json_atomic(stream.folder(settings) / "watermark.json",
                      {"stream": asdict(stream), "watermark": day, "updated_at": finished_at})
