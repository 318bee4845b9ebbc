"""Classify the warehouse: fit once (or on ``--refit``), then classify new and changed papers with the saved model.

``load_model`` / ``predict_frame`` are the pure, batchable pair that Dask workers run; ``classify_warehouse``
uses them too, so the CLI, the flows and the workers produce identical rows.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import orjson
import polars as pl

from analytics.classify.evaluation import Evaluation, evaluate, read_gold
from analytics.classify.model import (CLASSIFIER_RECIPE, EMBEDDING_C, SUPERVISED_EMBEDDING_C, LabelledBatch,
                                     PaperBatch, TopicClassifier)
from analytics.classify.quality import LabelledOutcome
from analytics.classify.store import (ClassifierBundle, load_bundle, new_version, read_current, save_bundle,
                                      set_current)
from analytics.classify.training import embed_labels, labelled_batch, load_labels
from analytics.classify.workers import WorkerPool, worker_count
from analytics.embeddings.base import paper_texts
from analytics.eras import ERA_NAMES, frame_eras
from analytics.rules.engine import RULES_VERSION
from analytics.taxonomy import load_taxonomy
from warehouse.api import Warehouse
from warehouse.errors import ArxivTrendsError, InputError
from warehouse.settings import Settings
from warehouse.state import record_run

PAPER_COLUMNS = ["id", "title", "abstract", "categories", "version", "submitted"]
BATCH = 50_000  # papers per prediction batch: bounds the memory of the rule matcher
READ_BATCH = 200_000  # papers read, embedded and classified per pass of the loop: bounds memory at any corpus size
READ_SPAN = 400_000  # widest slice of the papers table read for one batch of scattered papers
FIT_SAMPLE = 200_000  # papers a fit learns from (a fixed-seed sample of the corpus; all of it when smaller)
RULE_EVIDENCE = 0.5  # a rule score this high counts as the rules having spoken
EMBEDDING_EVIDENCE = 0.5

CLASSIFICATIONS_SCHEMA = {"id": pl.String, "topic": pl.String, "score": pl.Float64, "method": pl.String,
                          "model_version": pl.String, "classified_at": pl.Datetime("us", "UTC")}
PAPER_SUBTOPICS_SCHEMA = {"id": pl.String, "subtopic": pl.Int64, "model_version": pl.String,
                          "paper_version": pl.Int32, "classified_at": pl.Datetime("us", "UTC")}


@dataclass
class ClassifiedBatch:
    """Rows for ``classifications`` (0-3 per paper) and ``paper_subtopics`` (one per paper); ``score_matrix`` gives
    the ``topic_scores`` rows (every topic's score per paper: what the error-corrected counts add up)."""

    classifications: pl.DataFrame
    paper_subtopics: pl.DataFrame
    topic_ids: list[str] = field(default_factory=list)
    score_matrix: np.ndarray | None = None  # (papers, topics): every topic's combined score

    def scores(self) -> dict[str, dict[str, float]]:
        """``{id: {topic: score}}`` for every topic (built on demand: large for a whole corpus)."""
        if self.score_matrix is None:
            return {}
        ids = self.paper_subtopics["id"].to_list()
        return {pid: {t: round(float(v), 4) for t, v in zip(self.topic_ids, row)}
                for pid, row in zip(ids, self.score_matrix)}

    def topic_scores(self, model_version: str) -> pl.DataFrame:
        """The ``topic_scores`` rows: id, model_version, one Float32 column per topic."""
        ids = self.paper_subtopics["id"]
        matrix = self.score_matrix if self.score_matrix is not None else np.zeros((len(ids), len(self.topic_ids)))
        return pl.DataFrame({"id": ids, "model_version": pl.Series([model_version] * len(ids), dtype=pl.String),
                             **{t: matrix[:, k].astype(np.float32) for k, t in enumerate(self.topic_ids)}},
                            schema={"id": pl.String, "model_version": pl.String,
                                    **{t: pl.Float32 for t in self.topic_ids}})

    def topics(self) -> dict[str, list[str]]:
        """``{id: [topic, ...]}`` (best first), every paper of the batch included."""
        out: dict[str, list[str]] = {pid: [] for pid in self.paper_subtopics["id"].to_list()}
        for pid, topic in self.classifications.sort("score", descending=True).select("id", "topic").iter_rows():
            out[pid].append(topic)
        return out


@dataclass
class ClassifySummary:
    model_version: str
    embedder: str
    fitted: bool
    classified: int
    assignments: int
    papers_without_topic: int
    subtopics: int
    evaluation: dict | None
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


Progress = bool | Callable[[str], None]  # True: lines on stderr; a callable (a Prefect logger's info) gets them


def _log(progress: Progress, message: str) -> None:
    if callable(progress):
        progress(f"classify: {message}")
    elif progress:
        print(f"classify: {message}", file=sys.stderr, flush=True)


def load_model(settings: Settings) -> ClassifierBundle:
    """The current saved model (raises ``ModelMissing`` if none was fitted)."""
    return load_bundle(settings)


def predict_frame(model: ClassifierBundle, papers: pl.DataFrame, embeddings: np.ndarray | None = None,
                  classified_at: datetime | None = None, texts: list[str] | None = None) -> ClassifiedBatch:
    """Classify ``papers`` (id, title, abstract, categories, optional version); pure apart from embedding.
    ``texts``: each paper's ``paper_text`` when the caller has them (at millions of papers, worth not redoing)."""
    now = classified_at or datetime.now(timezone.utc)
    if "categories" not in papers.columns:
        papers = papers.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("categories"))
    texts = paper_texts(papers) if texts is None else texts
    if embeddings is None:
        embeddings = model.embedder().encode(texts) if papers.height else np.zeros((0, 1))
    if papers.height == 0:
        return ClassifiedBatch(pl.DataFrame(schema=CLASSIFICATIONS_SCHEMA), pl.DataFrame(schema=PAPER_SUBTOPICS_SCHEMA),
                               list(model.classifier.topic_ids_), np.zeros((0, len(model.classifier.topic_ids_))))
    clf = model.classifier
    fields = [c for c in ("title", "abstract", "categories", "submitted") if c in papers.columns]
    decision = clf.decide(PaperBatch(papers.select(fields), np.asarray(embeddings), texts))
    if model.subtopics is not None:
        subtopic = model.subtopics.transform(texts, embeddings)
        parents = model.subtopics.parents_
    else:
        subtopic, parents = np.full(papers.height, -1, dtype=np.int64), {}
    ids = papers["id"].to_list()
    rows, cols = np.nonzero(decision.chosen)
    methods = []
    for r, c in zip(rows, cols):
        by_rule = decision.rule.scores[r, c] >= RULE_EVIDENCE
        by_embedding = decision.embedding[r, c] >= EMBEDDING_EVIDENCE
        if by_rule and not by_embedding:
            methods.append("rule")
        elif by_embedding and not by_rule:
            methods.append("subtopic" if parents.get(int(subtopic[r])) == clf.topic_ids_[c] else "zeroshot")
        else:
            methods.append("combined")
    classifications = pl.DataFrame({
        "id": [ids[r] for r in rows], "topic": [clf.topic_ids_[c] for c in cols],
        "score": decision.scores[rows, cols].astype(np.float64), "method": methods,
        "model_version": model.version, "classified_at": now,
    }, schema=CLASSIFICATIONS_SCHEMA)
    version = papers["version"] if "version" in papers.columns else pl.Series([None] * papers.height)
    paper_subtopics = pl.DataFrame({
        "id": ids, "subtopic": subtopic.astype(np.int64), "model_version": model.version,
        "paper_version": version.cast(pl.Int32), "classified_at": now,
    }, schema=PAPER_SUBTOPICS_SCHEMA)
    return ClassifiedBatch(classifications, paper_subtopics, list(clf.topic_ids_), decision.scores)


