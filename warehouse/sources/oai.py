"""OAI-PMH ``ListRecords`` pages (arXivRaw, arXiv, oai_dc) -> raw records, safely and streaming.

Safety: a page is first checked by defusedxml with ``forbid_dtd=True``. The check stops at the root start tag,
so it costs almost nothing, and without a DTD a document cannot declare entities. So neither an entity bomb
nor an external entity reaches the fast C parser (``xml.etree`` iterparse) that streams the records.

Robustness: when a complete page is not well-formed (one record with a stray ``&`` or a broken tag), the
page is split into its ``<record>`` elements and each is parsed alone: the broken ones come out as
``{"_error": ...}`` (quarantined with the page reference), the rest of the page is kept. A page cut short in
transit (no closing ``</OAI-PMH>``) is a transport failure, never salvaged, so a dropped connection cannot
pass for a short final page.
"""

from __future__ import annotations

import gzip
import io
import re
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

GZIP_MAGIC = b"\x1f\x8b"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
SOURCE_BY_PREFIX = {"arXivRaw": "oai-arXivRaw", "arXiv": "oai-arXiv", "oai_dc": "oai_dc"}  # papers.source
PREFIXES = tuple(SOURCE_BY_PREFIX)


# -- hardened XML (shared with the Atom parser) -----------------------------------------------------------
class UnsafeXMLError(ValueError):
    """The document declares a DTD or entities: refused, never expanded."""


class _RootReached(Exception):
    """Raised by the prolog check once the root element starts: no DTD can follow it."""


class _StopAtRoot:
    """defusedxml parser target that ends the check at the root element."""

    def start(self, tag: str, attrib: dict) -> None:
        raise _RootReached

    def close(self) -> None:
        return None


def check_no_dtd(data: bytes) -> None:
    """Raise ``UnsafeXMLError`` if ``data`` has a DOCTYPE or entity declarations before its root element."""
    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
    except _RootReached:
        return
    except DefusedXmlException as exc:
        raise UnsafeXMLError(f"refused unsafe XML ({type(exc).__name__}): DTDs and entities are not allowed") from exc
    except ET.ParseError:
        return  # not well-formed before the root: the real parse reports it


def safe_iterparse(data: bytes, events: tuple[str, ...] = ("end",)) -> Iterator[tuple[str, ET.Element]]:
    """Streaming C-accelerated parse of ``data``, after the DTD check."""
    check_no_dtd(data)
    return ET.iterparse(io.BytesIO(data), events=events)


def safe_fromstring(data: bytes) -> ET.Element:
    """Parse a small document, after the DTD check."""
    check_no_dtd(data)
    return ET.fromstring(data)


_LOCAL: dict[str, str] = {}


def local(tag: str) -> str:
    """Local name of a ``{namespace}name`` tag (cached: a page repeats a few dozen tags)."""
    name = _LOCAL.get(tag)
    if name is None:
        name = _LOCAL[tag] = tag.rpartition("}")[2]
    return name


def read_maybe_gzip(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == GZIP_MAGIC
    if gz:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return Path(path).read_bytes()


def head_bytes(head: bytes, limit: int = 4096) -> bytes:
    """The first bytes of a file's content (gunzipped when ``head`` is the start of a gzip file)."""
    if head[:2] == GZIP_MAGIC:
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, limit)
        except zlib.error:
            return b""
    return head[:limit]


def where_of(path: Path) -> str:
    """A page reference for quarantine: the path from its ``raw/`` folder on, else the path as given."""
    parts = Path(path).parts
    if "raw" in parts:
        idx = len(parts) - 1 - parts[::-1].index("raw")
        return "/".join(parts[idx:])
    return str(path)


# -- page errors --------------------------------------------------------------------------------------------
class PageError(ValueError):
    """A response that is not a usable OAI-PMH page (cut short, or not OAI-PMH at all)."""


class TruncatedPageError(PageError):
    """The page ends before ``</OAI-PMH>``: the transfer was cut."""


class NotOAIPageError(PageError):
    """The response is not an OAI-PMH document (a proxy's HTML error page, say)."""


@dataclass
class OAIPage:
    """One parsed ListRecords response."""

    records: list[dict] = field(default_factory=list)
    token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    error_code: str | None = None
    error_message: str = ""
    salvaged: bool = False


# -- record extraction --------------------------------------------------------------------------------------
_RAW_FIELDS = {"title": "title", "authors": "authors", "categories": "categories", "comments": "comments",
               "report-no": "report-no", "journal-ref": "journal-ref", "doi": "doi", "license": "license",
               "abstract": "abstract", "submitter": "submitter", "msc-class": "msc-class", "acm-class": "acm-class"}
