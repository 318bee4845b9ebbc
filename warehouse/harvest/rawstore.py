"""Responses kept as received, gzip'ed, under ``<home>/raw/``, written before they are parsed.

So the warehouse can always be rebuilt with ``arxiv-trends backfill <home>/raw`` without asking arXiv again.
Files appear atomically (temp file + rename): a killed harvest never leaves half a page behind.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from pathlib import Path

from typing import Callable, TypeVar

from warehouse.harvest.errors import HarvestError, RetryableError
from warehouse.harvest.http import Fetched
from warehouse.settings import Settings
from warehouse.sources.oai import PageError, UnsafeXMLError

Page = TypeVar("Page")

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def path_part(text: str) -> str:
    """A file-name-safe form of a host, set or query (no ``:`` or ``/``, which would confuse page references)."""
    return _UNSAFE.sub("_", text).strip("_") or "_"


def save_page(settings: Settings, rel: str, content: bytes, level: int = 3) -> Path:
    """Write ``content`` gzip'ed to ``<home>/<rel>`` atomically; returns the path.

    Level 3: an arXiv page shrinks to about 30 % at a third of the cost of the default level 6.
    """
    path = settings.home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                       compresslevel=level, mtime=0) as gz:
            gz.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_page(settings: Settings, rel: str) -> bytes:
    """The bytes of a saved page, as received."""
    with gzip.open(settings.home / rel, "rb") as fh:
        return fh.read()


def keep_and_parse(settings: Settings, fetched: Fetched, rel: str, parse: Callable[[bytes, str], Page]) -> Page:
    """Save a response under ``raw/`` first, then parse it; a bad page is retried, a bad HTTP status is fatal."""
    save_page(settings, rel, fetched.content)
    try:
        page = parse(fetched.content, rel)
    except UnsafeXMLError as exc:
        raise RetryableError(f"page refused: {exc}") from exc
    except PageError as exc:
        if fetched.status != 200:
            raise HarvestError(f"HTTP {fetched.status} from {fetched.url}") from exc
        raise RetryableError(str(exc)) from exc
    return page
