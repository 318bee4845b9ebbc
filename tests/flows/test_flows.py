"""Every flow end to end under Prefect's test harness, on real records from ../shared/data."""

from __future__ import annotations

import json
import shutil

import pytest

from flows import steps
from flows.pipeline import aggregate_flow, backfill_flow, daily_pipeline, report_flow
from tests.flows.helpers import artifacts, papers_frame, run_flow
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_backfill_flow_imports_the_corpus_and_publishes_a_summary(corpus, tmp_path):
    home = tmp_path / "home"
    result, run_id = run_flow(backfill_flow, paths=[str(p) for p in corpus], home=str(home))
    step = result["steps"]["backfill"]
    assert step["status"] == "done"
    assert step["summary"]["inserted"] == papers_frame(home).height > 1500
    assert [f["records"] for f in step["summary"]["files"]] == [800, 400, 500, 300]
    summary = artifacts(run_id)["backfill-summary"]
    assert summary.type == "markdown"
    assert f"**papers added**: {step['summary']['inserted']:,}" in summary.data
    assert "| backfill | done |" in summary.data


def test_aggregate_is_reused_across_runs_until_its_inputs_change(home_copy, corpus):
    first, _ = run_flow(aggregate_flow, home=str(home_copy))
    second, _ = run_flow(aggregate_flow, home=str(home_copy))
    assert first["steps"]["aggregate"]["status"] == "done"
    assert second["steps"]["aggregate"]["status"] == "cached"
    assert second["steps"]["aggregate"]["summary"] == first["steps"]["aggregate"]["summary"]
    # new papers make a new papers version: the metrics are recomputed
    extra = home_copy.parent / "extra.jsonl"
    extra.write_text(json.dumps({"id": "2611.99999", "title": "A new paper", "abstract": "About transformers.",
                                 "authors": "A. Author", "categories": "cs.CL"}) + "\n", encoding="utf-8")
    run_flow(backfill_flow, paths=[str(extra)], home=str(home_copy))
    third, _ = run_flow(aggregate_flow, home=str(home_copy))
    assert third["steps"]["aggregate"]["status"] == "done"


def test_pipeline_runs_what_exists_and_says_what_it_skipped(home_copy, monkeypatch):
    monkeypatch.setitem(steps.ENTRY_POINTS, "classify", ("analytics.not_built_yet", "classify_warehouse"))
    result, run_id = run_flow(daily_pipeline, home=str(home_copy), harvest=False)
    status = {name: (s["status"], s["reason"]) for name, s in result["steps"].items()}
    assert status["harvest"][0] == "skipped" and "--no-harvest" in status["harvest"][1]
    assert status["classify"] == ("skipped", "analytics.not_built_yet is not built yet")
    assert status["aggregate"] == ("done", None)
    assert status["report"][0] == "skipped" and "no topic metrics" in status["report"][1]
    summary = artifacts(run_id)["daily-pipeline-summary"].data
    assert "| classify | skipped | analytics.not_built_yet is not built yet |" in summary


def test_classify_flow_fits_the_model_and_classifies_every_paper(classified):
    home, result, run_id = classified
    step = result["steps"]["classify"]
    assert step["status"] == "done"
    assert step["summary"]["fitted"] is True
    assert step["summary"]["classified"] == papers_frame(home).height
    assert open_warehouse(home).has_table("classifications")
    assert f"**papers classified**: {step['summary']['classified']:,}" in artifacts(run_id)["classify-summary"].data


def test_daily_pipeline_offline_classifies_aggregates_and_reports(classified_copy, extra_papers):
    backfill_paths(open_warehouse(classified_copy), [extra_papers], progress=False)  # papers not yet classified
    result, run_id = run_flow(daily_pipeline, home=str(classified_copy), harvest=False)
    assert {n: s["status"] for n, s in result["steps"].items()} == {
        "harvest": "skipped", "classify": "done", "aggregate": "done", "report": "done"}
    assert result["steps"]["classify"]["summary"]["classified"] == 100  # only the new ones
    index = classified_copy / "reports" / "index.html"
    assert index.exists()
    assert result["report_url"] == index.as_uri()
    published = artifacts(run_id)
    summary = published["daily-pipeline-summary"].data
    assert "**papers classified**: 100" in summary and "**months updated**" in summary
    assert index.as_uri() in summary
    movers = published["top-movers"]
    assert movers.type == "table"
    rows = json.loads(movers.data) if isinstance(movers.data, str) else movers.data
    # this corpus slice has no year without coverage gaps, so no tested growth: the latest month's ranking
    assert rows and {"topic", "month", "papers", "share", "yoy_growth"} <= set(rows[0])
    # nothing new: classification finds no work, the metrics and the report are reused
    again, _ = run_flow(daily_pipeline, home=str(classified_copy), harvest=False)
    assert again["steps"]["classify"]["summary"]["classified"] == 0
    assert again["steps"]["aggregate"]["status"] == "cached"
    assert again["steps"]["report"]["status"] == "cached"
    # ... unless the site is gone
    shutil.rmtree(classified_copy / "reports")
    rebuilt, _ = run_flow(report_flow, home=str(classified_copy))
    assert rebuilt["steps"]["report"]["status"] == "done" and index.exists()
