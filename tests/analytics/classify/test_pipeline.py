"""``classify`` on a small warehouse: tables, incremental runs, versions, classify-file and evaluate via the CLI."""

from __future__ import annotations

import json

import numpy as np
import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from click.testing import CliRunner

import analytics.embeddings
from analytics.classify.model import CLASSIFIER_RECIPE
from analytics.classify.pipeline import classify_warehouse, load_model, predict_frame
from analytics.eras import ERA_NAMES
from analytics.rules.engine import RULES_VERSION
from analytics.taxonomy import load_taxonomy


def load_topic_ids() -> list[str]:
    return load_taxonomy().ids
from flows.cli import cli
from tests.analytics.classify.conftest import HashEmbedder, synthetic_records, write_jsonl
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths


@pytest.fixture(scope="module")
def patched_embedder():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(analytics.embeddings, "get_embedder", lambda name, settings=None: HashEmbedder())
        yield


@pytest.fixture(scope="module")
def classified(tmp_path_factory, patched_embedder):
    root = tmp_path_factory.mktemp("classify")
    records = synthetic_records(250, seed=3)
    write_jsonl(root / "papers.jsonl", records)
    gold = root / "gold.jsonl"
    gold.write_bytes(b"".join(orjson.dumps({"id": r["id"], "topics": [r["x_kind"]] if r["x_kind"] else []}) + b"\n"
                              for r in records[:50]))
    wh = open_warehouse(root / "home")
    backfill_paths(wh, [root / "papers.jsonl"], progress=False)
    summary = classify_warehouse(wh, progress=False)
    return root, wh, records, summary


def test_first_run_fits_and_writes_every_table(classified):
    root, wh, records, summary = classified
    assert summary.fitted and summary.classified == 250
    cls = wh.scan("classifications").collect()
    subs = wh.scan("paper_subtopics").collect()
    assert cls.columns == ["id", "topic", "score", "method", "model_version", "classified_at"]
    assert subs.height == 250 and subs["id"].n_unique() == 250
    assert set(cls["model_version"]) == set(subs["model_version"]) == {summary.model_version}
    per_paper = cls.group_by("id").len()["len"]
    assert per_paper.max() <= 3
    assert cls["score"].is_between(0, 1).all()
    assert set(cls["method"]) <= {"rule", "zeroshot", "subtopic", "combined"}
    topics = wh.scan("subtopics").collect()
    assert {"subtopic", "label", "keywords", "parent_topic", "size", "model_version"} <= set(topics.columns)
    current = json.loads((wh.settings.models_dir / "current.json").read_text())
    assert current["version"] == summary.model_version and current["embedder"] == "fast"
    # quality: cross-validated on the shipped labels (the hash embedder of the tests makes it lower than real)
    quality = current["quality"]
    assert quality["labels"] == 2206 and 0.5 < quality["macro_f1"] < 1
    assert quality["macro_f1_ci"][0] < quality["macro_f1"] < quality["macro_f1_ci"][1]
    assert set(quality["by_era"]) == set(ERA_NAMES)
    assert set(current["evaluation"]["count_bias"]) == set(load_taxonomy().ids)
    assert current["labels"]["papers"] == {"dev": 238, "train": 1968}
    low, high = current["evaluation"]["macro_f1_ci"]
    assert low <= current["evaluation"]["macro_f1"] <= high
    assert (wh.settings.models_dir / summary.model_version / "classifier.joblib").exists()


def test_second_run_classifies_only_new_papers(classified, tmp_path):
    root, wh, records, summary = classified
    again = classify_warehouse(wh, progress=False)
    assert not again.fitted and again.classified == 0 and again.model_version == summary.model_version
    new = synthetic_records(5, seed=9, prefix="2402")
    write_jsonl(tmp_path / "new.jsonl", new)
    backfill_paths(wh, [tmp_path / "new.jsonl"], progress=False)
    step = classify_warehouse(wh, progress=False)
    assert step.classified == 5
    assert wh.scan("paper_subtopics").collect().height == 255
    everything = classify_warehouse(wh, all=True, progress=False)
    assert everything.classified == 255 and not everything.fitted


def test_a_model_of_an_older_recipe_is_refitted(tmp_path, patched_embedder):
    write_jsonl(tmp_path / "papers.jsonl", synthetic_records(60, seed=4))
    wh = open_warehouse(tmp_path / "home")
    backfill_paths(wh, [tmp_path / "papers.jsonl"], progress=False)
    first = classify_warehouse(wh, progress=False)
    current = wh.settings.models_dir / "current.json"
    saved = json.loads(current.read_text())
    assert saved["classifier_recipe"] == CLASSIFIER_RECIPE and saved["rules"] == RULES_VERSION
    assert not classify_warehouse(wh, progress=False).fitted
    del saved["classifier_recipe"]  # as written before recipes were recorded
    current.write_text(json.dumps(saved))
    again = classify_warehouse(wh, progress=False)
    assert again.fitted and again.classified == 60 and again.model_version != first.model_version


