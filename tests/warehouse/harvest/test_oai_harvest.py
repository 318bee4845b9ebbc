"""OAI-PMH harvests against the local fake arXiv: every fault ends with exactly the right papers."""

from __future__ import annotations

import json
import random
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from tests.warehouse.harvest.fake_arxiv import (FakeArxiv, FakeClock, deleted_record, malformed_record,
                                                render_arxiv_raw, synthetic_records)
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths
from warehouse.errors import InputError
from warehouse.harvest import HarvestOptions, OAIProtocolError, RetryPolicy, harvest_oai
from warehouse.harvest.checkpoints import Stream, load_checkpoint
from warehouse.harvest.errors import GaveUp  # the flows retry a harvest on exactly this type

COLUMNS = ["id", "version", "title", "abstract", "authors", "categories", "submitted", "source"]
SYNTHETIC = synthetic_records(250)  # 10 a day, 2025-01-01 .. 2025-01-25
EXPECTED_IDS = sorted(r.id for r in SYNTHETIC)


def content() -> list:
    return SYNTHETIC + [deleted_record("2412.00001", "2025-01-03"), malformed_record("2501.99998", "2025-01-04")]


def options(server: FakeArxiv, clock: FakeClock, **kw) -> HarvestOptions:
    base = dict(endpoint=server.oai_url, sets=("cs",), from_date=date(2025, 1, 1), until_date=date(2025, 1, 31),
                delay=3.0, clock=clock, sleep=clock.sleep, rng=random.Random(1),
                retry=RetryPolicy(max_attempts=4, backoff_base_s=2.0))
    base.update(kw)
    return HarvestOptions(**base)


def papers(home: Path) -> pl.DataFrame:
    return open_warehouse(home).scan_papers().select(COLUMNS).collect().sort("id")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock):
    with FakeArxiv(content(), page_size=40, clock=clock) as srv:
        yield srv


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, pl.DataFrame]:
    """One clean harvest; every faulty harvest must end with the same table."""
    home = tmp_path_factory.mktemp("reference") / "home"
    clock = FakeClock()
    with FakeArxiv(content(), page_size=40, clock=clock) as srv:
        summary = harvest_oai(open_warehouse(home), options(srv, clock))
    assert summary.watermark == "2025-01-31"
    return home, papers(home)


def test_clean_harvest_fills_exactly_the_served_papers(reference):
    home, table = reference
    assert table["id"].to_list() == EXPECTED_IDS
    assert table["title"][0] == "Synthetic paper 1" and set(table["source"]) == {"oai-arXivRaw"}
    wh = open_warehouse(home)
    assert wh.read("deleted")["id"].to_list() == ["2412.00001"]
    (qfile,) = (home / "quarantine").glob("*.jsonl")
    (line,) = [json.loads(x) for x in qfile.read_text().splitlines()]
    assert "malformed XML" in line["reason"] and line["where"].endswith("/page-00002.xml.gz#2")
    runs = json.loads((home / "state" / "runs.json").read_text())
    assert runs["harvest"]["inserted"] == 250 and runs["harvest"]["watermark"] == "2025-01-31"


def test_raw_pages_rebuild_the_same_table(reference, tmp_path):
    home, table = reference
    pages = sorted((home / "raw" / "oai").rglob("page-*.xml.gz"))
    assert len(pages) == 8  # 2 + 2 + 2 + 1 pages of records, 1 noRecordsMatch
    rebuilt = tmp_path / "rebuilt"
    backfill_paths(open_warehouse(rebuilt), [home / "raw"], progress=False)
    assert papers(rebuilt).drop("source").equals(table.drop("source"))


def test_requests_keep_the_politeness_delay(server, clock, tmp_path):
    harvest_oai(open_warehouse(tmp_path / "h"), options(server, clock))
    times = [entry["at"] for entry in server.log]
    assert len(times) == 8 and min(b - a for a, b in zip(times, times[1:])) >= 3.0


@pytest.mark.parametrize("fault", ["503", "429", "503-date", "500", "drop", "truncate", "bomb", "html", "expire"])
def test_each_fault_ends_with_exactly_the_right_papers(fault, server, clock, reference, tmp_path):
    server.faults = {4: fault}  # request 4: the second page of window 2, asked for with a resumptionToken
    home = tmp_path / "h"
    summary = harvest_oai(open_warehouse(home), options(server, clock))
    assert papers(home).drop("source").equals(reference[1].drop("source"))
    assert summary.watermark == "2025-01-31" and summary.inserted == 250
    assert load_checkpoint(open_warehouse(home).settings, Stream(server.oai_url, "arXivRaw", ("cs",), ())) is None
    if fault == "expire":
        assert summary.restarted_windows == 1 and summary.retries == 0
        assert server.log[4]["params"].get("from") == "2025-01-08"  # only window 2 starts again
    else:
        assert summary.retries == 1 and summary.restarted_windows == 0


