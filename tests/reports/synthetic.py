"""A small, plausible warehouse for the report tests: every table the site reads, written like the real ones.

Values follow the documented schemas (docs/DESIGN.md, "Metrics tables" and "Classification tables") so the
site is exercised on realistic shapes: 16 topics, 2019-01..2026-11 with low-coverage and partial months,
subtopics with per-year keywords, co-occurrence, categories, coverage by source, and papers with hostile titles.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from warehouse import open_warehouse
from warehouse.api import Warehouse
from warehouse.state import record_run

TOPICS = [
    "data", "knowledge", "computing_system", "parallel_training", "language_model", "vision_model",
    "multimodal_model", "theory_interpretability", "commonsense_reasoning", "reliability_security",
    "governance", "evaluation", "machine_translation", "text_generation", "dialogue", "protein",
]
FIRST, LAST = (2019, 1), (2026, 11)  # the last month is partial
LOW_COVERAGE = {(2019, m) for m in range(1, 7)} | {(2021, 3)}

HOSTILE_TITLES = [
    "<script>window.__xss = 1; alert(1)</script>",
    "Closing tags </div></td></table> in a title",
    "Quotes \" and ' and `backticks` <img src=x onerror=\"window.__xss=2\">",
    "LaTeX $\\mathcal{O}(n^2)$ attention & <b>bold</b> \\emph{claims}",
]
HOSTILE_AUTHOR = "<svg onload=\"window.__xss=3\">Mallory</svg>"
HOSTILE_LABEL = "<script>window.__xss=4</script> $x$"


def months() -> list[date]:
    out, (y, m) = [], FIRST
    while (y, m) <= LAST:
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# Monthly growth rates: most topics grow, two shrink and two hold steady (so "steady" and "shrinking" show up).
RATES = {3: -0.012, 10: -0.02, 6: 0.0, 12: 0.001}
COUNT_BIAS = 0.08   # the simulated classifier over-counts every topic by this fraction (the estimate removes it)
Z90 = 1.645


def _rate(ti: int) -> float:
    return RATES.get(ti, 0.01 + 0.004 * (ti % 5))


def _topic_monthly() -> pl.DataFrame:
    rows = []
    for ti, topic in enumerate(TOPICS):
        base, rate = 20 + 13 * ti, _rate(ti)
        history: list[int] = []
        for i, month in enumerate(months()):
            flags = (month.year, month.month) in LOW_COVERAGE
            scale = 0.3 if flags else (0.4 if (month.year, month.month) == LAST else 1.0)
            papers = int(base * math.exp(rate * i) * (1 + 0.15 * math.sin(i / 2 + ti)) * scale)
            history.append(papers)
            total = int(2000 * math.exp(0.012 * i) * scale)
            prev_year = history[i - 12] if i >= 12 else None
            rows.append({
                "topic": topic, "month": month, "papers": papers, "total_papers": total,
                "share": papers / total,
                "mom_growth": (papers / history[i - 1] - 1) if i and history[i - 1] else None,
                "yoy_growth": (papers / prev_year - 1) if prev_year else None,
                "rolling_3m": sum(history[-3:]) / len(history[-3:]),
                "rolling_12m": sum(history[-12:]) / len(history[-12:]),
                "cagr_3y": rate * 12 if i >= 36 else None, "cagr_5y": rate * 12 if i >= 60 else None,
                "acceleration": 0.001 * math.cos(i / 3 + ti),
                "burst_level": float(2 if (ti % 4 == 0 and i % 17 == 0) else 0),
                "partial": (month.year, month.month) == LAST,
                "low_coverage": flags,
            })
    return pl.DataFrame(rows)


def _interval(est: pl.Expr, rel_sd: float) -> tuple[pl.Expr, pl.Expr]:
    """A 90% interval around a count: Poisson noise plus a relative error of the classifier's rates."""
    sd = (est.clip(lower_bound=0) + (rel_sd * est) ** 2).sqrt()
    return (est - Z90 * sd).clip(lower_bound=0), est + Z90 * sd


