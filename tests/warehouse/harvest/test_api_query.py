"""Ad hoc arXiv API (Atom) pulls against the fake API: paging, limits, date ranges, empty pages, errors."""

from __future__ import annotations

import random
from datetime import date

import pytest

from tests.warehouse.harvest.fake_arxiv import FakeArxiv, FakeClock
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths
from warehouse.errors import InputError
from warehouse.harvest import HarvestError, QueryOptions, RetryPolicy, harvest_query
from warehouse.harvest.api_query import search_query
from warehouse.harvest.errors import GaveUp

ENTRIES = [{"id": f"2502.{i:05d}", "title": f"Entry {i}", "abstract": "text", "authors": "A. B, C. D",
            "categories": "cs.CL cs.LG" if i % 3 else "cs.CV", "x_published": f"2025-02-{1 + i % 28:02d}T10:00:00Z"}
           for i in range(1, 46)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock):
    with FakeArxiv(api_entries=ENTRIES, clock=clock) as srv:
        yield srv


def opts(server: FakeArxiv, clock: FakeClock, **kw) -> QueryOptions:
    base = dict(endpoint=server.api_url, delay=3.0, clock=clock, sleep=clock.sleep, rng=random.Random(3),
                retry=RetryPolicy(backoff_base_s=2.0), page_size=10)
    base.update(kw)
    return QueryOptions(**base)


def ids(home) -> list[str]:
    return open_warehouse(home).scan_papers().select("id").collect()["id"].sort().to_list()


def test_query_pages_until_all_results_are_in(server, clock, tmp_path):
    summary = harvest_query(open_warehouse(tmp_path / "h"), "cat:cs.CL", 1000, opts(server, clock))
    expected = sorted(e["id"] for e in ENTRIES if "cs.CL" in e["categories"])
    assert ids(tmp_path / "h") == expected and summary.total_results == len(expected) == 30
    assert summary.pages == 3 and [e["params"]["start"] for e in server.log] == ["0", "10", "20"]
    times = [e["at"] for e in server.log]
    assert min(b - a for a, b in zip(times, times[1:])) >= 3.0
    assert len(list((tmp_path / "h" / "raw" / "api").rglob("page-*.xml.gz"))) == 3
    backfill_paths(open_warehouse(tmp_path / "rebuilt"), [tmp_path / "h" / "raw"], progress=False)
    assert ids(tmp_path / "rebuilt") == expected  # the kept Atom pages rebuild the same papers


def test_max_results_caps_the_pull(server, clock, tmp_path):
    summary = harvest_query(open_warehouse(tmp_path / "h"), "cat:cs.CL", 15, opts(server, clock))
    assert summary.read == 15 and [e["params"]["max_results"] for e in server.log] == ["10", "5"]


def test_submitted_date_range_is_added_to_the_query(server, clock, tmp_path):
    assert search_query("cat:cs.CL", date(2025, 2, 1), date(2025, 2, 7)) == \
        "(cat:cs.CL) AND submittedDate:[202502010000 TO 202502072359]"
    harvest_query(open_warehouse(tmp_path / "h"), "cat:cs.CV", 100,
                  opts(server, clock, from_date=date(2025, 2, 1), until_date=date(2025, 2, 7)))
    expected = sorted(e["id"] for e in ENTRIES if e["categories"] == "cs.CV" and e["x_published"] < "2025-02-08")
    assert ids(tmp_path / "h") == expected and expected


def test_a_spuriously_empty_page_is_asked_for_again(server, clock, tmp_path):
    server.faults = {2: "empty", 3: "empty"}
    summary = harvest_query(open_warehouse(tmp_path / "h"), "cat:cs.CL", 1000, opts(server, clock))
    assert summary.read == 30 and summary.retries == 2
    assert [e["params"]["start"] for e in server.log] == ["0", "10", "10", "10", "20"]


def test_an_empty_page_is_believed_after_the_retries(server, clock, tmp_path):
    server.faults = {n: "empty" for n in range(1, 10)}
    summary = harvest_query(open_warehouse(tmp_path / "h"), "cat:cs.CL", 1000, opts(server, clock, empty_retries=2))
    assert summary.read == 0 and server.requests == 3


def test_api_failures_are_retried(server, clock, tmp_path):
    server.faults = {1: "503", 3: "drop"}
    summary = harvest_query(open_warehouse(tmp_path / "h"), "cat:cs.CL", 1000, opts(server, clock))
    assert summary.read == 30 and summary.retries == 2


def test_giving_up_says_where_the_pages_are(server, clock, tmp_path):
    server.faults = {n: "503" for n in range(2, 10)}
    with pytest.raises(GaveUp, match=r"Stopped at entry 10 of the query; the 1 pages fetched are kept under .*raw/api"):
        harvest_query(open_warehouse(tmp_path / "h"), "cat:cs.CL", 1000,
                      opts(server, clock, retry=RetryPolicy(max_attempts=2)))


def test_limits_and_error_feeds_are_clear_errors(server, clock, tmp_path, monkeypatch):
    wh = open_warehouse(tmp_path / "h")
    with pytest.raises(InputError, match="30,000"):
        harvest_query(wh, "cat:cs.CL", 30_001, opts(server, clock))
    with pytest.raises(InputError, match="politeness floor"):
        harvest_query(wh, "cat:cs.CL", 10, QueryOptions(delay=0))
    error_feed = open(__file__.replace("harvest/test_api_query.py", "sources/fixtures/atom_error.xml"), "rb").read()
    monkeypatch.setattr(server, "api_response", lambda params: error_feed)
    with pytest.raises(HarvestError, match="rejected the query: incorrect id format for xyz"):
        harvest_query(wh, "id:xyz", 10, opts(server, clock))