def test_saved_model_predicts_like_the_run(classified):
    root, wh, records, summary = classified
    model = load_model(wh.settings)
    papers = wh.scan_papers().select("id", "title", "abstract", "categories", "version").collect().sort("id")
    batch = predict_frame(model, papers)
    written = wh.scan("classifications").collect()
    key = ["id", "topic"]
    assert batch.classifications.select(key).sort(key).equals(written.select(key).sort(key))


def test_cli_classify_file_and_evaluate(classified, tmp_path):
    root, wh, records, summary = classified
    runner = CliRunner()
    home = str(wh.settings.home)
    out, summary_path = tmp_path / "out.jsonl", tmp_path / "summary.json"
    result = runner.invoke(cli, ["--home", home, "classify-file", str(root / "papers.jsonl"), "--out", str(out),
                                 "--summary", str(summary_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(summary_path.read_text())
    assert summary["papers"] == 250 and set(summary["topics"]) == set(load_topic_ids())
    mt = summary["topics"]["machine_translation"]
    assert mt["papers"] == 50 and mt["low"] <= mt["estimate"] <= mt["high"] and 25 < mt["estimate"] < 100
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == [r["id"] for r in records]
    first_mt = next(x for x, r in zip(lines, records) if r["x_kind"] == "machine_translation")
    assert first_mt["topics"] == ["machine_translation"] and 0 <= first_mt["scores"]["protein"] <= 1
    result = runner.invoke(cli, ["--home", home, "evaluate", str(root / "gold.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    numbers = json.loads(result.output)
    assert numbers["papers"] == 50 and numbers["macro_f1"] > 0.9
    result = runner.invoke(cli, ["--home", home, "evaluate", str(root / "gold.jsonl"),
                                 "--papers", str(root / "papers.jsonl")])
    assert result.exit_code == 0 and "macro F1" in result.output


def test_cli_without_a_model_is_a_one_line_error(tmp_path):
    write_jsonl(tmp_path / "p.jsonl", synthetic_records(3))
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "empty"), "classify-file", str(tmp_path / "p.jsonl"),
                                      "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert "no classifier fitted" in result.output and "Traceback" not in result.output


def test_cli_classify_json(classified):
    root, wh, records, summary = classified
    result = CliRunner().invoke(cli, ["--home", str(wh.settings.home), "classify", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["model_version"] == summary.model_version


def test_cli_status_shows_the_classifier_with_its_interval(classified):
    root, wh, records, summary = classified
    result = CliRunner().invoke(cli, ["--home", str(wh.settings.home), "status"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("classifier:"))
    assert summary.model_version in line and "macro F1" in line and "95% CI" in line
    assert "cross-validated on 2206 labelled papers" in line


def _tables(wh) -> dict:
    keys = {"classifications": ["id", "topic"], "paper_subtopics": ["id"], "topic_scores": ["id"],
            "subtopic_periods": ["subtopic", "year"]}
    return {name: wh.scan(name).collect().drop("classified_at", strict=False).sort(key) for name, key in keys.items()}


def test_reading_the_corpus_a_slice_at_a_time_changes_nothing(classified, monkeypatch):
    """Batches and slices far smaller than the corpus (as at arXiv scale) give the rows of one big batch."""
    import analytics.classify.pipeline as pipeline

    root, wh, records, summary = classified
    classify_warehouse(wh, all=True, progress=False)
    before = _tables(wh)
    everything = pipeline.CorpusReader(wh)
    scattered = np.array([0, 1, 7, 40, 41, 42, 199, everything.height - 1])
    monkeypatch.setattr(pipeline, "READ_BATCH", 37)
    monkeypatch.setattr(pipeline, "READ_SPAN", 53)
    monkeypatch.setattr(pipeline, "BATCH", 11)
    corpus = pipeline.CorpusReader(wh)
    assert corpus.read(scattered).equals(wh.scan_papers().select(pipeline.PAPER_COLUMNS).collect()[scattered])
    assert sum(b.height for b in corpus.batches(np.arange(corpus.height), size=37)) == corpus.height
    lines = []
    again = classify_warehouse(wh, all=True, progress=lines.append)
    assert again.classified == corpus.height and not again.fitted
    assert any(f"classified {corpus.height:,} / {corpus.height:,} papers" in line for line in lines)
    after = _tables(wh)  # the same rows; scores agree to float32 rounding (BLAS sums a block in another order)
    for name, frame in before.items():
        assert_frame_equal(after[name], frame, check_exact=False, rel_tol=1e-5, abs_tol=1e-6)


def test_a_fit_on_a_big_corpus_learns_from_a_sample_and_classifies_every_paper(tmp_path, patched_embedder,
                                                                              monkeypatch):
    import analytics.classify.pipeline as pipeline

    write_jsonl(tmp_path / "papers.jsonl", synthetic_records(120, seed=5))
    wh = open_warehouse(tmp_path / "home")
    backfill_paths(wh, [tmp_path / "papers.jsonl"], progress=False)
    monkeypatch.setattr(pipeline, "FIT_SAMPLE", 80)
    assert pipeline.fit_positions(120).tolist() == pipeline.fit_positions(120).tolist()  # fixed seed
    assert len(pipeline.fit_positions(120)) == 80 and pipeline.fit_positions(50).tolist() == list(range(50))
    lines = []
    summary = classify_warehouse(wh, progress=lines.append)
    assert summary.fitted and summary.classified == 120
    assert any("embedding 80 papers" in line and "sample of the 120" in line for line in lines)
    assert any("fitting the classifier on 80 papers" in line for line in lines)
    assert wh.scan("paper_subtopics").collect()["id"].n_unique() == 120
    assert wh.scan("subtopic_periods").collect()["papers"].sum() == 120


def test_worker_processes_give_the_rows_of_one_process_and_cache_what_they_embed(tmp_path, patched_embedder,
                                                                                 monkeypatch):
    import analytics.classify.pipeline as pipeline
    from analytics.embeddings.base import paper_texts
    from analytics.embeddings.cache import EmbeddingCache

    homes = {}
    for mode in ("here", "workers"):
        write_jsonl(tmp_path / "papers.jsonl", synthetic_records(80, seed=6))
        wh = open_warehouse(tmp_path / mode)
        backfill_paths(wh, [tmp_path / "papers.jsonl"], progress=False)
        classify_warehouse(wh, progress=False)  # the fit, in-process either way
        write_jsonl(tmp_path / "new.jsonl", synthetic_records(45, seed=7, prefix="2403"))
        backfill_paths(wh, [tmp_path / "new.jsonl"], progress=False)
        monkeypatch.setenv("ARXIV_TRENDS_CLASSIFY_WORKERS", "2" if mode == "workers" else "1")
        monkeypatch.setattr(pipeline, "READ_BATCH", 30)
        monkeypatch.setattr(pipeline, "BATCH", 7)
        lines = []
        summary = classify_warehouse(wh, progress=lines.append)
        assert summary.classified == 45 and not summary.fitted
        assert any("worker processes" in line for line in lines) == (mode == "workers")
        homes[mode] = wh
        monkeypatch.undo()
    here, there = _tables(homes["here"]), _tables(homes["workers"])
    for name in ("classifications", "paper_subtopics", "topic_scores"):
        assert_frame_equal(there[name].drop("model_version"), here[name].drop("model_version"),
                           check_exact=False, rel_tol=1e-5, abs_tol=1e-6)
    wh = homes["workers"]
    new = wh.scan_papers().filter(pl.col("id").str.starts_with("2403")).collect()
    vectors, found, _ = EmbeddingCache(wh).cached(new["id"].to_list(), paper_texts(new), HashEmbedder())
    assert found.all()  # what the workers embedded was cached ...
    np.testing.assert_allclose(vectors, HashEmbedder().encode(paper_texts(new)), atol=1e-6)  # ... as embedded here


def test_the_worker_count_follows_the_job_and_the_environment(monkeypatch):
    from analytics.classify.workers import MIN_PAPERS, worker_count
    from warehouse.errors import ArxivTrendsError

    monkeypatch.delenv("ARXIV_TRENDS_CLASSIFY_WORKERS", raising=False)
    assert worker_count(MIN_PAPERS - 1) == 0
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2})
    assert worker_count(MIN_PAPERS) == 3
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0})
    assert worker_count(10 * MIN_PAPERS) == 0
    monkeypatch.setenv("ARXIV_TRENDS_CLASSIFY_WORKERS", "4")
    assert worker_count(10) == 4
    monkeypatch.setenv("ARXIV_TRENDS_CLASSIFY_WORKERS", "1")
    assert worker_count(10 * MIN_PAPERS) == 0
    monkeypatch.setenv("ARXIV_TRENDS_CLASSIFY_WORKERS", "two")
    with pytest.raises(ArxivTrendsError, match="ARXIV_TRENDS_CLASSIFY_WORKERS='two'"):
        worker_count(10)
