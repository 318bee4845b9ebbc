"""A local fake of arXiv's OAI-PMH and API endpoints, for tests and the bench (127.0.0.1, no network).

It serves arXivRaw ListRecords pages with resumptionTokens and Atom API pages, rendered from Kaggle-shaped
records, and can be told to misbehave on given request numbers: 503/429 with Retry-After, 500, a token that
has expired, a dropped connection mid-page, a page cut short, an XML bomb, a proxy's HTML page, a spuriously
empty API page. It can also reject every resumptionToken for a while (``token_outage``, on its clock: a
restart or deploy on the server's side) or at random (``token_loss``). Deleted and malformed records are
content, not faults: see ``FakeRecord``.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

OAI_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
            'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n')
RAW_OPEN = ('<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://arxiv.org/OAI/arXivRaw/ http://arxiv.org/OAI/arXivRaw.xsd">')
BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
        + ']>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
        '<identifier>oai:arXiv.org:2501.99999</identifier><datestamp>2025-01-02</datestamp></header><metadata>'
        '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>2501.99999</id><title>&lol9;</title></arXivRaw>'
        '</metadata></record></ListRecords></OAI-PMH>\n')
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PLAIN_ARCHIVES = {"cs", "stat", "q-bio", "math", "eess", "econ", "q-fin", "nlin"}


def rfc2822(moment: datetime) -> str:
    return (f"{_DAYS[moment.weekday()]}, {moment.day} {_MONTHS[moment.month - 1]} {moment.year} "
            f"{moment:%H:%M:%S} GMT")


def set_spec(category: str) -> str:
    """arXiv's OAI set of a category: ``cs.CL`` -> ``cs``, ``hep-th`` -> ``physics:hep-th``."""
    archive = category.split(".")[0]
    return archive if archive in _PLAIN_ARCHIVES else f"physics:{archive}"


@dataclass
class FakeRecord:
    """One record as the fake serves it; ``xml`` is the whole ``<record>`` element."""

    id: str
    datestamp: str
    sets: tuple[str, ...]
    xml: str
    source: dict = field(default_factory=dict)


def render_arxiv_raw(rec: dict, datestamp: str, v1: datetime) -> FakeRecord:
    """A Kaggle-shaped record as an arXivRaw ``<record>`` (versions rendered, or one v1 at ``v1``)."""
    cats = rec.get("categories") or ""
    sets = tuple(dict.fromkeys(set_spec(c) for c in cats.split())) or ("cs",)
    versions = rec.get("versions") or [{"version": "v1", "created": rfc2822(v1)}]
    authors = rec.get("authors")
    if isinstance(authors, list):
        authors = ", ".join(authors)
    parts = [f"<id>{escape(rec['id'])}</id>"]
    if rec.get("submitter"):
        parts.append(f"<submitter>{escape(rec['submitter'])}</submitter>")
    for v in versions:
        parts.append(f"<version version={quoteattr(v['version'])}><date>{escape(v['created'])}</date>"
                     "<size>120kb</size><source_type>D</source_type></version>")
    for tag, key in (("title", "title"), ("authors", None), ("categories", "categories"), ("comments", "comments"),
                     ("journal-ref", "journal-ref"), ("doi", "doi"), ("license", "license"),
                     ("abstract", "abstract")):
        value = authors if key is None else rec.get(key)
        if value:
            parts.append(f"<{tag}>{escape(value)}</{tag}>")
    header = "".join(f"<setSpec>{s}</setSpec>" for s in sets)
    xml = (f"<record><header><identifier>oai:arXiv.org:{rec['id']}</identifier><datestamp>{datestamp}</datestamp>"
           f"{header}</header><metadata>{RAW_OPEN}{''.join(parts)}</arXivRaw></metadata></record>\n")
    return FakeRecord(rec["id"], datestamp, sets, xml, rec)