def test_persistent_failure_stops_with_where_and_how_to_resume(server, clock, reference, tmp_path):
    server.faults = {n: "503" for n in range(4, 30)}
    home = tmp_path / "h"
    with pytest.raises(GaveUp, match=r"window 2025-01-08\.\.2025-01-14, set cs, page 2 .*run the same "
                                           r"command again to resume"):
        harvest_oai(open_warehouse(home), options(server, clock))
    assert papers(home)["id"].to_list() == EXPECTED_IDS[:110]  # all pages fetched are in; the watermark stays
    assert not (Stream(server.oai_url, "arXivRaw", ("cs",), ()).folder(open_warehouse(home).settings)
                / "watermark.json").exists()
    server.faults = {}
    before = server.requests
    summary = harvest_oai(open_warehouse(home), options(server, clock, from_date=None, until_date=None))
    assert summary.resumed and summary.from_date == "2025-01-01" and summary.until_date == "2025-01-31"
    assert "resumptionToken" in server.log[before]["params"]  # continued at page 2, not at the start
    assert papers(home).drop("source").equals(reference[1].drop("source"))


class Killed(BaseException):
    """Stands for the process being killed at an arbitrary moment."""


def killer(clock: FakeClock, after: int):
    calls = [0]

    def sleep(seconds: float) -> None:
        calls[0] += 1
        if calls[0] == after:
            raise Killed
        clock.sleep(seconds)
    return sleep


@pytest.mark.parametrize("flush", [50, 20_000])  # ingest every page or two / only at the end
@pytest.mark.parametrize("after", [2, 4, 5, 7])
def test_resume_after_a_kill_continues_from_the_checkpoint(after, flush, server, clock, reference, tmp_path):
    home = tmp_path / "h"
    with pytest.raises(Killed):
        harvest_oai(open_warehouse(home), options(server, clock, sleep=killer(clock, after), flush_records=flush))
    done = server.requests
    summary = harvest_oai(open_warehouse(home), options(server, clock, flush_records=flush))
    assert summary.resumed
    assert done == after and server.requests - done == 8 - after  # no page is asked for twice
    assert papers(home).drop("source").equals(reference[1].drop("source"))
    assert summary.watermark == "2025-01-31"


@pytest.mark.parametrize("flush", [30, 20_000])
def test_resume_with_an_expired_token_restarts_only_that_window(flush, server, clock, reference, tmp_path):
    home = tmp_path / "h"
    with pytest.raises(Killed):  # killed while waiting to ask for window 2's second page
        harvest_oai(open_warehouse(home), options(server, clock, sleep=killer(clock, 3), flush_records=flush))
    server.expire_tokens()
    start = server.requests
    summary = harvest_oai(open_warehouse(home), options(server, clock, flush_records=flush))
    assert summary.resumed and summary.restarted_windows == 1
    froms = [e["params"].get("from") for e in server.log[start:] if "from" in e["params"]]
    assert froms[0] == "2025-01-08"  # window 1 is not fetched again
    assert papers(home).drop("source").equals(reference[1].drop("source"))


def test_incremental_runs_start_from_the_watermark_minus_the_reharvest_window(server, clock, tmp_path):
    home = tmp_path / "h"
    first = harvest_oai(open_warehouse(home), options(server, clock, from_date=None, until_date=None,
                                                      today=date(2025, 1, 20)))
    assert (first.from_date, first.until_date, first.watermark) == ("2024-12-21", "2025-01-20", "2025-01-20")
    second = harvest_oai(open_warehouse(home), options(server, clock, from_date=None, until_date=None,
                                                       today=date(2025, 1, 31)))
    assert (second.from_date, second.watermark) == ("2025-01-13", "2025-01-31")
    assert second.inserted == 50 and second.unchanged == 80  # days 21..25 are new; 13..20 re-read
    assert papers(home)["id"].to_list() == EXPECTED_IDS


def test_a_range_after_a_gap_does_not_move_the_watermark(server, clock, tmp_path):
    home = tmp_path / "h"
    harvest_oai(open_warehouse(home), options(server, clock, until_date=date(2025, 1, 10)))
    later = harvest_oai(open_warehouse(home), options(server, clock, from_date=date(2025, 1, 20)))
    assert later.watermark == "2025-01-10"


def test_category_filter_keeps_only_matching_papers(clock, tmp_path):
    recs = synthetic_records(20, category="cs.CL") + [
        render_arxiv_raw({"id": "2501.09001", "title": "Vision", "categories": "cs.CV cs.CL", "abstract": "x"},
                         "2025-01-02", datetime(2025, 1, 1)),
        render_arxiv_raw({"id": "2501.09002", "title": "Robots", "categories": "cs.RO", "abstract": "x"},
                         "2025-01-02", datetime(2025, 1, 1))]
    with FakeArxiv(recs, page_size=8, clock=clock) as srv:
        summary = harvest_oai(open_warehouse(tmp_path / "h"), options(srv, clock, categories=("cs.CV", "cs.RO")))
    assert papers(tmp_path / "h")["id"].to_list() == ["2501.09001", "2501.09002"]
    assert summary.filtered_out == 20


