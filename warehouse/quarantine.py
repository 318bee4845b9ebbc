"""Records that could not be imported, kept with where they came from and why (nothing is lost silently)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import orjson

from warehouse.settings import Settings


class Quarantine:
    """Collects bad records of one run into ``<home>/quarantine/<origin>-<UTC time>.jsonl``.

    Lines are ``{"file", "where", "reason", "raw"}``. The file is written next to its final name and renamed
    on ``close``, so a half-written quarantine file never appears; no file is made when nothing was bad.
    """

    def __init__(self, settings: Settings, origin: str):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in origin)[:60] or "import"
        self.path = settings.quarantine_dir / f"{safe}-{stamp}-{os.getpid()}.jsonl"
        self._tmp = self.path.with_name("." + self.path.name + ".tmp")
        self._fh = None
        self.count = 0

    def add(self, where: str, reason: str, raw: object = None) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self._tmp, "wb")
        file, _, loc = str(where).rpartition(":") if ":" in str(where) else (str(where), "", "")
        line = {"file": file, "where": loc or str(where), "reason": reason, "raw": raw}
        self._fh.write(orjson.dumps(line, default=str) + b"\n")
        self.count += 1

    def close(self) -> Path | None:
        """Publish the file; returns its path, or None when nothing was quarantined."""
        if self._fh is None:
            return None
        self._fh.close()
        self._fh = None
        os.replace(self._tmp, self.path)
        return self.path

    def __enter__(self) -> "Quarantine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