def deleted_record(arxiv_id: str, datestamp: str, sets: tuple[str, ...] = ("cs",)) -> FakeRecord:
    header = "".join(f"<setSpec>{s}</setSpec>" for s in sets)
    xml = (f'<record><header status="deleted"><identifier>oai:arXiv.org:{arxiv_id}</identifier>'
           f"<datestamp>{datestamp}</datestamp>{header}</header></record>\n")
    return FakeRecord(arxiv_id, datestamp, sets, xml)


def malformed_record(arxiv_id: str, datestamp: str, sets: tuple[str, ...] = ("cs",)) -> FakeRecord:
    """A record whose title has a bare ``&`` and an unclosed tag: the page around it is still fine."""
    header = "".join(f"<setSpec>{s}</setSpec>" for s in sets)
    xml = (f"<record><header><identifier>oai:arXiv.org:{arxiv_id}</identifier><datestamp>{datestamp}</datestamp>"
           f"{header}</header><metadata>{RAW_OPEN}<id>{arxiv_id}</id><title>Cats & dogs <i>unclosed</title>"
           "<categories>cs.CL</categories></arXivRaw></metadata></record>\n")
    return FakeRecord(arxiv_id, datestamp, sets, xml)


def synthetic_records(n: int, start: str = "2025-01-01", per_day: int = 10,
                      category: str = "cs.CL") -> list[FakeRecord]:
    """``n`` small made-up records, ``per_day`` per datestamp from ``start`` (ids 2501.00001 on)."""
    day0 = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
    out = []
    for i in range(n):
        day = day0 + timedelta(days=i // per_day)
        rec = {"id": f"2501.{i + 1:05d}", "title": f"Synthetic paper {i + 1}", "authors": "A. Author, B. Author",
               "categories": category, "abstract": f"Abstract number {i + 1}."}
        out.append(render_arxiv_raw(rec, day.date().isoformat(), day - timedelta(hours=6)))
    return out


def records_from_jsonl(path: Path, limit: int) -> list[FakeRecord]:
    """Real records from ../shared/data (JSON lines, gzip), with datestamps from their listing/published date."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            when = rec.get("x_listing_date") or (rec.get("x_published") or "")[:10]
            if not when or not rec.get("title"):
                continue
            day = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
            out.append(render_arxiv_raw(rec, day.date().isoformat(), day - timedelta(hours=6)))
            if len(out) >= limit:
                break
    return out


def list_records_page(records: list[FakeRecord], token: str | None, cursor: int, total: int,
                      request: str = "") -> bytes:
    body = [OAI_HEAD, "<responseDate>2026-11-23T00:00:00Z</responseDate>",
            f'<request verb="ListRecords">{escape(request)}</request>\n<ListRecords>\n']
    body.extend(r.xml for r in records)
    if token is not None or cursor:
        body.append(f'<resumptionToken cursor="{cursor}" completeListSize="{total}">{escape(token or "")}'
                    "</resumptionToken>\n")
    body.append("</ListRecords>\n</OAI-PMH>\n")
    return "".join(body).encode("utf-8")


def oai_error(code: str, message: str = "") -> bytes:
    return (OAI_HEAD + "<responseDate>2026-11-23T00:00:00Z</responseDate><request>http://127.0.0.1/oai</request>"
            f'<error code="{code}">{escape(message)}</error></OAI-PMH>\n').encode()


def atom_entry(rec: dict) -> str:
    cats = (rec.get("categories") or "cs.CL").split()
    published = rec.get("x_published") or "2025-01-01T00:00:00Z"
    authors = rec.get("authors") or ""
    names = authors if isinstance(authors, list) else [a.strip() for a in authors.split(",") if a.strip()]
    return ("<entry>"
            f"<id>http://arxiv.org/abs/{escape(rec['id'])}v1</id><updated>{published}</updated>"
            f"<published>{published}</published><title>{escape(rec['title'])}</title>"
            f"<summary>{escape(rec.get('abstract') or '')}</summary>"
            + "".join(f"<author><name>{escape(n)}</name></author>" for n in names)
            + f'<arxiv:primary_category term="{cats[0]}"/>'
            + "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in cats)
            + "</entry>\n")


def atom_feed(entries: list[dict], total: int, start: int, per_page: int) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">'
            "<id>https://arxiv.org/api/fake</id><title>arXiv Query</title>"
            f"<opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>"
            f"<opensearch:totalResults>{total}</opensearch:totalResults>"
            f"<opensearch:startIndex>{start}</opensearch:startIndex>\n"
            + "".join(atom_entry(e) for e in entries) + "</feed>\n").encode()


class FakeClock:
    """A monotonic clock that only moves when slept on: timing is checked without sleeping."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


_CAT_TERM = re.compile(r"cat:([\w.-]+)")
_DATE_RANGE = re.compile(r"submittedDate:\[(\d{8})\d{4} TO (\d{8})\d{4}\]")


class _QuietServer(ThreadingHTTPServer):
    """A client that was killed or hung up mid-response is part of the tests, not an error to print."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeArxiv:
    """The fake server. ``faults[n]`` (1-based, counted over all requests) makes request ``n`` misbehave:

    ``"503"``/``"429"`` (Retry-After: ``retry_after``), ``"503-date"`` (Retry-After as an HTTP date),
    ``"500"``, ``"drop"`` (connection closed mid-body), ``"truncate"`` (a complete HTTP response holding half
    a page), ``"bomb"``, ``"html"``, ``"expire"`` (all tokens forgotten: answers badResumptionToken),
    ``"empty"`` (an API page with no entries).
    """

    def __init__(self, records: list[FakeRecord] | None = None, page_size: int = 100,
                 api_entries: list[dict] | None = None, retry_after: int = 2, latency: float = 0.0,
                 clock=time.monotonic):
        self.records = sorted(records or [], key=lambda r: (r.datestamp, r.id))
        self.page_size = page_size
        self.api_entries = api_entries or []
        self.retry_after = retry_after
        self.latency = latency
        self.clock = clock  # stamps the request log: pass the harvest's FakeClock to check its timing
        self.faults: dict[int, str] = {}
        self.token_outage: tuple[float, float] | None = None  # [start, end) on ``clock``: every token rejected
        self.token_loss = 0.0  # chance that a token is rejected at random (see ``lose_tokens``)
        self.tokens_rejected = 0
        self._rng = random.Random(0)
        self.log: list[dict] = []
        self.user_agents: set[str] = set()
        self._sessions: dict[str, tuple] = {}
        self._session_seq = 0
        self._lock = threading.Lock()
        self._server: _QuietServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}" if self._server else "http://fake.invalid"

    @property
    def oai_url(self) -> str:
        return self.base + "/oai"

    @property
    def api_url(self) -> str:
        return self.base + "/api/query"

    def start(self) -> "FakeArxiv":
        """Listen on 127.0.0.1 (a free port). Without ``start`` the fake still answers ``oai_response``."""
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeArxiv":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def requests(self) -> int:
        return len(self.log)

    # -- OAI-PMH ---------------------------------------------------------------------------------------------
    def _select(self, prefix: str, start: str, until: str, spec: str) -> list[FakeRecord]:
        def in_set(r: FakeRecord) -> bool:
            return not spec or any(s == spec or s.startswith(spec + ":") for s in r.sets)
        return [r for r in self.records if start <= r.datestamp <= until and in_set(r)]

    def oai_response(self, params: dict[str, str]) -> bytes:
        if params.get("verb") != "ListRecords":
            return oai_error("badVerb", "only ListRecords is faked")
        token = params.get("resumptionToken")
        if token is not None:
            if set(params) != {"verb", "resumptionToken"}:
                return oai_error("badArgument", "resumptionToken is exclusive")
            session, _, offset = token.partition("|")
            query = self._sessions.get(session)
            if query is None or not offset.isdigit() or self._refuse_token():
                self.tokens_rejected += 1
                return oai_error("badResumptionToken", "Error from database (noDataForResultSet - may have expired)")
            prefix, start, until, spec = query
            offset_n = int(offset)
        else:
            prefix = params.get("metadataPrefix", "")
            if prefix != "arXivRaw":
                return oai_error("cannotDisseminateFormat", f"Format {prefix!r} not served by this fake")
            start, until = params.get("from", "0000-00-00"), params.get("until", "9999-99-99")
            spec = params.get("set", "")
            if not all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in (start, until)) or start > until:
                return oai_error("badArgument", f"bad dates from={start} until={until}")
            offset_n = 0
        chosen = self._select(prefix, start, until, spec)
        if not chosen:
            return oai_error("noRecordsMatch")
        page = chosen[offset_n:offset_n + self.page_size]
        nxt = offset_n + self.page_size
        next_token = None
        if nxt < len(chosen):
            with self._lock:
                self._session_seq += 1
                session = str(7000000 + self._session_seq)
                self._sessions[session] = (prefix, start, until, spec)
            next_token = f"{session}|{nxt}"
        return list_records_page(page, next_token, offset_n, len(chosen), self.oai_url)

    def lose_tokens(self, rate: float, seed: int) -> None:
        """Reject each resumptionToken with probability ``rate``, from a seeded generator."""
        self.token_loss, self._rng = rate, random.Random(seed)

    def _refuse_token(self) -> bool:
        if self.token_outage is not None and self.token_outage[0] <= self.clock() < self.token_outage[1]:
            return True
        return self.token_loss > 0 and self._rng.random() < self.token_loss

    def expire_tokens(self) -> None:
        with self._lock:
            self._sessions.clear()

    # -- API -------------------------------------------------------------------------------------------------
    def api_response(self, params: dict[str, str]) -> bytes:
        q = params.get("search_query", "")
        chosen = self.api_entries
        cats = _CAT_TERM.findall(q)
        if cats:
            chosen = [e for e in chosen if set(cats) & set((e.get("categories") or "").split())]
        rng = _DATE_RANGE.search(q)
        if rng:
            lo, hi = (f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in rng.groups())
            chosen = [e for e in chosen if lo <= (e.get("x_published") or "")[:10] <= hi]
        chosen = sorted(chosen, key=lambda e: e.get("x_published") or "", reverse=True)
        start, size = int(params.get("start", 0)), int(params.get("max_results", 10))
        return atom_feed(chosen[start:start + size], len(chosen), start, size)

    # -- HTTP ------------------------------------------------------------------------------------------------
    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms ACK stalls

            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "text/xml; charset=utf-8",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                with fake._lock:
                    n = len(fake.log) + 1
                    fault = fake.faults.get(n)
                    fake.log.append({"n": n, "path": url.path, "params": params, "fault": fault,
                                     "at": fake.clock()})
                    fake.user_agents.add(self.headers.get("User-Agent", ""))
                if fake.latency:
                    time.sleep(fake.latency)
                is_api = url.path.startswith("/api")
                if fault in ("503", "429"):
                    return self._send(int(fault), b"busy", "text/plain", {"Retry-After": str(fake.retry_after)})
                if fault == "503-date":
                    when = datetime.now(timezone.utc) + timedelta(seconds=fake.retry_after)
                    return self._send(503, b"busy", "text/plain", {"Retry-After": format_datetime(when, usegmt=True)})
                if fault == "500":
                    return self._send(500, b"internal error", "text/plain")
                if fault == "bomb":
                    return self._send(200, BOMB.encode())
                if fault == "html":
                    return self._send(200, b"<html><body><h1>Bad gateway</h1></body></html>", "text/html")
                if fault == "expire":
                    fake.expire_tokens()
                if fault == "empty" and is_api:
                    return self._send(200, atom_feed([], 0, int(params.get("start", 0)), 0))
                body = fake.api_response(params) if is_api else fake.oai_response(params)
                if fault == "truncate":
                    return self._send(200, body[: len(body) // 2])
                if fault == "drop":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                return self._send(200, body)

        return Handler
