"""One place for every path: all of them derive from the data root (``ARXIV_TRENDS_HOME``).

The data root is a local folder, or a URL that fsspec knows (``s3://bucket/prefix``, ``gs://...``,
``memory://x``, ``file:///abs/path``, ...). With a URL only the warehouse tables live there
(``<url>/warehouse/``); everything that needs a local disk (state with the harvest checkpoints and the
lock file, models, raw pages, reports, quarantine, Prefect's home) lives in a local working folder:
``$ARXIV_TRENDS_LOCAL_HOME`` if set, else ``~/.cache/arxiv-trends/<slug of the url>``. ``Settings.home``
is always that local folder, so every ``home / ...`` path stays a local path; ``Settings.location`` is
the data root as given (what to pass to ``from_home`` to get the same settings back).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "ARXIV_TRENDS_HOME"
LOCAL_HOME_ENV = "ARXIV_TRENDS_LOCAL_HOME"
CONTACT_ENV = "ARXIV_TRENDS_CONTACT"
LOCK_STALE_ENV = "ARXIV_TRENDS_LOCK_STALE_S"
DEFAULT_HOME = "data"
DEFAULT_CONTACT = "arxiv-trends-user@example.org"
DEFAULT_LOCK_STALE_S = 6 * 3600.0  # a remote lease older than this (not renewed) may be taken over

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(://|::)")


def is_url(home: str | os.PathLike | None) -> bool:
    """Whether ``home`` names a location with a protocol (``s3://...``, ``file:///...``, ``a::b://...``)."""
    return isinstance(home, str) and bool(_URL_RE.match(home))


def normalize_url(url: str) -> str:
    """The URL without trailing slashes; a ``file://`` URL made absolute (``file:///abs/path``)."""
    url = url.strip()
    if url.startswith("file://"):
        path = url[len("file://"):]
        return "file://" + str(Path(path or ".").expanduser().resolve())
    head, sep, rest = url.partition("://")
    return f"{head}{sep}{rest.rstrip('/')}" if sep else url.rstrip("/")


def local_home_for(url: str) -> Path:
    """The local working folder of a URL data root (``$ARXIV_TRENDS_LOCAL_HOME``, else under ~/.cache)."""
    chosen = os.environ.get(LOCAL_HOME_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", url).strip("-.")[:80]
    digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:8]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return (cache / "arxiv-trends" / f"{slug}-{digest}").expanduser().resolve()


def _seconds(raw: str | None, default: float) -> float:
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{LOCK_STALE_ENV} must be a number of seconds, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Paths under the data root, plus the contact address sent to arXiv in the User-Agent.

    ``url`` is None for a local data root; for a URL data root it is the (normalised) URL and ``home`` is
    the local working folder.
    """

    home: Path
    contact: str = DEFAULT_CONTACT
    url: str | None = None
    lock_stale_s: float = DEFAULT_LOCK_STALE_S

    @classmethod
    def from_home(cls, home: str | os.PathLike | None = None) -> "Settings":
        """``home`` if given, else ``$ARXIV_TRENDS_HOME``, else ``./data``; a folder or an fsspec URL."""
        chosen = home if home is not None else os.environ.get(HOME_ENV) or DEFAULT_HOME
        contact = os.environ.get(CONTACT_ENV) or DEFAULT_CONTACT
        stale = _seconds(os.environ.get(LOCK_STALE_ENV), DEFAULT_LOCK_STALE_S)
        if is_url(chosen):
            url = normalize_url(str(chosen))
            return cls(home=local_home_for(url), contact=contact, url=url, lock_stale_s=stale)
        return cls(home=Path(chosen).expanduser().resolve(), contact=contact, lock_stale_s=stale)

    @property
    def is_remote(self) -> bool:
        """True when the tables live behind a URL (object storage or any fsspec filesystem)."""
        return self.url is not None

    @property
    def location(self) -> str:
        """The data root as given: its URL, else the local folder (``from_home(location)`` reopens it)."""
        return self.url if self.url is not None else str(self.home)

    @property
    def warehouse_url(self) -> str | None:
        """``<url>/warehouse`` for a URL data root, else None."""
        return f"{self.url}/warehouse" if self.url is not None else None

    @property
    def warehouse_location(self) -> str:
        """Where the tables live, for messages: the warehouse URL, else the local warehouse folder."""
        return self.warehouse_url or str(self.warehouse_dir)

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def warehouse_dir(self) -> Path:
        """The local warehouse folder (for a URL data root: only the local staging area of the writers)."""
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
        """Where readers find table ``name`` of a local data root (a symlink to its current version).

        A URL data root has no such folder: use ``Warehouse.scan`` / ``TableStore.files`` instead.
        """
        if self.url is not None:
            raise ValueError(f"table {name!r} of {self.url} has no local folder; use wh.scan(name) or "
                             "wh.tables.files(name)")
        return self.warehouse_dir / name
