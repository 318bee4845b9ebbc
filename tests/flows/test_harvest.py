"""The harvest step against a fake OAI-PMH server on 127.0.0.1 serving real records: pipeline and retries."""

from __future__ import annotations

from datetime import date

import pytest
from prefect import flow

from flows.pipeline import daily_pipeline, harvest_flow
from flows.tasks import harvest_task
from tests.conftest import shared_path
from tests.flows.helpers import artifacts, papers_frame, run_flow
from tests.warehouse.harvest.fake_arxiv import FakeArxiv, records_from_jsonl
from warehouse import open_warehouse
from warehouse.harvest.errors import OAIProtocolError

pytestmark = pytest.mark.usefixtures("prefect_harness")
NEW_PAPERS = 150  # from a file the backfilled corpus does not use: every one is new


@pytest.fixture(scope="module")
def fake_records():
    return records_from_jsonl(shared_path("data", "arxiv", "daily_arxiv_cs_2025_2026-part01.jsonl.gz"), NEW_PAPERS)


def _options(fake: FakeArxiv, records, **extra) -> dict:
    days = sorted(r.datestamp for r in records)
    return {"endpoint": fake.oai_url, "delay": 0, "from_date": days[0], "until_date": days[-1], "sets": ["cs"],
            **extra}


def test_daily_pipeline_harvests_new_papers_then_processes_them(classified_copy, fake_records):
    home_copy = classified_copy
    before = papers_frame(home_copy).height
    with FakeArxiv(fake_records, page_size=50) as fake:
        result, run_id = run_flow(daily_pipeline, home=str(home_copy), harvest_options=_options(fake, fake_records))
        assert fake.requests >= 3  # pages followed through resumptionTokens
    harvest = result["steps"]["harvest"]
    assert harvest["status"] == "done"
    assert harvest["summary"]["inserted"] == NEW_PAPERS
    assert papers_frame(home_copy).height == before + NEW_PAPERS
    assert result["steps"]["classify"]["summary"]["classified"] == NEW_PAPERS
    assert result["steps"]["aggregate"]["status"] == "done"
    assert result["steps"]["report"]["status"] == "done"
    assert (home_copy / "reports" / "index.html").exists()
    summary = artifacts(run_id)["daily-pipeline-summary"].data
    assert f"**papers added**: {NEW_PAPERS}" in summary


@flow
def _harvest_once(home: str, options: dict) -> dict:
    return harvest_task.with_options(retry_delay_seconds=0)(open_warehouse(home), options)


def test_harvest_is_retried_when_the_network_fails(home, fake_records):
    with FakeArxiv(fake_records[:20]) as fake:
        fake.faults[1] = "500"  # the harvester gives up at once (max_attempts=1): Prefect retries the task
        summary = _harvest_once(str(home), _options(fake, fake_records[:20], retry={"max_attempts": 1}))
        assert fake.requests == 2
    assert summary["inserted"] == 20


def test_harvest_is_not_retried_on_a_protocol_error(home, fake_records):
    with FakeArxiv(fake_records[:20]) as fake:  # the fake serves arXivRaw only
        with pytest.raises(OAIProtocolError, match="cannotDisseminateFormat"):
            _harvest_once(str(home), _options(fake, fake_records[:20], prefix="arXiv"))
        assert fake.requests == 1


def test_harvest_flow_publishes_its_summary(home, fake_records):
    with FakeArxiv(fake_records[:30]) as fake:
        result, run_id = run_flow(harvest_flow, home=str(home), harvest_options=_options(fake, fake_records[:30]))
    assert result["steps"]["harvest"]["summary"]["inserted"] == 30
    assert "**papers added**: 30" in artifacts(run_id)["harvest-summary"].data
    assert open_warehouse(home).has_table("papers")
    assert date.fromisoformat(result["steps"]["harvest"]["summary"]["watermark"])


def test_a_failed_harvest_is_reported_and_the_other_steps_still_run(classified_copy):
    """No network (the endpoint's host does not resolve): the harvest fails at once, not after its retry
    budget, and classify / aggregate / report still run on the papers already in the warehouse."""
    result, run_id = run_flow(daily_pipeline, home=str(classified_copy),
                              harvest_options={"endpoint": "http://oai.example.invalid/oai", "delay": 0})
    harvest = result["steps"]["harvest"]
    assert harvest["status"] == "failed" and "cannot resolve oai.example.invalid" in harvest["reason"]
    assert {result["steps"][s]["status"] for s in ("classify", "aggregate", "report")} <= {"done", "cached"}
    assert "failed" in artifacts(run_id)["daily-pipeline-summary"].data