def fit_model(settings: Settings, papers: pl.DataFrame, embeddings: np.ndarray, embedder, taxonomy: str | None,
              progress: Progress = False, labels: LabelledBatch | None = None, labels_info: dict | None = None,
              label_ids: list[str] | None = None, label_sets: list[str] | None = None) -> ClassifierBundle:
    """Fit the classifier (rule weak labels, then the supervised stage on ``labels``), measure it by
    cross-validation over the labels, fit the BERTopic subtopics on all ``papers``, and save them."""
    from analytics.subtopics import SubtopicModel

    tax = load_taxonomy(taxonomy)
    descriptions = tax.descriptions()
    _log(progress, f"fitting the classifier on {papers.height} papers"
                   + (f" and {len(labels.papers)} labelled papers" if labels is not None else ""))
    clf = TopicClassifier(taxonomy_path=str(Path(taxonomy).resolve()) if taxonomy else None,
                          C=EMBEDDING_C.get(embedder.name, TopicClassifier().C),
                          supervised_embedding_C=SUPERVISED_EMBEDDING_C.get(embedder.name, 16.0)).fit(
        PaperBatch(papers.select("title", "abstract", "categories", "submitted"), embeddings),
        description_vectors=embedder.encode(list(descriptions.values())), labels=labels)
    outcome = None
    if labels is not None and clf.supervised_stage_ is not None:
        _log(progress, f"cross-validating on the labelled papers ({len(clf.supervised_topics_)} supervised topics)")
        scores, chosen = clf.cross_validate(labels)
        outcome = LabelledOutcome(list(clf.topic_ids_), np.array(label_ids), np.array(label_sets),
                                  frame_eras(labels.papers.frame), labels.y, labels.judged, labels.threshold_rows,
                                  scores, chosen)
        quality = outcome.summary()["quality"]
        _log(progress, f"cross-validated macro F1 {quality['macro_f1']:.3f} (95% CI {quality['macro_f1_ci'][0]:.3f}"
                       f"–{quality['macro_f1_ci'][1]:.3f}), mean absolute count bias {quality['mean_abs_count_bias']:.3f}")
    _log(progress, "fitting BERTopic subtopics")
    subtopics = SubtopicModel(embedder=embedder, seed=42).fit(paper_texts(papers), embeddings, descriptions)
    bundle = ClassifierBundle(version=new_version(embedder.name, tax.digest(), settings.models_dir),
                              embedder_name=embedder.name, embedder_version=embedder.version, classifier=clf,
                              subtopics=subtopics, settings=settings, _embedder=embedder, outcome=outcome,
                              labels=labels_info)
    save_bundle(bundle, tax.source)
    return bundle


