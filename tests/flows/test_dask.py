"""Scale-out on a 2-worker local Dask cluster gives the same warehouse as the single-process run."""

from __future__ import annotations

import pytest

from flows.pipeline import backfill_flow, classify_flow
from tests.flows.helpers import artifacts, papers_frame, run_flow
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_backfill_parsed_on_dask_equals_the_single_process_import(corpus, backfilled, tmp_path):
    home = tmp_path / "home"
    result, run_id = run_flow(backfill_flow, paths=[str(p) for p in corpus], home=str(home), workers=2)
    step = result["steps"]["backfill"]
    assert step["status"] == "done"
    single = papers_frame(backfilled)  # the same files through backfill_paths in one process
    assert papers_frame(home).equals(single)
    assert [f["records"] for f in step["summary"]["files"]] == [800, 400, 500, 300]
    assert "| backfill | done |" in artifacts(run_id)["backfill-summary"].data
    runs = open_warehouse(home).settings.state_dir / "runs.json"
    assert '"backfill"' in runs.read_text()


def _labels(home) -> tuple:
    wh = open_warehouse(home)
    return (wh.scan("classifications").drop("classified_at").collect().sort("id", "topic"),
            wh.scan("paper_subtopics").drop("classified_at").collect().sort("id"))


def test_classification_on_dask_gives_the_single_process_labels(classified, extra_papers, tmp_path):
    from tests.flows.conftest import copy_home

    homes = {}
    for name in ("single", "dask"):
        homes[name] = copy_home(classified[0], tmp_path / name)
        backfill_paths(open_warehouse(homes[name]), [extra_papers], progress=False)
    single, _ = run_flow(classify_flow, home=str(homes["single"]))
    scaled, run_id = run_flow(classify_flow, home=str(homes["dask"]), workers=2,
                              dask_batch_size=30)
    assert single["steps"]["classify"]["summary"]["classified"] == 100
    assert scaled["steps"]["classify"]["summary"]["classified"] == 100
    a_cls, a_sub = _labels(homes["single"])
    b_cls, b_sub = _labels(homes["dask"])
    assert a_cls.height > 0
    assert a_cls.drop("score").equals(b_cls.drop("score"))  # the same topics, methods and model for every paper
    assert (a_cls["score"] - b_cls["score"]).abs().max() < 1e-5  # float32 vectors made with other BLAS threads
    assert a_sub.equals(b_sub)
    assert "| classify | done |" in artifacts(run_id)["classify-summary"].data
