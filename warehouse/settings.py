"""One place for every path: all of them derive from the data root (``ARXIV_TRENDS_HOME``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "ARXIV_TRENDS_HOME"
CONTACT_ENV = "ARXIV_TRENDS_CONTACT"
DEFAULT_HOME = "data"
DEFAULT_CONTACT = "arxiv-trends-user@example.org"


@dataclass(frozen=True)
class Settings:
    """Paths under the data root, plus the contact address sent to arXiv in the User-Agent."""

    home: Path
    contact: str = DEFAULT_CONTACT

    @classmethod
    def from_home(cls, home: str | os.PathLike | None = None) -> "Settings":
        """``home`` if given, else ``$ARXIV_TRENDS_HOME``, else ``./data``."""
        chosen = home if home is not None else os.environ.get(HOME_ENV) or DEFAULT_HOME
        contact = os.environ.get(CONTACT_ENV) or DEFAULT_CONTACT
        return cls(home=Path(chosen).expanduser().resolve(), contact=contact)

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    def table_dir(self, name: str) -> Path:
        """Where readers find table ``name`` (a symlink to its current version)."""
        return self.warehouse_dir / name