def subtopic_periods(bundle: ClassifierBundle, corpus: "CorpusReader", paper_subtopics: pl.DataFrame) -> pl.DataFrame:
    """The ``subtopic_periods`` table: each subtopic's c-TF-IDF keywords per submission year, over all papers
    (their texts read from the warehouse as the keyword counting reaches them)."""
    rows = corpus.index.join(paper_subtopics.select("id", "subtopic"), on="id", how="inner", maintain_order="left")
    return bundle.subtopics.periods_frame(CorpusTexts(corpus, rows["position"].to_numpy()),
                                          np.zeros((rows.height, 1), dtype=np.float32),
                                          rows["submitted"].to_list(), assignments=rows["subtopic"].to_numpy())


class CorpusReader:
    """The papers of the warehouse read a slice at a time, so that no step holds every abstract in memory.

    ``index`` (id, version, submitted, position) is the small part kept whole; ``read(positions)`` returns the
    full rows at sorted positions of the table's scan order, from slices no wider than ``READ_SPAN``."""

    def __init__(self, wh: Warehouse) -> None:
        self.scan = wh.scan_papers().select(PAPER_COLUMNS)
        self.index = (wh.scan_papers().select("id", "version", "submitted").collect()
                      .with_row_index("position").with_columns(pl.col("position").cast(pl.Int64)))

    @property
    def height(self) -> int:
        return self.index.height

    def read(self, positions: np.ndarray) -> pl.DataFrame:
        """Rows at ``positions`` (sorted, unique), in that order."""
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) == 0:
            return self.scan.head(0).collect()
        parts, start = [], 0
        while start < len(positions):
            lo = int(positions[start])
            stop = int(np.searchsorted(positions, lo + READ_SPAN, side="left"))
            hi = int(positions[stop - 1]) + 1
            part = self.scan.slice(lo, hi - lo).collect()
            wanted = positions[start:stop] - lo
            parts.append(part if len(wanted) == part.height else part[wanted])
            start = stop
        return pl.concat(parts) if len(parts) > 1 else parts[0]

    def batches(self, positions: np.ndarray, size: int = READ_BATCH):
        """``read`` of ``positions`` in batches of at most ``size`` papers."""
        for start in range(0, len(positions), size):
            yield self.read(positions[start:start + size])