def _growth(now: str, before: str) -> list[pl.Expr]:
    """yoy growth of an estimate (``<now>_est`` over ``<before>_est``, each with ``_low`` / ``_high``) with a 90%
    interval (log-normal approximation) and the trend it supports."""
    sd = lambda c: ((pl.col(f"{c}_high") + 1).log() - (pl.col(f"{c}_low") + 1).log()) / (2 * Z90)  # noqa: E731
    ratio = (pl.col(f"{now}_est") / pl.col(f"{before}_est")).log()
    spread = (sd(now) ** 2 + sd(before) ** 2).sqrt()
    ok = (pl.col(f"{before}_est") > 0) & pl.col(f"{now}_est").is_not_null()
    est = pl.when(ok).then(pl.col(f"{now}_est") / pl.col(f"{before}_est") - 1)
    low = pl.when(ok).then((ratio - Z90 * spread).exp() - 1)
    high = pl.when(ok).then((ratio + Z90 * spread).exp() - 1)
    trend = (pl.when(est.is_null()).then(None).when(low > 0).then(pl.lit("growing"))
             .when(high < 0).then(pl.lit("shrinking")).otherwise(pl.lit("steady")))
    return [est.alias("yoy_growth_est"), low.alias("yoy_growth_low"), high.alias("yoy_growth_high"),
            trend.alias("trend")]


def with_estimates(monthly: pl.DataFrame) -> pl.DataFrame:
    """The error-corrected columns of issue 13 on topic_monthly: estimates, intervals, growth, trend, nowcast.

    The classified counts are ``COUNT_BIAS`` too high, so the estimate is papers / (1 + bias); the open (partial)
    month is nowcast to its final size (the fixture's partial month holds 40% of it) with a wider interval."""
    nowcast = pl.col("partial")
    scale = pl.when(nowcast).then(1 / 0.4).otherwise(1.0)
    frame = monthly.with_columns(
        papers_est=pl.col("papers") * scale / (1 + COUNT_BIAS), total_est=pl.col("total_papers") * scale,
        nowcast=nowcast)
    low, high = _interval(pl.col("papers_est"), 0.06)
    now_low, now_high = _interval(pl.col("papers_est"), 0.2)
    frame = frame.with_columns(papers_low=pl.when(nowcast).then(now_low).otherwise(low),
                               papers_high=pl.when(nowcast).then(now_high).otherwise(high))
    frame = frame.with_columns([(pl.col(f"papers_{k}") / pl.col("total_est")).alias(f"share_{k}")
                                for k in ("est", "low", "high")]).drop("total_est")
    before = frame.select("topic", pl.col("month").dt.offset_by("12mo"),
                          *[pl.col(f"papers_{k}").alias(f"base_{k}") for k in ("est", "low", "high")],
                          (pl.col("low_coverage") | pl.col("partial")).alias("base_flagged"))
    usable = ~pl.col("low_coverage") & ~pl.col("nowcast") & ~pl.col("base_flagged").fill_null(True)
    frame = frame.join(before, on=["topic", "month"], how="left").with_columns(
        [pl.when(usable).then(pl.col(f"base_{k}")).alias(f"base_{k}") for k in ("est", "low", "high")])
    return frame.with_columns(_growth("papers", "base")).drop(
        "base_est", "base_low", "base_high", "base_flagged").sort("topic", "month")


def _topic_yearly(monthly: pl.DataFrame, estimates: bool) -> pl.DataFrame:
    aggs = [pl.col("papers").sum(), pl.col("total_papers").sum(), pl.col("partial").any(),
            pl.col("low_coverage").any(), pl.col("burst_level").max()]
    if estimates:
        aggs += [pl.col("nowcast").any(), pl.col("papers_est").sum(),
                 (pl.col("papers_est") / pl.col("share_est")).sum().alias("_total_est"),
                 # the months' intervals combine as independent normals (sd from each half-width)
                 ((pl.col("papers_high") - pl.col("papers_est")) / Z90).pow(2).sum().sqrt().alias("_sd")]
    yearly = (monthly.group_by("topic", pl.col("month").dt.year().cast(pl.Int32).alias("year")).agg(aggs)
              .sort("topic", "year"))
    prev = pl.col("papers").shift(1).over("topic", order_by="year")
    yearly = yearly.with_columns(
        share=pl.col("papers") / pl.col("total_papers"),
        yoy_growth=pl.col("papers") / prev - 1,
        rolling_3m=pl.col("papers").cast(pl.Float64), rolling_12m=pl.col("papers").cast(pl.Float64),
        cagr_3y=pl.lit(0.2), cagr_5y=pl.lit(0.15), acceleration=pl.lit(0.0),
    )
    if not estimates:
        return yearly
    yearly = yearly.with_columns(papers_low=(pl.col("papers_est") - Z90 * pl.col("_sd")).clip(lower_bound=0),
                                 papers_high=pl.col("papers_est") + Z90 * pl.col("_sd"))
    yearly = yearly.with_columns([(pl.col(f"papers_{k}") / pl.col("_total_est")).alias(f"share_{k}")
                                  for k in ("est", "low", "high")])
    lag = lambda c, n=1: pl.col(c).shift(n).over("topic", order_by="year")  # noqa: E731
    flagged = pl.col("low_coverage") | pl.col("nowcast")
    comparable = ~flagged & ~lag("low_coverage").fill_null(True)
    yearly = yearly.with_columns([pl.when(comparable).then(lag(f"papers_{k}")).alias(f"base_{k}")
                                  for k in ("est", "low", "high")])
    yearly = yearly.with_columns(_growth("papers", "base"))
    three = pl.when(~flagged & ~lag("low_coverage", 3).fill_null(True))
    yearly = yearly.with_columns(
        [three.then((pl.col(f"papers_{k}") / lag(f"papers_{j}", 3)) ** (1 / 3) - 1).alias(f"cagr_3y_{k}")
         for k, j in (("est", "est"), ("low", "high"), ("high", "low"))])
    change = pl.when(comparable)
    yearly = yearly.with_columns(
        share_change_est=change.then(pl.col("share_est") - lag("share_est")),
        share_change_low=change.then(pl.col("share_low") - lag("share_high")),
        share_change_high=change.then(pl.col("share_high") - lag("share_low")))
    return yearly.drop("_total_est", "_sd", "base_est", "base_low", "base_high")


