"""BERTopic subtopics: invariants, fixed-seed determinism, identical predictions after save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analytics.subtopics import OTHER, SubtopicModel
from tests.analytics.subtopics.conftest import ZEROSHOT, BagOfWordsEmbedder, fit_model

pytestmark = pytest.mark.slow


def test_every_document_gets_one_subtopic_and_sizes_add_up(fitted: SubtopicModel, corpus) -> None:
    docs, vectors, _ = corpus
    assignments = fitted.transform(docs, vectors)
    frame = fitted.subtopics_frame()
    assert assignments.shape == (len(docs),) and assignments.dtype == np.int64
    assert set(assignments.tolist()) <= set(frame["subtopic"].to_list())
    assert frame["size"].sum() == len(docs)
    assert fitted.subtopics_frame(assignments[:100])["size"].sum() == 100
    assert frame.schema == pl.Schema({"subtopic": pl.Int64, "label": pl.String, "keywords": pl.List(pl.String),
                                      "parent_topic": pl.String, "size": pl.Int64, "model_version": pl.String})
    assert frame["model_version"].unique().to_list() == [fitted.version_]


def test_parents_are_taxonomy_topics_or_other(fitted: SubtopicModel, corpus) -> None:
    docs, vectors, _ = corpus
    frame = fitted.subtopics_frame()
    assert set(frame["parent_topic"]) <= set(ZEROSHOT) | {OTHER}
    assert frame.filter(pl.col("subtopic") == -1)["parent_topic"].to_list() in ([], [OTHER])
    # the two themes that have a description become zero-shot subtopics under their topic ...
    assignments = fitted.transform(docs, vectors)
    parents = dict(zip(frame["subtopic"], frame["parent_topic"]))
    assert parents[int(np.bincount(assignments[:90] + 1).argmax() - 1)] == "protein"
    assert parents[int(np.bincount(assignments[90:180] + 1).argmax() - 1)] == "machine_translation"
    # ... and the four without one are discovered, with their own words as keywords, under "other"
    discovered = frame.filter(~pl.col("parent_topic").is_in(list(ZEROSHOT)) & (pl.col("subtopic") >= 0))
    assert discovered.height >= 3
    words = {w for kws in discovered["keywords"] for w in kws}
    assert {"galaxy", "qubit", "soil", "robot"} & words
    assert all(label for label in frame["label"])


def test_fixed_seed_gives_identical_results(fitted: SubtopicModel, embedder, corpus) -> None:
    docs, vectors, _ = corpus
    again = fit_model(embedder, docs, vectors)
    np.testing.assert_array_equal(again.transform(docs, vectors), fitted.transform(docs, vectors))
    assert again.subtopics_frame().equals(fitted.subtopics_frame())
    assert again.version_ == fitted.version_


def test_save_load_gives_identical_predictions(fitted: SubtopicModel, corpus, tmp_path: Path) -> None:
    docs, vectors, _ = corpus
    before = fitted.transform(docs, vectors)
    fitted.save(tmp_path / "model")
    loaded = SubtopicModel.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.transform(docs, vectors), before)
    assert loaded.subtopics_frame().equals(fitted.subtopics_frame())
    with pytest.raises(ValueError, match="fitted on bow-64-v1"):
        other = BagOfWordsEmbedder()
        other.version = "bow-64-v2"
        SubtopicModel.load(tmp_path / "model", embedder=other)


def test_without_zeroshot_matches_save_load_still_agree(embedder, corpus, tmp_path: Path) -> None:
    docs, vectors, _ = corpus
    model = fit_model(embedder, docs, vectors, zeroshot_min_similarity=0.999)
    frame = model.subtopics_frame()
    assert frame["size"].sum() == len(docs)
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(SubtopicModel.load(tmp_path / "m").transform(docs, vectors),
                                  model.transform(docs, vectors))


def test_fit_on_a_fixed_seed_sample_assigns_everyone(embedder, corpus) -> None:
    docs, vectors, _ = corpus
    model = fit_model(embedder, docs, vectors, max_fit_docs=300)
    assert model.n_fit_docs_ == 300
    same_seed = SubtopicModel(max_fit_docs=300).sample_indices(len(docs))
    np.testing.assert_array_equal(model.sample_indices(len(docs)), same_seed)
    assert model.subtopics_frame()["size"].sum() == len(docs)


def test_periods_frame_has_keywords_per_subtopic_and_year(fitted: SubtopicModel, corpus) -> None:
    docs, vectors, stamps = corpus
    periods = fitted.periods_frame(docs, vectors, stamps)
    assert periods.schema == pl.Schema({"subtopic": pl.Int64, "year": pl.Int32, "keywords": pl.List(pl.String),
                                        "papers": pl.Int64})
    assert set(periods["year"].unique()) <= {2019, 2020, 2021, 2022, 2023}
    assert periods["papers"].sum() == len(docs)
    assert set(periods["subtopic"]) <= set(fitted.subtopics_frame()["subtopic"])


def test_bad_input_is_refused(embedder, corpus) -> None:
    docs, vectors, _ = corpus
    with pytest.raises(ValueError, match="needs an embedder"):
        SubtopicModel().fit(docs, vectors, ZEROSHOT)
    with pytest.raises(ValueError, match="documents but"):
        SubtopicModel(embedder=embedder).fit(docs[:5], vectors, ZEROSHOT)


def test_tiny_corpora_fit_or_are_refused_clearly(embedder) -> None:
    docs = ["protein folding amino acid", "translation english german", "galaxy telescope redshift"]
    model = SubtopicModel(embedder=embedder, zeroshot_min_similarity=0.6).fit(docs, embedder.encode(docs), ZEROSHOT)
    assert model.subtopics_frame()["size"].sum() == 3
    with pytest.raises(ValueError, match="at least 3 documents"):
        SubtopicModel(embedder=embedder).fit(docs[:2], embedder.encode(docs[:2]), ZEROSHOT)


def test_a_saved_model_assigns_and_describes_years_without_bertopic(fitted: SubtopicModel, corpus, tmp_path: Path):
    """A daily run loads the arrays and applies them with numpy: BERTopic (and transformers, torch, UMAP) stay out
    of memory, and the answers are the fitted model's."""
    import json
    import subprocess
    import sys

    docs, vectors, stamps = corpus
    fitted.save(tmp_path / "model")
    np.save(tmp_path / "vectors.npy", vectors)
    (tmp_path / "docs.json").write_text(json.dumps([docs, [s.isoformat() for s in stamps]]))
    code = (
        "import json, sys\nfrom datetime import datetime\nimport numpy as np\n"
        "from analytics.subtopics import SubtopicModel\n"
        f"m = SubtopicModel.load({str(tmp_path / 'model')!r})\n"
        f"docs, stamps = json.load(open({str(tmp_path / 'docs.json')!r}))\n"
        f"topics = m.transform(docs, np.load({str(tmp_path / 'vectors.npy')!r}))\n"
        "periods = m.periods_frame(docs, None, [datetime.fromisoformat(s) for s in stamps], assignments=topics)\n"
        "heavy = [x for x in ('bertopic', 'torch', 'transformers', 'umap', 'hdbscan') if x in sys.modules]\n"
        "print(json.dumps([topics.tolist(), periods['papers'].to_list(), periods['keywords'].to_list(), heavy]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    topics, papers, keywords, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == []
    assert topics == fitted.transform(docs, vectors).tolist()
    here = fitted.periods_frame(docs, vectors, stamps)
    assert papers == here["papers"].to_list() and keywords == here["keywords"].to_list()
