"""Real records of ../shared/data/arxiv as a papers-like frame, synthetic labels, and writing them as tables.

Used by the metrics invariant tests and by bench/aggregate.py.

Only what the metrics read is built: ``id, submitted, date_source, categories, primary_category, source``.
The trend date is v1 (``versions[0].created``), else the API's ``x_published``, else the month of a
``YYMM.NNNNN`` / ``archive/YYMMNNN`` id, as ../shared/data/README.md prescribes.
"""

from __future__ import annotations

import gzip
import io
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from warehouse.api import Warehouse

_SCHEMA = {
    "id": pl.String,
    "categories": pl.String,
    "x_source": pl.String,
    "x_published": pl.String,
    "versions": pl.List(pl.Struct({"version": pl.String, "created": pl.String})),
    "x_source_categories": pl.List(pl.String),
}


def _id_month() -> pl.Expr:
    """First day of the month encoded in a new-style (``2401.01234``) or old-style (``hep-th/9901001``) id."""
    yymm = pl.col("id").str.extract(r"^(?:[a-z\-\.]+/)?(\d{4})", 1)
    yy = yymm.str.slice(0, 2).cast(pl.Int32)
    year = pl.when(yy >= 91).then(1900 + yy).otherwise(2000 + yy)
    month = yymm.str.slice(2, 2).cast(pl.Int32)
    return pl.datetime(year, month, 1, time_zone="UTC")


def load_real_papers(folder: Path) -> pl.DataFrame:
    """Every record of ``folder/*.jsonl.gz`` as one papers-like row (ids are unique across the files)."""
    raw = pl.concat(
        pl.read_ndjson(io.BytesIO(gzip.open(path).read()), schema=_SCHEMA)
        for path in sorted(folder.glob("*.jsonl.gz"))
    )
    v1 = (pl.col("versions").list.first().struct.field("created")
          .str.strptime(pl.Datetime("us"), "%a, %d %b %Y %H:%M:%S GMT", strict=False)
          .dt.replace_time_zone("UTC"))
    published = (pl.col("x_published").str.slice(0, 19).str.replace("T", " ")
                 .str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
                 .dt.replace_time_zone("UTC"))
    listed = pl.col("categories").str.split(" ")
    return raw.select(
        "id",
        pl.coalesce(v1, published, _id_month()).alias("submitted"),
        pl.when(v1.is_not_null()).then(pl.lit("v1"))
        .when(published.is_not_null()).then(pl.lit("published"))
        .otherwise(pl.lit("id")).alias("date_source"),
        pl.coalesce(listed, pl.col("x_source_categories")).alias("categories"),
        listed.list.first().alias("primary_category"),
        pl.col("x_source").alias("source"),
    )


TOPICS = ("data", "knowledge", "computing_system", "parallel_training", "language_model", "vision_model",
          "multimodal_model", "theory_interpretability", "commonsense_reasoning", "reliability_security",
          "governance", "evaluation", "machine_translation", "text_generation", "dialogue", "protein")


def synthetic_labels(papers: pl.DataFrame, *, model_version: str = "m1", n_subtopics: int = 60,
                     seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Random but reproducible ``classifications`` (0-3 topics a paper), ``paper_subtopics`` and ``subtopics``."""
    rng = np.random.default_rng(seed)
    n = papers.height
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    wanted = rng.choice(4, size=n, p=[0.4, 0.35, 0.2, 0.05])
    picks = rng.integers(0, len(TOPICS), size=(3, n))
    ids = papers["id"]
    classifications = pl.concat(
        pl.DataFrame({"id": ids, "t": picks[j]}).filter(pl.Series(wanted > j)) for j in range(3)
    ).unique(["id", "t"]).select(
        "id", pl.col("t").replace_strict(dict(enumerate(TOPICS)), return_dtype=pl.String).alias("topic"),
        pl.lit(0.9).alias("score"), pl.lit("combined").alias("method"),
        pl.lit(model_version).alias("model_version"), pl.lit(at).alias("classified_at"),
    )
    paper_subtopics = pl.DataFrame({
        "id": ids, "subtopic": rng.integers(-1, n_subtopics, size=n),
    }).with_columns(pl.lit(model_version).alias("model_version"), pl.lit(None, pl.Int32).alias("paper_version"),
                    pl.lit(at).alias("classified_at"))
    subtopics = pl.DataFrame({
        "subtopic": np.arange(n_subtopics, dtype=np.int64),
        "label": [f"subtopic {i}" for i in range(n_subtopics)],
        "keywords": [[f"kw{i}a", f"kw{i}b"] for i in range(n_subtopics)],
        "parent_topic": [TOPICS[i % len(TOPICS)] for i in range(n_subtopics)],
    }).join(paper_subtopics.group_by("subtopic").agg(pl.len().cast(pl.Int64).alias("size")), on="subtopic",
            how="left").with_columns(pl.col("size").fill_null(0), pl.lit(model_version).alias("model_version"))
    return classifications, paper_subtopics, subtopics


def synthetic_scores(classifications: pl.DataFrame, ids: pl.Series, *, model_version: str = "m1",
                     seed: int = 0) -> pl.DataFrame:
    """``topic_scores`` consistent with ``classifications``: 0.9 for an assigned topic, a small probability else."""
    rng = np.random.default_rng(seed)
    scores = rng.beta(1, 40, size=(len(ids), len(TOPICS))).astype(np.float32)
    row = dict(zip(ids.to_list(), range(len(ids))))
    assigned = classifications.select(pl.col("id").replace_strict(row, return_dtype=pl.Int64),
                                      pl.col("topic").replace_strict({t: i for i, t in enumerate(TOPICS)},
                                                                     return_dtype=pl.Int64))
    scores[assigned["id"].to_numpy(), assigned["topic"].to_numpy()] = 0.9
    return pl.DataFrame({"id": ids, "model_version": pl.Series([model_version] * len(ids), dtype=pl.String),
                         **{t: scores[:, k] for k, t in enumerate(TOPICS)}})


def write_outcome(wh: Warehouse, *, model_version: str = "m1", n: int = 2000, seed: int = 0) -> None:
    """A model folder holding out-of-fold results on ``n`` synthetic labelled papers (what the estimates read)."""
    from analytics.classify.quality import LabelledOutcome

    rng = np.random.default_rng(seed)
    scores = rng.beta(1, 8, size=(n, len(TOPICS)))
    y = rng.random(scores.shape) < scores
    folder = wh.settings.models_dir / model_version
    folder.mkdir(parents=True, exist_ok=True)
    LabelledOutcome(list(TOPICS), np.array([f"l{i}" for i in range(n)]), np.array(["train"] * n),
                    rng.integers(0, 4, n), y, np.ones_like(y), np.ones_like(y), scores, scores >= 0.5).save(folder)


def write_tables(wh: Warehouse, papers: pl.DataFrame, classifications: pl.DataFrame | None = None,
                 paper_subtopics: pl.DataFrame | None = None, subtopics: pl.DataFrame | None = None,
                 topic_scores: pl.DataFrame | None = None) -> None:
    """Write the input tables the way the pipeline does (papers Hive-partitioned by UTC year)."""
    with wh.lock():
        wh.write_table("papers", papers.with_columns(pl.col("submitted").dt.year().alias("year")),
                       partition_by="year")
        for name, frame in (("classifications", classifications), ("paper_subtopics", paper_subtopics),
                            ("subtopics", subtopics), ("topic_scores", topic_scores)):
            if frame is not None:
                wh.write_table(name, frame)