_VERSION_SUFFIX = re.compile(r"v\d+$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# arXiv's oai_dc gives subjects as names ("Computer Science - Machine Learning"); these are the default sets'.
_DC_ARCHIVES = {"Computer Science": "cs", "Statistics": "stat", "Quantitative Biology": "q-bio"}
_DC_NAMES = {
    "cs": {"Artificial Intelligence": "AI", "Hardware Architecture": "AR", "Computational Complexity": "CC",
           "Computational Engineering, Finance, and Science": "CE", "Computational Geometry": "CG",
           "Computation and Language": "CL", "Cryptography and Security": "CR",
           "Computer Vision and Pattern Recognition": "CV", "Computers and Society": "CY", "Databases": "DB",
           "Distributed, Parallel, and Cluster Computing": "DC", "Digital Libraries": "DL",
           "Discrete Mathematics": "DM", "Data Structures and Algorithms": "DS", "Emerging Technologies": "ET",
           "Formal Languages and Automata Theory": "FL", "General Literature": "GL", "Graphics": "GR",
           "Computer Science and Game Theory": "GT", "Human-Computer Interaction": "HC",
           "Information Retrieval": "IR", "Information Theory": "IT", "Machine Learning": "LG",
           "Logic in Computer Science": "LO", "Multiagent Systems": "MA", "Multimedia": "MM",
           "Mathematical Software": "MS", "Numerical Analysis": "NA", "Neural and Evolutionary Computing": "NE",
           "Networking and Internet Architecture": "NI", "Other Computer Science": "OH",
           "Operating Systems": "OS", "Performance": "PF", "Programming Languages": "PL", "Robotics": "RO",
           "Symbolic Computation": "SC", "Sound": "SD", "Software Engineering": "SE",
           "Social and Information Networks": "SI", "Systems and Control": "SY"},
    "stat": {"Applications": "AP", "Computation": "CO", "Methodology": "ME", "Machine Learning": "ML",
             "Other Statistics": "OT", "Statistics Theory": "TH"},
    "q-bio": {"Biomolecules": "BM", "Cell Behavior": "CB", "Genomics": "GN", "Molecular Networks": "MN",
              "Neurons and Cognition": "NC", "Other Quantitative Biology": "OT",
              "Populations and Evolution": "PE", "Quantitative Methods": "QM", "Subcellular Processes": "SC",
              "Tissues and Organs": "TO"},
}
_CATEGORY_CODE = re.compile(r"^[a-z-]+(?:\.[A-Za-z-]+)?$")


def strip_oai_id(identifier: str) -> str:
    """``oai:arXiv.org:hep-th/9901001v2`` -> ``hep-th/9901001``."""
    ident = identifier.strip()
    if ident.startswith("oai:"):
        ident = ident.split(":", 2)[-1]
    return _VERSION_SUFFIX.sub("", ident)


def rfc2822_midnight(iso_day: str) -> str | None:
    """``2017-06-16`` -> ``Fri, 16 Jun 2017 00:00:00 GMT`` (the versions[].created style of arXivRaw)."""
    try:
        day = date.fromisoformat(iso_day.strip()[:10])
    except ValueError:
        return None
    return f"{_DAYS[day.weekday()]}, {day.day} {_MONTHS[day.month - 1]} {day.year} 00:00:00 GMT"


def _text(elem: ET.Element) -> str | None:
    text = elem.text
    return text if text and not text.isspace() else None


def _copy_text_field(rec: dict, name: str, child: ET.Element) -> None:
    """Copy an element that maps one-to-one onto a raw-record field (title, abstract, doi, ...), if non-blank."""
    key = _RAW_FIELDS.get(name)
    text = _text(child) if key is not None else None
    if text is not None:
        rec[key] = text


def _arxiv_raw(fmt: ET.Element) -> dict:
    rec: dict = {"x_source": SOURCE_BY_PREFIX["arXivRaw"]}
    versions = []
    for child in fmt:
        name = local(child.tag)
        if name == "version":
            created = None
            for part in child:
                if local(part.tag) == "date":
                    created = (part.text or "").strip() or None
            versions.append({"version": child.get("version"), "created": created})
        elif name == "id":
            rec["id"] = (child.text or "").strip()
        else:
            _copy_text_field(rec, name, child)
    if versions:
        rec["versions"] = versions
    return rec


def _author_name(author: ET.Element) -> str:
    parts = {local(p.tag): (p.text or "").strip() for p in author}
    return " ".join(p for p in (parts.get("forenames"), parts.get("keyname"), parts.get("suffix")) if p)


def _arxiv(fmt: ET.Element) -> dict:
    rec: dict = {"x_source": SOURCE_BY_PREFIX["arXiv"]}
    for child in fmt:
        name = local(child.tag)
        if name == "id":
            rec["id"] = (child.text or "").strip()
        elif name == "created":
            created = rfc2822_midnight(child.text or "")
            rec["versions"] = [{"version": "v1", "created": created or (child.text or "").strip()}]
        elif name == "updated":
            rec["update_date"] = (child.text or "").strip()
        elif name == "authors":
            rec["authors"] = [n for n in (_author_name(a) for a in child) if n]
        else:
            _copy_text_field(rec, name, child)
    return rec


def _dc_author(creator: str) -> str:
    """arXiv's dc:creator is ``Keyname, Forenames``; the papers table wants ``Forenames Keyname``."""
    last, sep, first = creator.partition(",")
    return f"{first.strip()} {last.strip()}".strip() if sep else creator.strip()


def _dc_category(subject: str) -> str | None:
    subject = subject.strip()
    if _CATEGORY_CODE.match(subject) and "." in subject:
        return subject
    archive_name, sep, name = subject.partition(" - ")
    archive = _DC_ARCHIVES.get(archive_name.strip()) if sep else None
    code = _DC_NAMES.get(archive, {}).get(name.strip()) if archive else None
    return f"{archive}.{code}" if code else None


def _oai_dc(fmt: ET.Element) -> dict:
    rec: dict = {"x_source": SOURCE_BY_PREFIX["oai_dc"]}
    authors, dates, cats, descriptions = [], [], [], []
    for child in fmt:
        name = local(child.tag)
        text = _text(child)
        if text is None:
            continue
        if name == "title":
            rec["title"] = text
        elif name == "creator":
            authors.append(_dc_author(text))
        elif name == "subject":
            cat = _dc_category(text)
            if cat and cat not in cats:
                cats.append(cat)
        elif name == "description":
            descriptions.append(text)
        elif name == "date":
            dates.append(text.strip())
        elif name == "identifier":
            ident = text.strip()
            if "arxiv.org/abs/" in ident:
                rec["id"] = _VERSION_SUFFIX.sub("", ident.rsplit("/abs/", 1)[1])
            elif ident.lower().startswith("doi:"):
                rec["doi"] = ident[4:].strip()
        elif name == "rights":
            rec["license"] = text.strip()
    for text in descriptions:
        if text.lstrip().startswith("Comment:"):
            rec["comments"] = text.lstrip()[len("Comment:"):].strip()
        elif "abstract" not in rec:
            rec["abstract"] = text
    if authors:
        rec["authors"] = authors
    if cats:
        rec["x_source_categories"] = cats
    if dates:
        created = rfc2822_midnight(dates[0])
        rec["versions"] = [{"version": "v1", "created": created or dates[0]}]
        if len(dates) > 1:
            rec["update_date"] = dates[-1]
    return rec


_FORMATS = {"arXivRaw": _arxiv_raw, "arXiv": _arxiv, "dc": _oai_dc}


def _error(reason: str, where: str, raw: str) -> dict:
    return {"_error": reason, "_where": where, "_raw": raw}


def record_from_element(elem: ET.Element, where: str) -> dict:
    """One ``<record>`` element -> a raw record, a ``_deleted`` marker or an ``_error``."""
    header = metadata = None
    for child in elem:
        name = local(child.tag)
        if name == "header":
            header = child
        elif name == "metadata":
            metadata = child
    if header is None:
        return _error("record without header", where, ET.tostring(elem, encoding="unicode"))
    identifier = datestamp = None
    for child in header:
        name = local(child.tag)
        if name == "identifier":
            identifier = (child.text or "").strip() or None
        elif name == "datestamp":
            datestamp = (child.text or "").strip() or None
    if header.get("status") == "deleted":
        if identifier is None:
            return _error("deleted record without identifier", where, ET.tostring(elem, encoding="unicode"))
        return {"_deleted": True, "id": strip_oai_id(identifier), "_where": where, "x_datestamp": datestamp}
    if metadata is None or len(metadata) == 0:
        return _error("record without metadata", where, ET.tostring(elem, encoding="unicode"))
    fmt = metadata[0]
    extract = _FORMATS.get(local(fmt.tag))
    if extract is None:
        return _error(f"unknown metadata format <{local(fmt.tag)}>", where, ET.tostring(elem, encoding="unicode"))
    rec = extract(fmt)
    rec_id = rec.get("id") or (strip_oai_id(identifier) if identifier else None)
    if not rec_id:
        return _error("record without id", where, ET.tostring(elem, encoding="unicode"))
    rec["id"] = _VERSION_SUFFIX.sub("", rec_id)
    rec["x_datestamp"] = datestamp
    rec["_where"] = where
    return rec


# -- pages --------------------------------------------------------------------------------------------------
def _int_attr(elem: ET.Element, name: str) -> int | None:
    value = elem.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _take_control(page: OAIPage, elem: ET.Element, name: str) -> None:
    if name == "resumptionToken":
        page.token = (elem.text or "").strip() or None
        page.complete_list_size = _int_attr(elem, "completeListSize")
        page.cursor = _int_attr(elem, "cursor")
    elif name == "error":
        page.error_code = elem.get("code") or "unknown"
        page.error_message = " ".join((elem.text or "").split())


_RECORD_TAG = f"{{{OAI_NS}}}record"
_CONTROL_TAGS = {f"{{{OAI_NS}}}resumptionToken": "resumptionToken", f"{{{OAI_NS}}}error": "error"}
_ROOT_TAG = f"{{{OAI_NS}}}OAI-PMH"


def _parse_stream(data: bytes, where: str) -> OAIPage:
    page = OAIPage()
    records = page.records
    root = None
    for _event, elem in safe_iterparse(data):
        tag = elem.tag  # compared whole: no per-element string work in this hot loop
        if tag == _RECORD_TAG:
            records.append(record_from_element(elem, f"{where}#{len(records) + 1}"))
            elem.clear()
        elif tag in _CONTROL_TAGS:
            _take_control(page, elem, _CONTROL_TAGS[tag])
        root = elem
    if root is None or root.tag != _ROOT_TAG:
        raise NotOAIPageError(f"{where}: not an OAI-PMH response (root <{root.tag if root is not None else ''}>)")
    return page


_Q = rb"(?:[\w.-]+:)?"
_ROOT_OPEN = re.compile(rb"<(" + _Q + rb"OAI-PMH)\b[^>]*>")
_ROOT_CLOSE = re.compile(rb"</" + _Q + rb"OAI-PMH\s*>\s*$")
_RECORD = re.compile(rb"<" + _Q + rb"record[\s>].*?</" + _Q + rb"record\s*>", re.S)
_CONTROL = re.compile(rb"<" + _Q + rb"(?:resumptionToken|error)\b[^>]*?(?:/>|>.*?</" + _Q
                      + rb"(?:resumptionToken|error)\s*>)", re.S)


def _salvage(data: bytes, where: str, cause: ET.ParseError) -> OAIPage:
    """Parse a complete but ill-formed page record by record; the broken ones become ``_error``."""
    opening = _ROOT_OPEN.search(data)
    if opening is None:
        raise NotOAIPageError(f"{where}: not an OAI-PMH response ({cause})")
    head, close = opening.group(0), b"</" + opening.group(1) + b">"
    page = OAIPage(salvaged=True)
    end = opening.end()
    for n, match in enumerate(_RECORD.finditer(data, end), start=1):
        chunk = match.group(0)
        ref = f"{where}#{n}"
        try:
            wrapper = ET.fromstring(head + chunk + close)
        except ET.ParseError as exc:
            page.records.append(_error(f"malformed XML: {exc}", ref, chunk.decode("utf-8", "replace")))
        else:
            page.records.append(record_from_element(wrapper[0], ref))
        end = match.end()
    for match in _CONTROL.finditer(data, end):
        try:
            elem = ET.fromstring(head + match.group(0) + close)[0]
        except ET.ParseError:
            continue
        _take_control(page, elem, local(elem.tag))
    return page


def parse_page(data: bytes, where: str) -> OAIPage:
    """Parse one ListRecords response. Raises ``UnsafeXMLError`` or ``PageError`` for unusable pages."""
    try:
        return _parse_stream(data, where)
    except ET.ParseError as exc:
        if not _ROOT_CLOSE.search(data[-256:]):
            raise TruncatedPageError(f"{where}: page cut short ({exc})") from exc
        return _salvage(data, where, exc)


# -- backfill interface -------------------------------------------------------------------------------------
def sniff(head: bytes) -> bool:
    """Is this (the start of) an OAI-PMH response, plain or gzip?"""
    text = head_bytes(head)
    return b"OAI-PMH" in text and OAI_NS.encode() in text


def iter_file_records(path: str | Path) -> Iterator[dict]:
    """Records of one saved OAI-PMH page (``.xml`` or ``.xml.gz``), for ``arxiv-trends backfill``.

    An unusable page yields one ``_error`` record naming it, so a rebuild reports it instead of stopping.
    """
    where = where_of(Path(path))
    try:
        data = read_maybe_gzip(Path(path))
    except (OSError, EOFError, zlib.error) as exc:
        yield _error(f"unreadable page: {exc}", where, "")
        return
    try:
        page = parse_page(data, where)
    except (UnsafeXMLError, PageError) as exc:
        yield _error(str(exc), where, data[:2000].decode("utf-8", "replace"))
        return
    yield from page.records