class CorpusTexts(Sequence):
    """``paper_text`` of the papers at ``positions``, read ``READ_BATCH`` at a time as an ascending walk reaches
    them (the keyword counting of ``subtopic_periods`` walks its documents in order)."""

    def __init__(self, corpus: CorpusReader, positions: np.ndarray) -> None:
        self.corpus, self.positions = corpus, positions
        self._start, self._texts = 0, []

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: int) -> str:
        if not self._start <= i < self._start + len(self._texts):
            self._start = i
            self._texts = paper_texts(self.corpus.read(self.positions[i:i + READ_BATCH]))
        return self._texts[i - self._start]


def fit_positions(n_papers: int, seed: int = 0) -> np.ndarray:
    """Sorted positions of the papers a fit learns from: all of them up to ``FIT_SAMPLE``, else a fixed-seed sample."""
    if n_papers <= FIT_SAMPLE:
        return np.arange(n_papers, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n_papers, FIT_SAMPLE, replace=False)).astype(np.int64)


def _todo(wh: Warehouse, papers: pl.DataFrame, version: str) -> pl.DataFrame:
    """Papers not yet classified by ``version``, or whose paper version changed since."""
    if not wh.has_table("paper_subtopics"):
        return papers
    done = (wh.scan("paper_subtopics").filter(pl.col("model_version") == version)
            .select("id", pl.col("paper_version").alias("_done_version")).collect())
    joined = papers.join(done, on="id", how="left", maintain_order="left")
    fresh = pl.col("_done_version").is_null() & pl.col("id").is_in(done["id"].implode()).not_()
    changed = pl.col("version").cast(pl.Int32).eq_missing(pl.col("_done_version")).not_()
    return joined.filter(fresh | changed).drop("_done_version")


def _merge(wh: Warehouse, name: str, new: pl.DataFrame, replaced_ids: pl.Series, version: str) -> pl.DataFrame:
    """Rows of the current model version for other papers, plus the new rows (older versions are dropped)."""
    if not wh.has_table(name):
        return new
    old = (wh.scan(name).filter((pl.col("model_version") == version) & ~pl.col("id").is_in(replaced_ids.implode()))
           .collect())
    return pl.concat([old.select(new.columns).cast(new.schema), new])


PredictBatches = Callable[[ClassifierBundle, pl.DataFrame, datetime], list[ClassifiedBatch]]


def _predict_here(bundle: ClassifierBundle, papers: pl.DataFrame, texts: list[str], vectors: np.ndarray,
                  now: datetime) -> Iterator[ClassifiedBatch]:
    """``predict_frame`` of ``papers`` in this process, ``BATCH`` papers at a time."""
    for i in range(0, papers.height, BATCH):
        yield predict_frame(bundle, papers[i:i + BATCH], vectors[i:i + BATCH], now, texts[i:i + BATCH])


