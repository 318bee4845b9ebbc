"""BERTopic subtopics: zero-shot on the taxonomy descriptions, discovered clusters for the rest.

Fitting. BERTopic runs on precomputed embeddings with fixed seeds (UMAP ``random_state``; HDBSCAN is
deterministic), an English stop-word vectorizer and the taxonomy descriptions as its zero-shot
topic list: papers whose embedding is within ``zeroshot_min_similarity`` of a description form
that topic's zero-shot subtopic, the others are clustered (UMAP + HDBSCAN, once, on exactly those papers:
``analytics.subtopics.cluster``) into discovered subtopics with c-TF-IDF keywords (counted with
``analytics.text.CountVectorizer``: scikit-learn's counts, without its Python tokenizer). ``nr_topics`` stays
unset, so no zero-shot topic is merged away.
UMAP and HDBSCAN cost grows faster than linearly, so ``fit`` uses a fixed-seed sample of at most
``max_fit_docs`` papers; every paper, sampled or not, is then assigned by ``transform``.

Assigning. ``transform`` gives each paper the subtopic whose embedding (the mean of its papers'
embeddings) is most cosine-similar: that is how BERTopic itself transforms a zero-shot model. After the fit
only these arrays are kept (``analytics.subtopics.fitted``): assigning papers, keywords per year, saving and
loading run on numpy and never import BERTopic (whose import alone takes seconds: it loads transformers).

Parents. A zero-shot subtopic's parent is its taxonomy topic; a discovered one's is the taxonomy
topic whose description embedding is nearest to the subtopic embedding, or ``"other"`` below
``parent_min_similarity`` (by default the zero-shot threshold: a subtopic must be as close to a
description as a single paper must be to join it). The outlier subtopic -1 has parent ``"other"``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import polars as pl

from analytics.embeddings.base import Embedder, l2_normalize
from analytics.subtopics.fitted import ARRAYS_FILE, FittedSubtopics

# Cosine similarity from which a paper joins a description's zero-shot subtopic. Both put about the
# top 10% of real papers into zero-shot subtopics (measured on 160k abstracts: the median best
# similarity is 0.37 for MiniLM and 0.66 for the static model, whose similarities run high).
ZEROSHOT_MIN_SIMILARITY = {"accurate": 0.5, "fast": 0.72}
OTHER = "other"
MIN_FIT_DOCS = 3  # UMAP needs two neighbours per point
OUTLIER = -1
STATE_FILE = "subtopics.json"
LEGACY_BERTOPIC_DIR = "bertopic"  # models saved before the arrays: BERTopic's own safetensors folder


class SubtopicModel:
    """BERTopic subtopics of the taxonomy topics; ``fit`` / ``transform`` / ``subtopics_frame``."""

    def __init__(self, embedder: Embedder | None = None, seed: int = 42, max_fit_docs: int = 30_000,
                 min_topic_size: int | None = None, min_samples: int = 10, zeroshot_min_similarity: float | None = None,
                 parent_min_similarity: float | None = None, n_neighbors: int = 15, n_components: int = 5,
                 n_epochs: int = 100, n_keywords: int = 10, verbose: bool = False) -> None:
        self.embedder = embedder
        self.seed = seed
        self.max_fit_docs = max_fit_docs
        self.min_topic_size = min_topic_size
        self.min_samples = min_samples
        self.zeroshot_min_similarity = zeroshot_min_similarity
        self.parent_min_similarity = parent_min_similarity
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.n_keywords = n_keywords
        self.verbose = verbose

    # -- fitting ---------------------------------------------------------------------------------
    def _params(self) -> dict:
        names = ("seed", "max_fit_docs", "min_topic_size", "min_samples", "zeroshot_min_similarity",
                 "parent_min_similarity", "n_neighbors", "n_components", "n_epochs", "n_keywords")
        return {k: getattr(self, k) for k in names}

    def _zeroshot_threshold(self) -> float:
        if self.zeroshot_min_similarity is not None:
            return self.zeroshot_min_similarity
        return ZEROSHOT_MIN_SIMILARITY.get(getattr(self.embedder, "name", ""), 0.5)

    def _parent_threshold(self) -> float:
        return self._zeroshot_threshold() if self.parent_min_similarity is None else self.parent_min_similarity

    def sample_indices(self, n_docs: int) -> np.ndarray:
        """Sorted indices of the fixed-seed fitting sample (all documents if there are few enough)."""
        if n_docs <= self.max_fit_docs:
            return np.arange(n_docs)
        return np.sort(np.random.default_rng(self.seed).choice(n_docs, self.max_fit_docs, replace=False))

    def _bertopic(self, n_fit: int, descriptions: list[str]):
        from bertopic import BERTopic
        from bertopic.dimensionality import BaseDimensionalityReduction
        from bertopic.vectorizers import ClassTfidfTransformer

        from analytics.subtopics.backend import EmbedderBackend
        from analytics.subtopics.cluster import UmapHdbscan
        from analytics.text import CountVectorizer

        min_size = self.min_topic_size or max(15, n_fit // 500)
        return BERTopic(
            embedding_model=EmbedderBackend(self.embedder),
            umap_model=BaseDimensionalityReduction(),  # the clusterer reduces, once, what it clusters
            hdbscan_model=UmapHdbscan(n_neighbors=self.n_neighbors, n_components=self.n_components,
                                      min_cluster_size=min_size, min_samples=min(self.min_samples, min_size),
                                      n_epochs=self.n_epochs, seed=self.seed),
            vectorizer_model=CountVectorizer(stop_words="english", ngram_range=(1, 2),
                                             min_df=min(5, max(1, n_fit // 1000))),
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
            zeroshot_topic_list=descriptions,
            zeroshot_min_similarity=self._zeroshot_threshold(),
            top_n_words=self.n_keywords,
            min_topic_size=min_size,
            nr_topics=None,  # a number here would merge zero-shot topics away
            calculate_probabilities=False,
            low_memory=True,
            verbose=self.verbose,
        )

    def fit(self, docs: Sequence[str], embeddings: np.ndarray, zeroshot_topics: dict[str, str]) -> "SubtopicModel":
        """Fit on (a fixed-seed sample of) ``docs``; ``zeroshot_topics`` maps taxonomy id -> description."""
        if self.embedder is None:
            raise ValueError("SubtopicModel needs an embedder to embed the zero-shot topic descriptions")
        if not zeroshot_topics:
            raise ValueError("SubtopicModel needs at least one zero-shot topic")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if len(docs) != len(embeddings):
            raise ValueError(f"{len(docs)} documents but {len(embeddings)} embeddings")
        if len(docs) < MIN_FIT_DOCS:
            raise ValueError(f"SubtopicModel needs at least {MIN_FIT_DOCS} documents to fit, got {len(docs)}")
        sample = self.sample_indices(len(docs))
        topic_ids = list(zeroshot_topics)
        descriptions = [zeroshot_topics[t] for t in topic_ids]
        model = self._bertopic(len(sample), descriptions)
        model.fit([docs[i] for i in sample], embeddings[sample])
        self.fitted_ = FittedSubtopics.from_bertopic(model)
        self.topic_ids_ = topic_ids
        self.n_fit_docs_ = int(len(sample))
        self._describe(model, l2_normalize(self.embedder.encode(descriptions)))
        self.embedder_version_ = self.embedder.version
        self.version_ = self._version(docs, zeroshot_topics)
        self.sizes_ = self._count(self.transform(docs, embeddings))
        return self

    def fit_transform(self, docs: Sequence[str], embeddings: np.ndarray,
                      zeroshot_topics: dict[str, str]) -> np.ndarray:
        """``fit`` then ``transform`` of all ``docs`` (the sample included)."""
        return self.fit(docs, embeddings, zeroshot_topics).transform(docs, embeddings)

    def _describe(self, model, description_vectors: np.ndarray) -> None:
        """Keywords, labels and parent topic of every subtopic of the fitted ``BERTopic`` model."""
        zeroshot = {int(t): self.topic_ids_[i] for t, i in model._topic_id_to_zeroshot_topic_idx.items()}
        subtopics = sorted(int(t) for t in model.get_topics())
        vectors = l2_normalize(np.asarray(model.topic_embeddings_, dtype=np.float32))
        sims = vectors @ description_vectors.T
        self.subtopics_, self.keywords_, self.labels_, self.parents_, self.parent_similarity_ = [], {}, {}, {}, {}
        for t in subtopics:
            words = [w for w, _ in (model.get_topic(t) or []) if w][: self.n_keywords]
            row = sims[t + model._outliers]
            best = int(np.argmax(row))
            if t == OUTLIER:
                parent = OTHER
            elif t in zeroshot:
                parent = zeroshot[t]
            else:
                parent = self.topic_ids_[best] if row[best] >= self._parent_threshold() else OTHER
            self.subtopics_.append(t)
            self.keywords_[t] = words
            self.labels_[t] = "outliers" if t == OUTLIER else ", ".join(words[:4]) or f"subtopic {t}"
            self.parents_[t] = parent
            self.parent_similarity_[t] = float(row[best])

    def _version(self, docs: Sequence[str], zeroshot_topics: dict[str, str]) -> str:
        digest = hashlib.blake2b(digest_size=6)
        digest.update(json.dumps([self._params(), self.embedder.version, zeroshot_topics, len(docs)],
                                 sort_keys=True).encode())
        for i in self.sample_indices(len(docs))[:: max(1, len(docs) // 1000)]:
            digest.update(docs[i].encode("utf-8", "replace"))
        return f"bertopic-{digest.hexdigest()}"

    def _count(self, assignments: np.ndarray) -> dict[int, int]:
        values, counts = np.unique(assignments, return_counts=True)
        found = dict(zip(values.tolist(), counts.tolist()))
        return {t: int(found.get(t, 0)) for t in self.subtopics_}

    # -- assigning -------------------------------------------------------------------------------
    def transform(self, docs: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Subtopic id per document (-1 = outlier): the most similar subtopic embedding."""
        if len(docs) == 0:
            return np.zeros(0, dtype=np.int64)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if len(docs) != len(embeddings):
            raise ValueError(f"{len(docs)} documents but {len(embeddings)} embeddings")
        return self.fitted_.assign(embeddings)

    # -- tables ----------------------------------------------------------------------------------
    def subtopics_frame(self, assignments: np.ndarray | None = None, model_version: str | None = None) -> pl.DataFrame:
        """The ``subtopics`` table; ``size`` counts ``assignments`` (default: the documents given to ``fit``)."""
        sizes = self.sizes_ if assignments is None else self._count(np.asarray(assignments))
        return pl.DataFrame({
            "subtopic": pl.Series(self.subtopics_, dtype=pl.Int64),
            "label": [self.labels_[t] for t in self.subtopics_],
            "keywords": pl.Series([self.keywords_[t] for t in self.subtopics_], dtype=pl.List(pl.String)),
            "parent_topic": [self.parents_[t] for t in self.subtopics_],
            "size": pl.Series([sizes[t] for t in self.subtopics_], dtype=pl.Int64),
            "model_version": model_version or self.version_,
        })

    def periods_frame(self, docs: Sequence[str], embeddings: np.ndarray, timestamps: Sequence,
                      assignments: np.ndarray | None = None) -> pl.DataFrame:
        """The ``subtopic_periods`` table: each subtopic's keywords and papers per calendar year of ``timestamps``
        (BERTopic's ``topics_over_time`` with global tuning, computed with numpy: ``FittedSubtopics``)."""
        topics = self.transform(docs, embeddings) if assignments is None else np.asarray(assignments)
        years = pl.Series(list(timestamps)).dt.year().to_numpy()
        return self.fitted_.period_keywords(docs, topics, years, seed=self.seed)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Our state as JSON and the fitted arrays as one ``.npz``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.fitted_.save(folder)
        state = {
            "params": self._params(), "version": self.version_, "embedder_version": self.embedder_version_,
            "topic_ids": self.topic_ids_, "n_fit_docs": self.n_fit_docs_, "subtopics": self.subtopics_,
            "keywords": {str(t): v for t, v in self.keywords_.items()},
            "labels": {str(t): v for t, v in self.labels_.items()},
            "parents": {str(t): v for t, v in self.parents_.items()},
            "parent_similarity": {str(t): v for t, v in self.parent_similarity_.items()},
            "sizes": {str(t): v for t, v in self.sizes_.items()},
        }
        (folder / STATE_FILE).write_text(json.dumps(state, indent=1, ensure_ascii=False), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder | None = None) -> "SubtopicModel":
        """A saved model. ``transform`` and ``periods_frame`` need no embedder (only a refit does); one
        that is given must be the embedder the model was fitted with."""
        folder = Path(folder)
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        if embedder is not None and embedder.version != state["embedder_version"]:
            raise ValueError(f"{folder} was fitted on {state['embedder_version']} vectors, "
                             f"not {embedder.version}")
        known = inspect.signature(cls).parameters  # a legacy model may carry parameters since dropped
        model = cls(embedder=embedder, **{k: v for k, v in state["params"].items() if k in known})
        model.fitted_ = (FittedSubtopics.load(folder) if (folder / ARRAYS_FILE).exists()
                         else _load_legacy(folder / LEGACY_BERTOPIC_DIR))
        model.topic_ids_ = state["topic_ids"]
        model.n_fit_docs_ = state["n_fit_docs"]
        model.version_ = state["version"]
        model.embedder_version_ = state["embedder_version"]
        model.subtopics_ = [int(t) for t in state["subtopics"]]
        for name in ("keywords", "labels", "parents", "parent_similarity", "sizes"):
            setattr(model, f"{name}_", {int(t): v for t, v in state[name].items()})
        return model


def _load_legacy(folder: Path) -> FittedSubtopics:
    """The arrays of a model saved as a BERTopic folder (before ``subtopics.npz``): BERTopic loads it once."""
    from bertopic import BERTopic

    logger = logging.getLogger("BERTopic")
    level = logger.level
    logger.setLevel(logging.ERROR)  # it warns that no embedding model is attached: ours are kept apart on purpose
    try:
        return FittedSubtopics.from_bertopic(BERTopic.load(str(folder), embedding_model=None))
    finally:
        logger.setLevel(level)
