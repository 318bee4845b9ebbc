"""Incremental, resumable OAI-PMH harvest into the ``papers`` table.

The date range is cut into windows (7 days by default), each harvested per set with resumptionTokens. Every
page is saved to ``raw/`` before it is parsed, and the checkpoint is rewritten after every page, so a killed
harvest resumes at the page it stopped on. An expired token restarts only its window; tokens rejected again and
again (the server restarting, a deploy on its side) restart it with the same backoff as failed requests, under
the same retry budget, and a window that failed twice is split in two (smaller windows need fewer tokens, a
one-page window none). Records are ingested in batches (``flush_records``, and at the end: each ingest writes a
new version of ``papers``, so batching keeps that cost off every page); the watermark moves only after the whole
range is in the warehouse.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone

from warehouse.api import Warehouse
from warehouse.errors import InputError
from warehouse.harvest.defaults import DEFAULT_OAI_ENDPOINT, DEFAULT_SETS
from warehouse.harvest.checkpoints import (Checkpoint, Stream, clear_checkpoint, load_checkpoint, load_watermark,
                                           save_checkpoint, save_watermark)
from warehouse.harvest.errors import BadResumptionToken, GaveUp, HarvestError, OAIProtocolError
from warehouse.harvest.http import ClientOptions, Fetched, PoliteClient, polite_delay
from warehouse.harvest.rawstore import keep_and_parse, load_page, path_part
from warehouse.ingest import ingest_records
from warehouse.sources.oai import PREFIXES, SOURCE_BY_PREFIX, OAIPage, parse_page
from warehouse.state import record_run

SPLIT_AFTER_RESTARTS = 2  # a window whose tokens were rejected this many times in a row is split in two


@dataclass
class HarvestOptions(ClientOptions):
    """What to harvest and how; the injectable parts (clock, sleep, transport) are for tests."""

    endpoint: str = DEFAULT_OAI_ENDPOINT
    prefix: str = "arXivRaw"
    sets: tuple[str, ...] = DEFAULT_SETS      # () = the whole repository
    categories: tuple[str, ...] = ()          # keep only records in any of these categories
    from_date: date | None = None             # None: watermark - reharvest_days, or until - first_run_days
    until_date: date | None = None            # None: today (UTC)
    delay: float | None = None                # seconds between requests (>= 3 against arXiv hosts)
    window_days: int = 7
    reharvest_days: int = 7
    first_run_days: int = 30
    flush_records: int = 20_000               # ingest once this many records are pending, and at the end
    today: date | None = None


@dataclass
class HarvestSummary:
    """What a harvest did (``--json``, ``state/runs.json``)."""

    mode: str
    endpoint: str
    from_date: str | None = None
    until_date: str | None = None
    prefix: str | None = None
    sets: list[str] = field(default_factory=list)
    query: str | None = None
    resumed: bool = False
    windows: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    restarted_windows: int = 0
    split_windows: int = 0
    read: int = 0
    filtered_out: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    deleted: int = 0
    quarantine_files: list[str] = field(default_factory=list)
    watermark: str | None = None
    total_results: int | None = None
    seconds: float = 0.0
    waited_polite_s: float = 0.0
    waited_retry_s: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def windows(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """Inclusive day windows covering ``start..end``."""
    out, cur = [], start
    while cur <= end:
        last = min(end, cur + timedelta(days=days - 1))
        out.append((cur, last))
        cur = last + timedelta(days=1)
    return out


def _keep(record: dict, categories: frozenset[str]) -> bool:
    if not categories or "_error" in record or record.get("_deleted"):
        return True
    cats = record.get("categories")
    listed = cats.split() if isinstance(cats, str) else list(cats or record.get("x_source_categories") or [])
    return any(c in categories for c in listed)


class _OAIRun:
    def __init__(self, wh: Warehouse, opts: HarvestOptions, stream: Stream, cp: Checkpoint,
                 client: PoliteClient, summary: HarvestSummary):
        self.wh, self.opts, self.stream, self.cp, self.client, self.summary = wh, opts, stream, cp, client, summary
        self.cats = frozenset(opts.categories)
        if cp.plan:
            self.slices = [((date.fromisoformat(a), date.fromisoformat(b)), s) for a, b, s in cp.plan]
        else:
            self.slices = [(w, s) for w in windows(date.fromisoformat(cp.from_date),
                                                   date.fromisoformat(cp.until_date), cp.window_days)
                           for s in (stream.sets or ("",))]
        self.pending: list[tuple[str, list[dict]]] = []  # (page, its kept records), in cp.pending_pages order
        self.slice_start = len(cp.pending_pages)  # pending pages that belong to earlier slices

    def say(self, text: str) -> None:
        if self.opts.progress is not None:
            self.opts.progress(text)

    def where(self) -> str:
        (w_from, w_until), set_spec = self.slices[self.cp.position]
        return (f"window {w_from}..{w_until}, set {set_spec or '(all)'}, page {self.cp.page + 1} "
                f"(slice {self.cp.position + 1} of {len(self.slices)})")

    def page_rel(self, page_no: int) -> str:
        (w_from, w_until), set_spec = self.slices[self.cp.position]
        attempt = f"-r{self.cp.attempt}" if self.cp.attempt else ""
        return (f"raw/oai/{self.stream.host}/{self.stream.prefix}/{path_part(set_spec or 'all')}/"
                f"{w_from}_{w_until}/{self.cp.run_id}{attempt}/page-{page_no:05d}.xml.gz")

    def receive(self, fetched: Fetched, rel: str) -> OAIPage:
        """Keep the response, then parse it; bad pages are retried, an expired token restarts the window."""
        page = keep_and_parse(self.wh.settings, fetched, rel, parse_page)
        if page.error_code == "badResumptionToken":
            raise BadResumptionToken(page.error_message)
        if page.error_code not in (None, "noRecordsMatch"):
            raise OAIProtocolError(page.error_code, page.error_message)
        if fetched.status != 200:
            raise HarvestError(f"HTTP {fetched.status} from {fetched.url}")
        return page

    def reload_pending(self) -> None:
        """After a restart: parse again the pages that were saved but not yet ingested."""
        for rel in self.cp.pending_pages:
            try:
                data = load_page(self.wh.settings, rel)
            except OSError as exc:
                raise HarvestError(f"checkpoint names {rel}, which is missing ({exc}); delete "
                                   f"{self.stream.folder(self.wh.settings)}/checkpoint.json and harvest again") from exc
            self.pending.append((rel, [r for r in parse_page(data, rel).records if _keep(r, self.cats)]))
        if self.cp.page == 0:
            self.slice_start = len(self.pending)
        else:  # resuming mid-slice: this slice's pages are the last cp.page ones (an expired token drops them)
            self.slice_start = max(0, len(self.pending) - self.cp.page)

    def pending_records(self) -> int:
        return sum(len(records) for _, records in self.pending)

    def flush(self) -> None:
        records = [r for _, page in self.pending for r in page]
        if records:
            self.ingest(records)
        self.pending, self.cp.pending_pages, self.slice_start = [], [], 0

    def ingest(self, records: list[dict]) -> None:
        stats = ingest_records(self.wh, records, default_source=SOURCE_BY_PREFIX[self.stream.prefix],
                               origin="harvest-oai")
        s = self.summary
        s.read += stats.read
        s.inserted += stats.inserted
        s.updated += stats.updated
        s.unchanged += stats.unchanged
        s.quarantined += stats.quarantined
        s.deleted += stats.deleted
        if stats.quarantine_file:
            s.quarantine_files.append(stats.quarantine_file)
        self.cp.records_ingested += stats.read
        self.say(f"ingested {stats.read:,} records (+{stats.inserted:,} new, {stats.updated:,} updated, "
                 f"{stats.quarantined:,} quarantined, {stats.deleted:,} deleted)")

    def params(self) -> dict[str, str]:
        if self.cp.token:
            return {"verb": "ListRecords", "resumptionToken": self.cp.token}
        (w_from, w_until), set_spec = self.slices[self.cp.position]
        params = {"verb": "ListRecords", "metadataPrefix": self.stream.prefix,
                  "from": w_from.isoformat(), "until": w_until.isoformat()}
        if set_spec:
            params["set"] = set_spec
        return params

    def run(self) -> None:
        """Harvest every remaining slice; on a failure, ingest what was fetched and say how to go on."""
        try:
            self.harvest_slices()
        except HarvestError as exc:
            self.stop(exc, "run the same command again to resume from this page" if isinstance(exc, GaveUp)
                      else "check --endpoint, --prefix, --set and the dates, then run again")
        self.flush()

    def stop(self, exc: HarvestError, hint: str) -> None:
        where = self.where()
        self.flush()
        if self.cp.pages_fetched or isinstance(exc, GaveUp):
            save_checkpoint(self.wh.settings, self.stream, self.cp)
        else:  # refused before any page: nothing to resume, the next run plans afresh
            clear_checkpoint(self.wh.settings, self.stream)
        exc.args = (f"{exc}. Stopped at {where}; {self.cp.records_ingested:,} records of this harvest are in the "
                    f"warehouse; {hint}",)
        raise exc

    def harvest_slices(self) -> None:
        settings = self.wh.settings
        while self.cp.position < len(self.slices):
            page_no = self.cp.page + 1
            rel = self.page_rel(page_no)
            params = self.params()
            try:
                page = self.client.request(self.opts.endpoint, params, lambda f, rel=rel: self.receive(f, rel))
            except BadResumptionToken as exc:
                self.restart_slice(str(exc))
                continue
            if "resumptionToken" in params:
                self.cp.rejected = 0  # the server knows its tokens again
            kept = [r for r in page.records if _keep(r, self.cats)]
            self.summary.filtered_out += len(page.records) - len(kept)
            self.summary.pages += 1
            self.cp.pages_fetched += 1
            self.pending.append((rel, kept))
            self.cp.pending_pages.append(rel)
            self.cp.page, self.cp.token = page_no, page.token
            total = f" of {page.complete_list_size:,}" if page.complete_list_size is not None else ""
            self.say(f"{self.where().split(', page')[0]}: page {page_no}, {len(page.records)} records{total}"
                     + (f" ({page.error_code})" if page.error_code else ""))
            if self.pending_records() >= self.opts.flush_records:
                self.flush()
            if not page.token:
                window_done = (self.cp.position + 1 == len(self.slices)
                               or self.slices[self.cp.position + 1][0] != self.slices[self.cp.position][0])
                self.summary.windows += window_done
                self.cp.position, self.cp.page, self.cp.attempt = self.cp.position + 1, 0, 0
                self.slice_start = len(self.pending)
            save_checkpoint(settings, self.stream, self.cp)

    def restart_slice(self, message: str) -> None:
        """Start the slice again from its first page; after repeated rejections wait first (backoff, budget) and
        split its window when that is more than a day."""
        self.cp.rejected += 1
        self.cp.token, self.cp.page = None, 0
        split = self.cp.attempt + 1 >= SPLIT_AFTER_RESTARTS and self.split_window()
        self.cp.attempt = 0 if split else self.cp.attempt + 1
        self.say(f"resumptionToken rejected ({message or 'badResumptionToken'}); restarting {self.where()}"
                 + (" (its window split in two)" if split else ""))
        del self.pending[self.slice_start:]  # the pages of the lost pass are fetched again
        del self.cp.pending_pages[self.slice_start:]
        self.summary.restarted_windows += 1
        save_checkpoint(self.wh.settings, self.stream, self.cp)
        if self.cp.rejected > 1:  # one rejection is a token that expired; more is an outage: back off
            self.client.pause(f"resumptionToken rejected: {message or 'badResumptionToken'}", self.cp.rejected - 1)

    def split_window(self) -> bool:
        """Replace the current slice by two over the halves of its window (False for a one-day window)."""
        (w_from, w_until), set_spec = self.slices[self.cp.position]
        if w_until <= w_from:
            return False
        middle = w_from + (w_until - w_from) // 2
        self.slices[self.cp.position:self.cp.position + 1] = [((w_from, middle), set_spec),
                                                              ((middle + timedelta(days=1), w_until), set_spec)]
        self.cp.plan = [[a.isoformat(), b.isoformat(), s] for (a, b), s in self.slices]
        self.summary.split_windows += 1
        return True


def _plan(wh: Warehouse, opts: HarvestOptions, stream: Stream) -> tuple[Checkpoint, bool]:
    """Resume the stream's checkpoint when it matches the request, else plan a new harvest."""
    settings = wh.settings
    cp = load_checkpoint(settings, stream)
    if cp is not None:
        explicit = {"from": opts.from_date, "until": opts.until_date}
        matches = all(v is None or v.isoformat() == getattr(cp, f"{k}_date") for k, v in explicit.items())
        if matches:
            return cp, True
        if opts.progress:
            opts.progress(f"discarding the checkpoint of an unfinished harvest of {cp.from_date}..{cp.until_date}"
                          " (a different range was asked for)")
    until = opts.until_date or opts.today or utc_today()
    if opts.from_date is not None:
        start = opts.from_date
    else:
        mark = load_watermark(settings, stream)
        start = (date.fromisoformat(mark) - timedelta(days=opts.reharvest_days) if mark
                 else until - timedelta(days=opts.first_run_days))
    if start > until:
        raise InputError(f"--from {start} is after --until {until}")
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Checkpoint(run_id=run_id, from_date=start.isoformat(), until_date=until.isoformat(),
                      window_days=opts.window_days), False


