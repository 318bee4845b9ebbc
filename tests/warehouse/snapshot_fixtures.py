"""Small hand-written snapshot records (Kaggle schema) for the warehouse tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def record(arxiv_id: str, *, title: str = "A title", versions: int = 1, abstract: str = "An abstract.",
           categories: str = "cs.CL cs.LG", **extra) -> dict:
    days = ["Mon, 2 Apr 2007 19:18:42 GMT", "Tue, 24 Jul 2007 20:10:27 GMT", "Fri, 3 Aug 2007 09:00:00 GMT"]
    return {
        "id": arxiv_id,
        "submitter": "Someone",
        "authors": "C. Bal\\'azs, E. L. Berger and P. M. Nadolsky (Argonne, USA)",
        "title": title,
        "comments": "37 pages",
        "journal-ref": None,
        "doi": "10.1000/xyz",
        "categories": categories,
        "license": None,
        "abstract": abstract,
        "versions": [{"version": f"v{i + 1}", "created": days[i]} for i in range(versions)],
        "update_date": "2008-11-13",
        "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""], ["Nadolsky", "P. M.", ""]],
        **extra,
    }


def write_jsonl(path: Path, records: list, gz: bool = False) -> Path:
    """Write records (dicts, or raw strings for broken lines) as JSON lines."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    data = ("\n".join(lines) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path
