"""Hand-labelled papers: the ones shipped with the package and the user's own (``--labels FILE``).

A label file has one JSON object per line, ``{"id": "<arXiv id>", "topics": ["<topic id>", ...]}`` (the format of
the gold files; an empty list means "none of the topics"), optionally with ``title``, ``abstract``, ``categories``
and ``submitted``; papers without text are looked up in the warehouse. ``label-sample`` writes such lines with
``"topics": null``: lines still null are skipped (not yet labelled), so a half-filled file can be used.

What a label says depends on who wrote it. A shipped paper was judged against the 16 built-in topics only, so it is
evidence for those topic ids and says nothing about a topic of a custom taxonomy; a paper of a user's file was
judged against the taxonomy in use, so it counts for every topic (``judged``). For the topics whose boundary
labellers draw differently (``FUZZY_TOPICS``) the decision threshold and the error rates are taken from the
reference-style papers (``reference``): the shipped dev set and the user's own labels, whose conventions the
held-out set shares; the train set marks about 1.26x as many vision_model papers.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import orjson
import polars as pl

from analytics.taxonomy import load_taxonomy
from warehouse.errors import InputError

DATA_DIR = Path(__file__).with_name("data")
SHIPPED_FILES = ("train.jsonl.gz", "dev.jsonl.gz")
FUZZY_TOPICS = ("vision_model", "language_model")
REFERENCE_SETS = ("dev", "user")
COLUMNS = {"id": pl.String, "title": pl.String, "abstract": pl.String, "categories": pl.List(pl.String),
           "submitted": pl.Datetime("us", "UTC"), "set": pl.String}

Lookup = Callable[[list[str]], pl.DataFrame]  # ids -> frame with COLUMNS' text columns for those found


@dataclass
class LabelledPapers:
    """Papers (``frame``: COLUMNS) with their topics, and which topic ids each paper's labels judge."""

    frame: pl.DataFrame
    topics: list[list[str]]
    judged: list[tuple[str, ...] | None]  # None: every topic of the taxonomy in use

    def __len__(self) -> int:
        return self.frame.height

    def matrices(self, topic_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(labels, judged)``: boolean (papers, topics) matrices for these topic ids."""
        y = np.array([[t in ts for t in topic_ids] for ts in self.topics], dtype=bool).reshape(len(self), -1)
        judged = np.array([[scope is None or t in scope for t in topic_ids] for scope in self.judged],
                          dtype=bool).reshape(len(self), -1)
        return y, judged

    def reference(self) -> np.ndarray:
        """Papers labelled in the reference style (see ``FUZZY_TOPICS``)."""
        return self.frame["set"].is_in(list(REFERENCE_SETS)).to_numpy()

    def digest(self) -> str:
        """Content hash of ids and topics: part of what makes a saved model current."""
        h = hashlib.sha256()
        for pid, ts, scope in zip(self.frame["id"].to_list(), self.topics, self.judged):
            h.update(orjson.dumps([pid, sorted(ts), scope]))
        return h.hexdigest()[:10]

    def counts(self) -> dict[str, int]:
        return dict(zip(*np.unique(self.frame["set"].to_numpy(), return_counts=True))) if len(self) else {}


def _parse_time(value) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.splitlines()


def _parse(path: Path, set_name: str, known: set[str] | None) -> tuple[list[dict], int]:
    rows, pending = [], 0
    for number, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
            pid, topics = str(row["id"]), row["topics"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: expected {{\"id\": ..., \"topics\": [...]}} ({exc})") from None
        if topics is None:
            pending += 1
            continue
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise InputError(f"{path}:{number}: \"topics\" must be a list of topic ids")
        unknown = sorted(set(topics) - known) if known is not None else []
        if unknown:
            raise InputError(f"{path}:{number}: unknown topic {unknown[0]!r} (not in the taxonomy in use)")
        cats = row.get("categories")
        rows.append({"id": pid, "title": row.get("title"), "abstract": row.get("abstract"),
                     "categories": cats.split() if isinstance(cats, str) else cats,
                     "submitted": _parse_time(row.get("submitted")), "set": set_name, "topics": topics})
    return rows, pending


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{k: r[k] for k in COLUMNS} for r in rows], schema=COLUMNS)


def shipped_labels() -> LabelledPapers:
    """The labelled papers that ship with the package, judged against the 16 built-in topics."""
    builtin = tuple(load_taxonomy().ids)
    rows = []
    for name in SHIPPED_FILES:
        rows += _parse(DATA_DIR / name, name.split(".")[0], set(builtin))[0]
    return LabelledPapers(_frame(rows), [r["topics"] for r in rows], [builtin] * len(rows))


def read_labels(path: str | Path, topic_ids: list[str], lookup: Lookup | None = None) -> tuple[LabelledPapers, int]:
    """A user's label file, checked against ``topic_ids``; papers without a title are filled from ``lookup``.

    Returns the papers and how many lines were skipped as not yet labelled (``"topics": null``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"labels file not found: {path}")
    rows, pending = _parse(path, "user", set(topic_ids))
    if not rows:
        raise InputError(f"{path}: no labelled papers" + (f" ({pending} lines still have \"topics\": null)"
                                                          if pending else ""))
    missing = [r["id"] for r in rows if not r["title"]]
    if missing:
        found = {} if lookup is None else {r["id"]: r for r in lookup(missing).iter_rows(named=True)}
        absent = [pid for pid in missing if pid not in found]
        if absent:
            raise InputError(f"{path}: {len(absent)} labelled papers have no title and are not in the warehouse "
                             f"(first: {absent[0]}); add \"title\" and \"abstract\" to those lines or backfill them")
        for r in rows:
            if not r["title"]:
                r.update({k: found[r["id"]].get(k) for k in ("title", "abstract", "categories", "submitted")})
    return LabelledPapers(_frame(rows), [r["topics"] for r in rows], [None] * len(rows)), pending


def combine(parts: list[LabelledPapers]) -> LabelledPapers:
    """All parts in order; for an id labelled twice, the later part's label wins (a user corrects a shipped one)."""
    frame = pl.concat([p.frame for p in parts]) if parts else _frame([])
    topics = [t for p in parts for t in p.topics]
    judged = [j for p in parts for j in p.judged]
    last = {pid: i for i, pid in enumerate(frame["id"].to_list())}
    keep = sorted(last.values())
    return LabelledPapers(frame[keep], [topics[i] for i in keep], [judged[i] for i in keep])