def _classified_batches(corpus: CorpusReader, todo: pl.DataFrame, bundle: ClassifierBundle, emb, cache, now: datetime,
                        predict_batches: PredictBatches | None, progress: Progress,
                        held: tuple[pl.DataFrame, list[str], np.ndarray] | None = None) -> Iterator[ClassifiedBatch]:
    """The ``ClassifiedBatch`` of every paper of ``todo``, in order: from ``held`` (papers, texts, vectors of all of
    ``todo``, already in memory after a fit), on Dask (``predict_batches``), in worker processes (a big job on
    several cores), or here; new vectors go into the embeddings cache (not Dask's)."""
    if held is not None:
        yield from _predict_here(bundle, *held, now)
        return
    positions = todo["position"].to_numpy()
    if predict_batches is not None:
        for papers in corpus.batches(positions):
            yield from predict_batches(bundle, papers, now)
        return
    workers = worker_count(todo.height)
    if not workers:
        for papers in corpus.batches(positions):
            texts = paper_texts(papers)
            yield from _predict_here(bundle, papers, texts,
                                     cache.embed(papers["id"].to_list(), texts, emb, progress=bool(progress)), now)
        return
    _log(progress, f"embedding and classifying in {workers} worker processes")
    with WorkerPool(bundle, workers) as pool:
        waiting = None  # the batch the workers are on while the next one is read: reading overlaps their work
        for papers in chain(corpus.batches(positions), [None]):
            submitted = None
            if papers is not None:
                ids, texts = papers["id"].to_list(), paper_texts(papers)
                vectors, found, hashes = cache.cached(ids, texts, emb)
                submitted = (ids, hashes, found, [pool.submit(papers[i:i + BATCH], texts[i:i + BATCH],
                                                              vectors[i:i + BATCH], found[i:i + BATCH], now)
                                                  for i in range(0, papers.height, BATCH)])
            if waiting is not None:
                ids, hashes, found, futures = waiting
                new_vectors = []
                for future in futures:
                    batch, embedded = pool.result(future)
                    new_vectors.append(embedded)
                    yield batch
                missing = np.flatnonzero(~found)
                cache.store(emb.version, [ids[i] for i in missing], [hashes[i] for i in missing],
                            np.concatenate(new_vectors) if new_vectors else np.zeros((0, emb.dim), np.float32))
            waiting = submitted