def test_oai_errors_are_clear(server, clock, tmp_path):
    with pytest.raises(OAIProtocolError, match="cannotDisseminateFormat.*check --endpoint, --prefix"):
        harvest_oai(open_warehouse(tmp_path / "h"), options(server, clock, prefix="arXiv"))
    assert load_checkpoint(open_warehouse(tmp_path / "h").settings,
                           Stream(server.oai_url, "arXiv", ("cs",), ())) is None  # nothing to resume
    with pytest.raises(InputError, match="--prefix"):
        harvest_oai(open_warehouse(tmp_path / "h"), options(server, clock, prefix="marc"))
    with pytest.raises(InputError, match="after --until"):
        harvest_oai(open_warehouse(tmp_path / "h"), options(server, clock, from_date=date(2025, 2, 1)))


def test_several_sets_share_windows_without_duplicates(clock, tmp_path):
    both = [render_arxiv_raw({"id": f"2501.0{i:04d}", "title": f"P{i}", "abstract": "a",
                              "categories": "stat.ML cs.LG" if i % 2 else "cs.CL"},
                             "2025-01-03", datetime(2025, 1, 2)) for i in range(30)]
    with FakeArxiv(both, page_size=7, clock=clock) as srv:
        summary = harvest_oai(open_warehouse(tmp_path / "h"), options(srv, clock, sets=("cs", "stat"),
                                                                      until_date=date(2025, 1, 7)))
    assert summary.read == 45 and summary.inserted == 30  # 15 are in both sets
    assert papers(tmp_path / "h").height == 30


def _gaps(server: FakeArxiv) -> list[float]:
    times = [entry["at"] for entry in server.log]
    return [b - a for a, b in zip(times, times[1:])]


def _tokens_fail_for_90_seconds(server: FakeArxiv, clock: FakeClock) -> None:
    """From 20 s in, the server rejects every resumptionToken for 90 s, with 503s and dropped connections
    around it (request numbers 5-7 fall just before the outage, 40-45 after it)."""
    server.page_size = 7  # even a one-day window (10 records) needs a token: splitting alone cannot finish
    server.token_outage = (clock.now + 20, clock.now + 110)
    server.faults = {5: "503", 7: "drop", 40: "drop", 41: "503", 45: "drop"}


def test_a_90_second_token_outage_is_waited_out_with_backoff_and_split_windows(server, clock, reference, tmp_path):
    _tokens_fail_for_90_seconds(server, clock)
    home = tmp_path / "h"
    summary = harvest_oai(open_warehouse(home), options(server, clock, retry=RetryPolicy(backoff_base_s=5.0)))
    table = papers(home)
    assert table.drop("source").equals(reference[1].drop("source"))  # exactly the served papers
    assert table["id"].is_unique().all()
    assert server.tokens_rejected >= 5 and summary.restarted_windows == server.tokens_rejected
    assert summary.split_windows >= 2  # 7-day windows down to one day
    assert summary.waited_retry_s >= 60  # it waited the outage out, on the clock, instead of giving up
    assert min(_gaps(server)) >= 3.0  # no request faster than the delay, backoffs and restarts included
    assert summary.watermark == "2025-01-31"
    assert load_checkpoint(open_warehouse(home).settings, Stream(server.oai_url, "arXivRaw", ("cs",), ())) is None


def test_an_outage_longer_than_the_budget_stops_with_an_exact_resume_point(server, clock, reference, tmp_path):
    _tokens_fail_for_90_seconds(server, clock)
    home = tmp_path / "h"
    with pytest.raises(GaveUp, match=r"budget of 40 s.*resumptionToken rejected.*Stopped at window "
                                           r"(\S+)\.\.(\S+), set cs, page 1 \(slice \d+ of \d+\).*run the same "
                                           r"command again to resume from this page") as stopped:
        harvest_oai(open_warehouse(home), options(server, clock, retry=RetryPolicy(backoff_base_s=5.0, budget_s=40)))
    window = re.search(r"Stopped at window (\S+)\.\.(\S+),", str(stopped.value)).groups()
    cp = load_checkpoint(open_warehouse(home).settings, Stream(server.oai_url, "arXivRaw", ("cs",), ()))
    assert cp.plan is not None and [window[0], window[1], "cs"] == cp.plan[cp.position]  # the split plan is kept
    assert cp.token is None and cp.page == 0
    clock.now += 120  # the outage is over
    before = server.requests
    summary = harvest_oai(open_warehouse(home), options(server, clock, from_date=None, until_date=None))
    assert summary.resumed
    assert server.log[before]["params"]["from"] == window[0]  # resumed at exactly that window's first page
    assert papers(home).drop("source").equals(reference[1].drop("source"))


def test_sporadic_token_loss_is_survived(server, clock, reference, tmp_path):
    server.page_size = 5
    server.lose_tokens(1 / 13, seed=6)  # about 1 in 13 tokens rejected at random
    home = tmp_path / "h"
    summary = harvest_oai(open_warehouse(home), options(server, clock))
    assert server.tokens_rejected >= 2 and summary.restarted_windows == server.tokens_rejected
    assert papers(home).drop("source").equals(reference[1].drop("source"))
    assert min(_gaps(server)) >= 3.0