SUBTOPICS = [  # subtopic, label, keywords, parent
    (0, "instruction tuning", ["instruction", "tuning", "alignment"], "language_model"),
    (1, "llm agents", ["agent", "tool", "planning"], "language_model"),
    (2, "scaling laws", ["scaling", "compute", "loss"], "language_model"),
    (3, HOSTILE_LABEL, ["<b>kw</b>", "\"quoted\"", "&amp;"], "language_model"),
    (4, "diffusion backbones", ["diffusion", "denoising", "image"], "vision_model"),
    (5, "protein language models", ["protein", "sequence", "plm"], "protein"),
    (-1, "outliers", ["misc"], "other"),
]


def _subtopic_tables(all_months: list[date]) -> dict[str, pl.DataFrame]:
    subtopics = pl.DataFrame([{"subtopic": s, "label": label, "keywords": kw, "parent_topic": parent,
                               "size": 100 + 10 * s, "model_version": "v-test"}
                              for s, label, kw, parent in SUBTOPICS],
                             schema_overrides={"subtopic": pl.Int64, "size": pl.Int64})
    periods = pl.DataFrame([{"subtopic": s, "year": y, "keywords": [f"{kw[0]}-{y}", *kw[1:]]}
                            for s, _, kw, _ in SUBTOPICS if s >= 0 for y in range(2019, 2027)],
                           schema_overrides={"subtopic": pl.Int64, "year": pl.Int32})
    monthly = pl.DataFrame([{"subtopic": s, "parent_topic": parent, "label": label, "month": m,
                             "papers": 3 + (i * (s + 1)) % 11, "share": 0.01, "yoy_growth": 0.1}
                            for s, label, _, parent in SUBTOPICS if s >= 0 for i, m in enumerate(all_months)],
                           schema_overrides={"subtopic": pl.Int64})
    emerging = pl.DataFrame([{"rank": r + 1, "subtopic": s, "label": label, "parent_topic": parent,
                              "recent_papers": 50 - 7 * r, "growth": 1.5 - 0.2 * r, "keywords": kw,
                              "recent_from": date(2026, 5, 1), "recent_to": date(2026, 10, 1),
                              "previous_from": date(2025, 11, 1), "previous_to": date(2026, 4, 1)}
                             for r, (s, label, kw, parent) in enumerate(SUBTOPICS[:5])],
                            schema_overrides={"subtopic": pl.Int64})
    return {"subtopics": subtopics, "subtopic_periods": periods,
            "metrics/subtopic_monthly": monthly, "metrics/emerging_subtopics": emerging}


def _cooccurrence() -> pl.DataFrame:
    return pl.DataFrame([{"year": y, "topic_a": a, "topic_b": b, "papers": (ia + ib + y) % 9,
                          "jaccard": ((ia + ib + y) % 9) / 200}
                         for y in range(2019, 2027) for ia, a in enumerate(TOPICS)
                         for ib, b in enumerate(TOPICS) if ia < ib],
                        schema_overrides={"year": pl.Int32})