def _validate(opts: HarvestOptions) -> None:
    if opts.prefix not in PREFIXES:
        raise InputError(f"--prefix {opts.prefix!r} is not supported; use one of {', '.join(PREFIXES)}")
    if opts.window_days < 1:
        raise InputError("--window-days must be at least 1")
    if not opts.endpoint.startswith(("http://", "https://")):
        raise InputError(f"--endpoint {opts.endpoint!r} is not an http(s) URL")


def harvest_oai(wh: Warehouse, options: HarvestOptions | None = None) -> HarvestSummary:
    """Harvest OAI-PMH ListRecords into ``papers``; resumes an interrupted harvest of the same stream."""
    opts = options or HarvestOptions()
    _validate(opts)
    delay = polite_delay(opts.endpoint, opts.delay)
    stream = Stream(opts.endpoint, opts.prefix, tuple(opts.sets), tuple(sorted(opts.categories)))
    started = time.perf_counter()
    settings = wh.settings
    with wh.lock(wait=0):
        cp, resumed = _plan(wh, opts, stream)
        summary = HarvestSummary(mode="oai", endpoint=opts.endpoint, from_date=cp.from_date,
                                 until_date=cp.until_date, prefix=opts.prefix, sets=list(stream.sets),
                                 resumed=resumed)
        if resumed and opts.progress:
            opts.progress(f"resuming the harvest of {cp.from_date}..{cp.until_date} at slice {cp.position + 1}"
                          f" page {cp.page + 1} ({cp.records_ingested:,} records already in)")
        with opts.client(settings.contact, delay) as client:
            run = _OAIRun(wh, opts, stream, cp, client, summary)
            run.reload_pending()
            save_checkpoint(settings, stream, cp)
            try:
                run.run()
            finally:
                summary.requests = client.stats.requests
                summary.retries = client.stats.retries
                summary.waited_polite_s = round(client.stats.waited_polite_s, 2)
                summary.waited_retry_s = round(client.stats.waited_retry_s, 2)
        finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
        old = load_watermark(settings, stream)
        contiguous = old is None or date.fromisoformat(cp.from_date) <= date.fromisoformat(old) + timedelta(days=1)
        if contiguous and (old is None or cp.until_date > old):
            save_watermark(settings, stream, cp.until_date, finished)
        summary.watermark = load_watermark(settings, stream)
        clear_checkpoint(settings, stream)
    summary.seconds = round(time.perf_counter() - started, 2)
    record_run(settings, "harvest", mode="oai", endpoint=opts.endpoint, from_date=cp.from_date,
               until_date=cp.until_date, pages=summary.pages, read=summary.read, inserted=summary.inserted,
               updated=summary.updated, quarantined=summary.quarantined, deleted=summary.deleted,
               watermark=summary.watermark)
    return summary
