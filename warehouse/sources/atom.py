"""arXiv API (Atom) feeds -> raw records, with the feed's paging numbers and its error entries."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from warehouse.sources.oai import (PageError, UnsafeXMLError, head_bytes, local, read_maybe_gzip, safe_iterparse,
                                   where_of)

ATOM_NS = "http://www.w3.org/2005/Atom"
_ABS_ID = re.compile(r"/abs/(.+)$")  # keeps the vN suffix: normalisation turns it into `version`
_TEXT_FIELDS = {"title": "title", "summary": "abstract", "published": "x_published", "updated": "x_updated",
                "doi": "doi", "journal_ref": "journal-ref", "comment": "comments"}


@dataclass
class AtomPage:
    """One API response: entries plus the OpenSearch paging numbers."""

    records: list[dict] = field(default_factory=list)
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None
    error: str | None = None


def _entry(elem: ET.Element, where: str) -> dict:
    rec: dict = {"x_source": "atom"}
    authors, cats, primary, raw_id = [], [], None, None
    for child in elem:
        name = local(child.tag)
        if name == "id":
            raw_id = (child.text or "").strip()
        elif name == "author":
            for part in child:
                if local(part.tag) == "name" and part.text and part.text.strip():
                    authors.append(part.text.strip())
        elif name == "category":
            term = child.get("term")
            if term and term not in cats:
                cats.append(term)
        elif name == "primary_category":
            primary = child.get("term")
        else:
            key = _TEXT_FIELDS.get(name)
            if key is not None and child.text and child.text.strip():
                rec[key] = child.text
    if raw_id and "/api/errors" in raw_id:
        return {"_api_error": (rec.get("abstract") or raw_id).strip()}
    match = _ABS_ID.search(raw_id or "")
    if match is None:
        return {"_error": f"entry without an arXiv abs id ({raw_id!r})", "_where": where,
                "_raw": ET.tostring(elem, encoding="unicode")}
    rec["id"] = match.group(1)
    if primary:
        cats = [primary] + [c for c in cats if c != primary]
    if cats:
        rec["categories"] = " ".join(cats)
    if authors:
        rec["authors"] = authors
    rec["_where"] = where
    return rec


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def parse_feed(data: bytes, where: str) -> AtomPage:
    """Parse one Atom response (after the DTD check). Raises ``UnsafeXMLError`` / ``PageError``."""
    page = AtomPage()
    root = None
    try:
        for _event, elem in safe_iterparse(data):
            name = local(elem.tag)
            if name == "entry":
                rec = _entry(elem, f"{where}#{len(page.records) + 1}")
                if "_api_error" in rec:
                    page.error = rec["_api_error"]
                else:
                    page.records.append(rec)
                elem.clear()
            elif name == "totalResults":
                page.total_results = _int(elem.text)
            elif name == "startIndex":
                page.start_index = _int(elem.text)
            elif name == "itemsPerPage":
                page.items_per_page = _int(elem.text)
            root = elem
    except ET.ParseError as exc:
        raise PageError(f"{where}: not a complete Atom feed ({exc})") from exc
    if root is None or local(root.tag) != "feed":
        raise PageError(f"{where}: not an Atom feed")
    return page


def sniff(head: bytes) -> bool:
    """Is this (the start of) an Atom feed, plain or gzip?"""
    text = head_bytes(head)
    return b"<feed" in text and ATOM_NS.encode() in text


def iter_file_records(path: str | Path) -> Iterator[dict]:
    """Entries of one saved Atom feed (``.xml`` or ``.xml.gz``), for ``arxiv-trends backfill``."""
    where = where_of(Path(path))
    try:
        data = read_maybe_gzip(Path(path))
        page = parse_feed(data, where)
    except (OSError, EOFError, zlib.error, UnsafeXMLError, PageError) as exc:
        yield {"_error": f"unusable Atom feed: {exc}", "_where": where, "_raw": ""}
        return
    if page.error:
        yield {"_error": f"arXiv API error feed: {page.error}", "_where": where, "_raw": page.error}
    yield from page.records