def _categories() -> pl.DataFrame:
    cats = ["cs.CL", "cs.LG", "cs.CV", "cs.AI", "stat.ML", "q-bio.BM", "cs.CR", "cs.DC", "cs.IR", "eess.AS"]
    return pl.DataFrame([{"year": y, "topic": t, "category": c, "papers": 5 + (ti * 3 + ci * 7 + y) % 40,
                          "share": 0.1}
                         for y in range(2019, 2027) for ti, t in enumerate(TOPICS) for ci, c in enumerate(cats)],
                        schema_overrides={"year": pl.Int32})


def _coverage(all_months: list[date]) -> pl.DataFrame:
    rows = []
    for i, m in enumerate(all_months):
        low, partial = (m.year, m.month) in LOW_COVERAGE, (m.year, m.month) == LAST
        per = {"snapshot": 1500 + 10 * i, "oai-arXivRaw": 300 + 5 * i if m.year >= 2023 else 0}
        if low:
            per = {k: v // 10 for k, v in per.items()}
        for source, n in per.items():
            rows.append({"month": m, "source": source, "papers": n, "total_papers": sum(per.values()),
                         "partial": partial, "low_coverage": low})
    return pl.DataFrame(rows)


# The papers of the last week (the "What's new" digest): title, abstract, topics with scores.
DIGEST = [
    ("Instruction tuning of large language models for dialogue", "We instruction-tune LLMs for multi-turn dialogue "
     "and study in-context learning.", {"language_model": 0.91, "dialogue": 0.62}),
    ("Scaling laws for small language models", "We fit scaling laws of language models.", {"language_model": 0.84}),
    ("A chatbot for customer service", "A task-oriented dialogue system with state tracking.", {"dialogue": 0.88}),
    ("Protein language models predict binding affinity", "Protein sequences and amino acids.", {"protein": 0.93}),
    ("Magnetic order in a kagome lattice", "We measure the phonon spectrum of the crystal.", {}),
    ("Turbulence in rotating fluids", "Direct numerical simulation of rotating flows.", {}),
]
CLASSIFIER_TEXTS = {  # what the fixture's classifier is fitted on (its rules find the topics in them)
    "language_model": "Large language models and {x}. We study pretrained language models, in-context learning and "
                      "instruction tuning of LLMs.",
    "dialogue": "Dialogue systems for {x}. A chatbot for multi-turn conversational dialogue and response generation.",
    "protein": "Protein structure prediction with {x}. We model protein sequences and amino acids and binding "
               "affinity of proteins.",
    None: "Magnetic order in {x}. We measure the phonon spectrum and the gap of the crystal lattice.",
}
FILLER = ["graphs", "networks", "signals", "tables", "images", "forests", "streams", "kernels", "galaxies", "fluids"]


def fit_classifier():
    """A real ``TopicClassifier`` fitted on a few hundred template papers with seeded random embeddings: enough for
    its lexical model to learn the words of three topics, so the evidence of a paper can be shown."""
    import numpy as np

    from analytics.classify.model import PaperBatch, TopicClassifier

    texts = []
    for i in range(240):
        kind = list(CLASSIFIER_TEXTS)[i % len(CLASSIFIER_TEXTS)]
        title, abstract = CLASSIFIER_TEXTS[kind].format(x=f"{FILLER[i % 10]} {FILLER[(i * 3 + 1) % 10]}").split(". ", 1)
        texts.append({"title": title, "abstract": abstract, "categories": ["cs.CL"] if kind else ["cond-mat.str-el"]})
    frame = pl.DataFrame(texts)
    vectors = np.random.default_rng(0).normal(size=(frame.height, 8)).astype(np.float32)
    return TopicClassifier(min_positives=3).fit(PaperBatch(frame, vectors))


def _papers_and_classifications() -> tuple[pl.DataFrame, pl.DataFrame]:
    papers, classes = [], []
    titles = HOSTILE_TITLES + [f"A study of topic {t} number {k}" for t in TOPICS[:6] for k in range(3)]
    for i, title in enumerate(titles):
        topic = TOPICS[4] if i < len(HOSTILE_TITLES) else TOPICS[(i - len(HOSTILE_TITLES)) // 3]
        submitted = datetime(2026, 10 - (i % 9), 1 + i % 27, 12, tzinfo=timezone.utc)
        pid = f"{submitted.strftime('%y%m')}.{10000 + i:05d}"
        about = " We study instruction tuning of large language models." if topic == "language_model" else ""
        papers.append({
            "id": pid, "version": 1, "title": title,
            "abstract": f"Abstract {i} with <i>markup</i> and $E=mc^2$ & </textarea>.{about}",
            "authors": [HOSTILE_AUTHOR, "Ada Lovelace", f"Author {i}"] if i == 0 else ["Ada Lovelace", f"Author {i}"],
            "categories": ["cs.CL", "cs.LG"], "primary_category": "cs.CL", "submitted": submitted,
            "date_source": "id", "updated": None, "doi": None, "journal_ref": None, "comments": None,
            "license": None, "source": "snapshot", "ingested_at": datetime(2026, 11, 1, tzinfo=timezone.utc),
            "year": submitted.year,
        })
        classes.append({"id": pid, "topic": topic, "score": round(0.99 - i / 100, 4), "method": "combined",
                        "model_version": "v-test", "classified_at": datetime(2026, 11, 2, tzinfo=timezone.utc)})
    papers.append({**papers[-1], "id": "hep-th/9901001", "title": "An old-style id",
                   "submitted": datetime(1999, 1, 5, tzinfo=timezone.utc), "year": 1999})
    classes.append({**classes[-1], "id": "hep-th/9901001"})
    for i, (title, abstract, topics) in enumerate(DIGEST):
        submitted = datetime(2026, 11, 20 - i, 9, tzinfo=timezone.utc)
        pid = f"2611.{20000 + i:05d}"
        papers.append({**papers[0], "id": pid, "title": title, "abstract": abstract, "submitted": submitted,
                       "authors": ["Ada Lovelace", f"Digest Author {i}"], "year": 2026})
        classes += [{**classes[0], "id": pid, "topic": t, "score": score} for t, score in topics.items()]
    frame = pl.DataFrame(papers).with_columns(pl.col("version").cast(pl.Int32), pl.col("year").cast(pl.Int32))
    return frame, pl.DataFrame(classes)


def write_synthetic_warehouse(home: Path, *, optional: bool = True, model: bool = True,
                              estimates: bool = True) -> Warehouse:
    """Fill ``home`` with every table the report reads; ``optional=False`` leaves the optional ones out,
    ``estimates=False`` the error-corrected columns of issue 13 (a warehouse aggregated before them)."""
    wh = open_warehouse(home)
    all_months = months()
    monthly = _topic_monthly()
    if estimates:
        monthly = with_estimates(monthly)
    papers, classes = _papers_and_classifications()
    with wh.lock():
        wh.write_table("metrics/topic_monthly", monthly)
        wh.write_table("metrics/topic_yearly", _topic_yearly(monthly, estimates))
        wh.write_table("papers", papers, partition_by="year")
        wh.write_table("classifications", classes)
        if optional:
            for name, frame in _subtopic_tables(all_months).items():
                wh.write_table(name, frame)
            wh.write_table("metrics/topic_cooccurrence", _cooccurrence())
            wh.write_table("metrics/topic_categories", _categories())
            wh.write_table("metrics/coverage_monthly", _coverage(all_months))
    record_run(wh.settings, "harvest", added=42, last_datestamp="2026-11-20")
    record_run(wh.settings, "aggregate", months=len(all_months), seconds=0.5,
               low_coverage_months=[f"{y}-{m:02d}" for y, m in sorted(LOW_COVERAGE)], notes="<b>no</b> subtopics")
    if model:
        import joblib

        (wh.settings.models_dir / "v-test").mkdir(parents=True, exist_ok=True)
        joblib.dump(fit_classifier(), wh.settings.models_dir / "v-test" / "classifier.joblib")
        (wh.settings.models_dir / "current.json").write_text(json.dumps({
            "version": "v-test", "embedder": "model2vec <fast>",
            "evaluation": {"macro_f1": 0.61, "micro_f1": 0.7, "macro_f1_ci": [0.55, 0.67],
                           "per_topic": {t: {"precision": 0.7, "recall": 0.6, "f1": 0.65, "support": 10 + i}
                                         for i, t in enumerate(TOPICS)},
                           **({"count_bias": {t: COUNT_BIAS for t in TOPICS},
                               "by_era": {era: {t: {"precision": 0.7 - d, "recall": 0.6 + d, "support": 5}
                                                for t in TOPICS}
                                          for era, d in (("2007-2019", 0.05), ("2020-2026", 0.0))}}
                              if estimates else {})},
            **({"quality": {"macro_f1": 0.66, "macro_f1_ci": [0.6, 0.71], "labels": 238}} if estimates else {}),
        }), encoding="utf-8")
    return wh