def classify_warehouse(wh: Warehouse, *, all: bool = False, refit: bool = False, embedder: str | None = "fast",
                       taxonomy: str | None = None, labels: Sequence[str | Path] = (), progress: Progress = True,
                       predict_batches: PredictBatches | None = None) -> ClassifySummary:
    """Classify new and changed papers (``all``: every paper); fit first if there is no model or ``refit``.

    A fit learns from the shipped labelled papers plus the ``labels`` files. A saved model fitted with another
    embedder, taxonomy or (when ``labels`` are given) other labels is refitted (then every paper is reclassified);
    ``embedder=None`` means "the saved model's embedder, else fast". ``predict_batches(model, papers, now)``,
    when given, embeds and classifies the papers of a saved model elsewhere (the flows pass one that runs
    batches on Dask workers; their vectors do not enter the embeddings cache); fitting always runs here.
    """
    from analytics.embeddings import EmbeddingCache, get_embedder

    started = time.perf_counter()
    settings = wh.settings
    tax = load_taxonomy(taxonomy)  # a broken --taxonomy file fails before any work
    if not wh.has_table("papers"):
        raise ArxivTrendsError("the warehouse has no papers yet; run `arxiv-trends backfill` first")
    with wh.lock():
        current = read_current(settings)
        embedder = embedder or (current or {}).get("embedder") or "fast"
        labelled, labels_info = load_labels(wh, tax, labels)
        saved_labels = ((current or {}).get("labels") or {}).get("digest")
        stale = (current is None or current["embedder"] != embedder or current.get("taxonomy") != tax.digest()
                 or current.get("rules") != RULES_VERSION
                 or current.get("classifier_recipe", 1) != CLASSIFIER_RECIPE
                 or (bool(labels) and saved_labels != labels_info["digest"]))
        if current is not None and stale and not refit:
            _log(progress, f"the saved model ({current['version']}) differs in embedder, taxonomy, labels, rule "
                           "scoring or classifier recipe: refitting")
        emb = get_embedder(embedder, settings)
        cache = EmbeddingCache(wh)
        corpus = CorpusReader(wh)
        if corpus.height == 0:
            raise ArxivTrendsError("the warehouse has no papers yet; run `arxiv-trends backfill` first")
        fitted = refit or stale
        if fitted:
            sample = corpus.read(fit_positions(corpus.height))
            _log(progress, f"embedding {sample.height} papers with {emb.version}"
                           + (f" (a fixed-seed sample of the {corpus.height})" if sample.height < corpus.height else ""))
            texts = paper_texts(sample)
            vectors = cache.embed(sample["id"].to_list(), texts, emb, progress=bool(progress))
            batch = labelled_batch(labelled, tax.ids, embed_labels(labelled, emb, cache)) if len(labelled) else None
            bundle = fit_model(settings, sample, vectors, emb, taxonomy, progress, batch, labels_info,
                               labelled.frame["id"].to_list(), labelled.frame["set"].to_list())
            # a sample that is the whole corpus is classified from memory, not read and looked up again
            held = (sample, texts, vectors) if sample.height == corpus.height else None
            del sample, texts, vectors
            todo = corpus.index
        else:
            bundle = load_model(settings)
            bundle._embedder = emb
            held = None
            todo = corpus.index if all else _todo(wh, corpus.index, bundle.version)
        _log(progress, f"{todo.height} papers to classify with {bundle.version}")
        now = datetime.now(timezone.utc)
        new_cls, new_sub, new_scores = [], [], []
        done = 0
        for part in _classified_batches(corpus, todo, bundle, emb, cache, now, predict_batches, progress, held):
            new_cls.append(part.classifications)
            new_sub.append(part.paper_subtopics)
            new_scores.append(part.topic_scores(bundle.version))
            before, done = done, done + part.paper_subtopics.height
            if todo.height > READ_BATCH and (done // READ_BATCH > before // READ_BATCH or done == todo.height):
                _log(progress, f"classified {done:,} / {todo.height:,} papers")
        if not new_sub:
            empty = predict_frame(bundle, corpus.read(np.zeros(0, dtype=np.int64)),
                                  np.zeros((0, emb.dim), dtype=np.float32), now)
            new_cls, new_sub, new_scores = [empty.classifications], [empty.paper_subtopics], [
                empty.topic_scores(bundle.version)]
        new_cls, new_sub, new_scores = pl.concat(new_cls), pl.concat(new_sub), pl.concat(new_scores)
        classifications = _merge(wh, "classifications", new_cls, todo["id"], bundle.version)
        paper_subtopics = _merge(wh, "paper_subtopics", new_sub, todo["id"], bundle.version)
        wh.write_table("classifications", classifications)
        wh.write_table("paper_subtopics", paper_subtopics)
        wh.write_table("topic_scores", _merge(wh, "topic_scores", new_scores, todo["id"], bundle.version))
        del new_scores
        if bundle.subtopics is not None and (fitted or not wh.has_table("subtopics")):
            wh.write_table("subtopics", bundle.subtopics.subtopics_frame(
                assignments=paper_subtopics["subtopic"].to_numpy(), model_version=bundle.version))
        if bundle.subtopics is not None and (fitted or not wh.has_table("subtopic_periods")):
            _log(progress, "keywords of each subtopic per year (BERTopic topics_over_time)")
            wh.write_table("subtopic_periods", subtopic_periods(bundle, corpus, paper_subtopics))
        if fitted:
            set_current(settings, bundle)
        evaluation = (read_current(settings) or {}).get("quality")
    chosen = new_cls["id"].n_unique()
    summary = ClassifySummary(model_version=bundle.version, embedder=bundle.embedder_name, fitted=fitted,
                              classified=todo.height, assignments=new_cls.height,
                              papers_without_topic=todo.height - chosen,
                              subtopics=len(bundle.subtopics.subtopics_) if bundle.subtopics is not None else 0,
                              evaluation=evaluation, seconds=round(time.perf_counter() - started, 2))
    record_run(settings, "classify", model_version=summary.model_version, classified=summary.classified,
               assignments=summary.assignments, fitted=fitted, seconds=summary.seconds)
    return summary


def read_paper_file(path: str | Path) -> pl.DataFrame:
    """Papers (id, title, abstract, categories, version, submitted) from any file ``backfill`` reads."""
    from warehouse.backfill import detect_format, expand_paths, file_batches
    from warehouse.records import normalize_batch

    frames = []
    for file in expand_paths([path]):
        _fmt, module_name, source = detect_format(file)
        for batch in file_batches(file, module_name):
            if batch.frame.height:
                rows, _rejected = normalize_batch(batch.frame, default_source=source)
                frames.append(rows.select("id", "title", "abstract", "categories", "version", "submitted"))
    if not frames:
        raise InputError(f"{path}: no readable records")
    return pl.concat(frames)


@dataclass
class FileSummary:
    records: int
    with_topic: int
    out: str
    model_version: str
    summary: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def set_summary(bundle: ClassifierBundle, papers: pl.DataFrame, result: ClassifiedBatch) -> dict:
    """The papers as one group: per topic the classified count and the error-corrected count with its 90% interval
    (``analytics.metrics.estimates``; estimate, low and high are null for a model without labelled results)."""
    from analytics.metrics.estimates import Calibration, set_estimate

    classified = result.classifications.group_by("topic").len()
    counts = dict(zip(classified["topic"].to_list(), classified["len"].to_list()))
    estimates = {}
    if bundle.outcome is not None and result.score_matrix is not None:
        estimates = set_estimate(result.score_matrix, frame_eras(papers), Calibration.from_outcome(bundle.outcome))
    empty = {"estimate": None, "low": None, "high": None}
    return {"papers": papers.height, "model_version": bundle.version, "level": 0.9,
            "topics": {t: {"papers": counts.get(t, 0), **estimates.get(t, empty)} for t in result.topic_ids}}


def classify_file(settings: Settings, in_path: str | Path, out_path: str | Path,
                  summary_path: str | Path | None = None) -> FileSummary:
    """Classify the records of a file with the saved model; one JSON line per record, in input order; with
    ``summary_path``, also the set's topic counts, classified and corrected (``set_summary``) as JSON."""
    bundle = load_model(settings)
    papers = read_paper_file(in_path)
    result = predict_frame(bundle, papers)
    topics, scores = result.topics(), result.scores()
    if summary_path is not None:
        summary_file = Path(summary_path)
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        summary_file.write_bytes(orjson.dumps(set_summary(bundle, papers, result), option=orjson.OPT_INDENT_2))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        for pid in papers["id"].to_list():
            fh.write(orjson.dumps({"id": pid, "topics": topics.get(pid, []), "scores": scores.get(pid, {})}))
            fh.write(b"\n")
    return FileSummary(records=papers.height, with_topic=sum(1 for t in topics.values() if t), out=str(out),
                       model_version=bundle.version, summary=str(summary_path) if summary_path else None)


def evaluate_saved(settings: Settings, gold_path: str | Path, papers_path: str | Path | None = None,
                   wh: Warehouse | None = None) -> Evaluation:
    """Evaluate the saved model on the gold ids (papers from ``papers_path`` or the warehouse)."""
    gold = read_gold(gold_path)
    bundle = load_model(settings)
    if papers_path is not None:
        papers = read_paper_file(papers_path).filter(pl.col("id").is_in(list(gold))).unique("id", keep="last")
    else:
        if wh is None or not wh.has_table("papers"):
            raise InputError("the warehouse has no papers; pass --papers FILE with the gold papers' records")
        papers = wh.scan_papers().filter(pl.col("id").is_in(list(gold))).select(
            "id", "title", "abstract", "categories", "version", "submitted").collect()
    if papers.height == 0:
        raise InputError(f"none of the {len(gold)} gold papers were found; pass --papers FILE with their records")
    predicted = predict_frame(bundle, papers).topics()
    found = {k: v for k, v in gold.items() if k in predicted}
    eras = dict(zip(papers["id"].to_list(), frame_eras(papers).tolist()))
    result = evaluate(predicted, found, bundle.classifier.topic_ids_, eras, ERA_NAMES)
    result.missing = sorted(set(gold) - set(found))
    return result
