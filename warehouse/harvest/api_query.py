"""Ad hoc pulls from the arXiv API (Atom): ``arxiv-trends harvest --query 'cat:cs.CL AND ti:translation'``.

Paged (at most 2,000 entries a page, 30,000 a query: the API's own limits), with the same politeness and
retry rules as OAI-PMH. The API sometimes answers a page with no entries although more results exist; such
a page is asked for again (up to ``empty_retries`` times) before it is believed.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone

from warehouse.api import Warehouse
from warehouse.errors import InputError
from warehouse.harvest.defaults import DEFAULT_API_ENDPOINT
from warehouse.harvest.errors import GaveUp, HarvestError, RetryableError
from warehouse.harvest.http import ClientOptions, Fetched, polite_delay
from warehouse.harvest.oai_harvest import HarvestSummary
from warehouse.harvest.rawstore import keep_and_parse, path_part
from warehouse.ingest import ingest_records
from warehouse.sources.atom import AtomPage, parse_feed
from warehouse.state import record_run

MAX_PAGE = 2000
MAX_QUERY = 30_000


@dataclass
class QueryOptions(ClientOptions):
    endpoint: str = DEFAULT_API_ENDPOINT
    from_date: date | None = None       # submittedDate range, appended to the query
    until_date: date | None = None
    page_size: int = MAX_PAGE
    sort_by: str = "submittedDate"
    sort_order: str = "descending"
    delay: float | None = None
    empty_retries: int = 3


def search_query(query: str, from_date: date | None, until_date: date | None) -> str:
    """The query, restricted to ``submittedDate:[from TO until]`` (whole days, UTC) when dates are given."""
    query = query.strip()
    if from_date is None and until_date is None:
        return query
    lo = (from_date or date(1991, 1, 1)).strftime("%Y%m%d") + "0000"
    hi = (until_date or datetime.now(timezone.utc).date()).strftime("%Y%m%d") + "2359"
    return f"({query}) AND submittedDate:[{lo} TO {hi}]"


class _EmptyPage(RetryableError):
    pass


def harvest_query(wh: Warehouse, query: str, max_results: int = 1000,
                  options: QueryOptions | None = None) -> HarvestSummary:
    """Fetch up to ``max_results`` entries matching ``query`` and upsert them into ``papers``."""
    opts = options or QueryOptions()
    if not query.strip():
        raise InputError("--query is empty")
    if not 1 <= max_results <= MAX_QUERY:
        raise InputError(f"--max must be between 1 and {MAX_QUERY:,} (the arXiv API's limit per query); "
                         "split larger pulls with --from/--until (submittedDate ranges)")
    if not 1 <= opts.page_size <= MAX_PAGE:
        raise InputError(f"page size must be between 1 and {MAX_PAGE}")
    delay = polite_delay(opts.endpoint, opts.delay)
    q = search_query(query, opts.from_date, opts.until_date)
    settings = wh.settings
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = f"raw/api/{path_part(q)[:60]}-{hashlib.sha1(q.encode()).hexdigest()[:8]}/{run_id}"
    summary = HarvestSummary(mode="query", endpoint=opts.endpoint, query=q,
                             from_date=opts.from_date.isoformat() if opts.from_date else None,
                             until_date=opts.until_date.isoformat() if opts.until_date else None)
    started = time.perf_counter()
    records: list[dict] = []
    empties = [0]

    def receive(fetched: Fetched, rel: str, start: int) -> AtomPage:
        page = keep_and_parse(settings, fetched, rel, parse_feed)
        if page.error:
            raise HarvestError(f"the arXiv API rejected the query: {page.error}")
        if fetched.status != 200:
            raise HarvestError(f"HTTP {fetched.status} from the arXiv API ({fetched.url})")
        total = page.total_results
        suspicious = not page.records and (total is None or total == 0 or start < total)
        if suspicious and empties[0] < opts.empty_retries:
            empties[0] += 1
            raise _EmptyPage(f"empty page at start={start} (totalResults={total})")
        return page

    with wh.lock(wait=0), opts.client(settings.contact, delay) as client:
        start, page_no = 0, 0
        try:
            while start < max_results:
                page_no += 1
                size = min(opts.page_size, max_results - start)
                params = {"search_query": q, "start": str(start), "max_results": str(size),
                          "sortBy": opts.sort_by, "sortOrder": opts.sort_order}
                rel = f"{folder}/page-{page_no:05d}.xml.gz"
                empties[0] = 0
                page = client.request(opts.endpoint, params, lambda f, rel=rel, start=start: receive(f, rel, start))
                summary.pages += 1
                summary.total_results = page.total_results
                records.extend(page.records)
                if opts.progress:
                    opts.progress(f"query page {page_no}: {len(page.records)} entries "
                                  f"({start + len(page.records):,} of {min(max_results, page.total_results or 0):,})")
                if not page.records:
                    break
                start += len(page.records)
                if page.total_results is not None and start >= page.total_results:
                    break
        except GaveUp as exc:  # same type re-raised: the flows retry on GaveUp
            exc.args = (f"{exc}. Stopped at entry {start} of the query; the {summary.pages} pages fetched are kept "
                        f"under {settings.home / folder} (import them with `arxiv-trends backfill "
                        f"{settings.home / folder}`); run the query again later, or narrow it with --from/--until",)
            raise
        finally:
            summary.requests, summary.retries = client.stats.requests, client.stats.retries
            summary.waited_polite_s = round(client.stats.waited_polite_s, 2)
            summary.waited_retry_s = round(client.stats.waited_retry_s, 2)
        stats = ingest_records(wh, records, default_source="atom", origin="harvest-api")
    for name in ("read", "inserted", "updated", "unchanged", "quarantined", "deleted"):
        setattr(summary, name, getattr(stats, name))
    if stats.quarantine_file:
        summary.quarantine_files.append(stats.quarantine_file)
    summary.seconds = round(time.perf_counter() - started, 2)
    record_run(settings, "harvest", mode="query", query=q, pages=summary.pages, read=summary.read,
               inserted=summary.inserted, updated=summary.updated, quarantined=summary.quarantined)
    return summary
