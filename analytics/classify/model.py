"""The combined multi-label decision: rules, two models trained on rule weak labels, and a supervised stage.

Why this shape. 238 hand labels are too few to train 16 topics on, but high-precision rules fire on
thousands of corpus papers. Stage 1 trains, per topic, two logistic regressions on a fixed-seed corpus sample,
with the papers the rules are sure about as positives and the papers no rule touches as negatives:
one on the paper embeddings (it learns the topic's neighbourhood in embedding space, so it finds papers that
never use the keywords) and one on TF-IDF word and bigram features (it learns the vocabulary that comes with
the rules' keywords). Stage 2 merges the views with one pooled logistic function (same weights for every
topic, so rare topics cannot overfit):
``score = sigmoid(a * logit(p_embedding) + l * logit(p_lexical) + b * rule_raw + c * rule_score + e * zs + d)``
where ``zs`` is the zero-shot cosine to the topic description, standardised over the training corpus (so
one weight fits both embedders). These numbers and the threshold are hyperparameters chosen on the dev gold set
by ``analytics.classify.stage2`` (bagged pooled fit over both embedders; ``bench/stage2.py`` re-derives them); the
raw rule sum gets no weight there (its fitted weight came out negative next to the saturating rule score, and
leaving it out costs nothing in cross-validation). This weak path needs no hand labels.

Stage 3 (``analytics.classify.supervised``) learns from hand-labelled papers: for every topic with enough labels,
a stacked model over TF-IDF words, the embedding, that topic's stage-2 inputs and the paper's era gives a
probability calibrated on the labels and a threshold chosen for F1 and unbiased counts; it replaces the weak score
of that topic. Topics without labels (a custom taxonomy's new topics) keep the weak path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from analytics.classify.supervised import SupervisedStage
from analytics.embeddings.base import paper_texts
from analytics.eras import frame_eras
from analytics.rules import RuleEngine, RuleResult
from analytics.taxonomy import Taxonomy, load_taxonomy
from analytics.text import TfidfVectorizer


@dataclass
class PaperBatch:
    """What the classifier sees of some papers: a frame (title, abstract, categories, optional submitted),
    aligned embeddings and, when the caller has them already, each row's ``paper_text`` (else computed here)."""

    frame: pl.DataFrame
    embeddings: np.ndarray
    texts: list[str] | None = None

    def __post_init__(self) -> None:
        if self.frame.height != len(self.embeddings):
            raise ValueError(f"{self.frame.height} papers but {len(self.embeddings)} embeddings")

    def __len__(self) -> int:
        return self.frame.height

    def take(self, rows: np.ndarray) -> "PaperBatch":
        texts = None if self.texts is None else [self.texts[i] for i in rows]
        return PaperBatch(self.frame[rows.tolist()], self.embeddings[rows], texts)


@dataclass
class LabelledBatch:
    """Hand-labelled papers for the supervised stage: ``y`` and ``judged`` are (papers, topics) booleans in the
    taxonomy's topic order; ``threshold_rows`` marks, per topic, the papers whose labels set its threshold."""

    papers: PaperBatch
    y: np.ndarray
    judged: np.ndarray
    threshold_rows: np.ndarray

    def take(self, rows: np.ndarray) -> "LabelledBatch":
        return LabelledBatch(self.papers.take(rows), self.y[rows], self.judged[rows], self.threshold_rows[rows])


@dataclass
class Decision:
    """Per paper and topic: combined score, rule score, embedding and lexical probabilities, zero-shot, chosen."""

    scores: np.ndarray
    rule: RuleResult
    embedding: np.ndarray
    lexical: np.ndarray
    zeroshot: np.ndarray
    chosen: np.ndarray


# Bump when what a fit produces changes (stage-1 settings, stage-2 defaults): a saved model made by another recipe
# is refitted by the next ``classify``, so every classification row keeps coming from one recipe.
CLASSIFIER_RECIPE = 3

# Regularisation of the stage-1 embedding model per built-in embedder (inverse strength, sklearn's ``C``). MiniLM
# vectors want a looser fit than the distilled static ones: on dev, 10x5-fold cv of the combined classifier,
# MiniLM 0.722-0.724 at C = 0.05-1 against 0.735-0.738 at C = 2-8 (and a third of the spread); model2vec peaks at
# 0.25 (0.728 against 0.727 at 1 and 0.723 at 4).
EMBEDDING_C = {"fast": 0.25, "accurate": 2.0}
# The supervised stage's embedding view per built-in embedder (nested cv over the shipped labels: model2vec
# vectors 0.61 / 0.64 / 0.64 alone at C = 4 / 16 / 64, MiniLM 0.72 / 0.72 at C = 4 / 16).
SUPERVISED_EMBEDDING_C = {"fast": 16.0, "accurate": 4.0}


# What stage 2 weighs, in order, each with the parameter holding its weight (``TopicClassifier.stage2_inputs``).
STAGE2_INPUTS = (("embedding", "emb_weight"), ("lexical", "lexical_weight"), ("rule_raw", "rule_raw_weight"),
                 ("rule_score", "rule_score_weight"), ("zeroshot", "zeroshot_weight"))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _weak_model(X, positive: np.ndarray, C: float, seed: int) -> tuple[np.ndarray, float]:
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000, random_state=seed)
    model.fit(X, positive)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def top_k_mask(scores: np.ndarray, threshold, k: int) -> np.ndarray:
    """Topics at or above ``threshold`` (one number, or one per topic), at most the ``k`` best per paper."""
    chosen = scores >= threshold
    if k < scores.shape[1]:
        rank = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1, kind="stable")
        chosen &= rank < k
    return chosen


@dataclass
class Signals:
    """What the classifier computes of some papers before deciding (``TopicClassifier.signals``)."""

    rule: RuleResult
    embedding: np.ndarray
    lexical: np.ndarray
    zeroshot: np.ndarray
    words: Any  # scipy.sparse CSR: TF-IDF of paper_text
    weak: np.ndarray  # (papers, topics, len(STAGE2_INPUTS)): stage 2's inputs
    era: np.ndarray

    def take(self, rows: np.ndarray) -> "Signals":
        """The rows' signals (rule hits are not carried over)."""
        rule = RuleResult(self.rule.topic_ids, self.rule.scores[rows], self.rule.raw[rows], {})
        return Signals(rule, self.embedding[rows], self.lexical[rows], self.zeroshot[rows], self.words[rows],
                       self.weak[rows], self.era[rows])


class TopicClassifier(BaseEstimator):
    """Multi-label topic classifier (0..``max_topics`` topics per paper, scores in [0, 1])."""

    def __init__(self, taxonomy_path: str | None = None, weak_positive: float = 1.5, weak_negative: float = 0.3,
                 min_positives: int = 5, max_train: int = 60_000, C: float = 0.25, lexical_C: float = 1.0,
                 max_features: int = 100_000, emb_weight: float = 0.237, lexical_weight: float = 0.657,
                 rule_raw_weight: float = 0.0, rule_score_weight: float = 1.467, zeroshot_weight: float = 0.097,
                 bias: float = -2.025, threshold: float = 0.325, max_topics: int = 3, seed: int = 42,
                 supervised_embedding_C: float = 16.0):
        self.taxonomy_path = taxonomy_path
        self.weak_positive = weak_positive
        self.weak_negative = weak_negative
        self.min_positives = min_positives
        self.max_train = max_train
        self.C = C
        self.lexical_C = lexical_C
        self.max_features = max_features
        self.emb_weight = emb_weight
        self.lexical_weight = lexical_weight
        self.rule_raw_weight = rule_raw_weight
        self.rule_score_weight = rule_score_weight
        self.zeroshot_weight = zeroshot_weight
        self.bias = bias
        self.threshold = threshold
        self.max_topics = max_topics
        self.seed = seed
        self.supervised_embedding_C = supervised_embedding_C

    def fit(self, X: PaperBatch, y=None, description_vectors: np.ndarray | None = None,
            labels: LabelledBatch | None = None) -> "TopicClassifier":
        """Train the per-topic embedding and lexical models on rule weak labels of ``X`` (``y`` is ignored), then,
        given hand ``labels``, the supervised stage."""
        self.taxonomy_ = load_taxonomy(self.taxonomy_path)
        self.topic_ids_ = self.taxonomy_.ids
        rows = np.arange(len(X))
        if len(rows) > self.max_train:
            rows = np.sort(np.random.default_rng(self.seed).choice(len(rows), self.max_train, replace=False))
        batch = X.take(rows) if len(rows) < len(X) else X
        raw = self._rules().score(batch.frame).raw
        dim = batch.embeddings.shape[1]
        self.vectorizer_ = TfidfVectorizer(min_df=min(3, len(batch)), max_df=0.5, ngram_range=(1, 2), sublinear_tf=True,
                                           max_features=self.max_features, dtype=np.float32, stop_words="english")
        words = self.vectorizer_.fit_transform(paper_texts(batch.frame))
        self.coef_ = np.zeros((len(self.topic_ids_), dim), dtype=np.float32)
        self.intercept_ = np.full(len(self.topic_ids_), -6.0)  # no evidence: the learned side says "no"
        self.lexical_coef_ = np.zeros((len(self.topic_ids_), words.shape[1]), dtype=np.float32)
        self.lexical_intercept_ = np.full(len(self.topic_ids_), -6.0)
        self.n_weak_positives_ = {}
        for t, topic in enumerate(self.topic_ids_):
            pos, neg = raw[:, t] >= self.weak_positive, raw[:, t] <= self.weak_negative
            self.n_weak_positives_[topic] = int(pos.sum())
            if pos.sum() < self.min_positives or neg.sum() < self.min_positives:
                continue
            keep = np.flatnonzero(pos | neg)
            self.coef_[t], self.intercept_[t] = _weak_model(batch.embeddings[keep], pos[keep], self.C, self.seed)
            self.lexical_coef_[t], self.lexical_intercept_[t] = _weak_model(words[keep], pos[keep], self.lexical_C,
                                                                            self.seed)
        if description_vectors is None:
            description_vectors = np.zeros((len(self.topic_ids_), dim), dtype=np.float32)
        self.description_vectors_ = np.asarray(description_vectors, dtype=np.float32)
        similarity = batch.embeddings @ self.description_vectors_.T
        self.zeroshot_mean_ = similarity.mean(axis=0)
        self.zeroshot_std_ = similarity.std(axis=0) + 1e-6
        self.n_features_in_ = dim
        self.supervised_stage_ = self.fit_supervised(labels) if labels is not None else None
        return self

    def fit_supervised(self, labels: LabelledBatch) -> SupervisedStage | None:
        """The supervised stage fitted on ``labels`` (None when no topic has enough of them)."""
        if len(labels.papers) == 0:
            return None
        signals = self.signals(labels.papers)
        stage = SupervisedStage(embedding_C=self.supervised_embedding_C, seed=self.seed).fit(
            signals.words, labels.papers.embeddings, signals.weak, signals.era, labels.y, labels.judged,
            labels.threshold_rows)
        return stage if stage.supervised_.any() else None

    def cross_validate(self, labels: LabelledBatch, folds: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Out-of-fold (scores, chosen) for the labelled papers: the whole supervised fit (level-1 models, meta
        models, thresholds) is redone on each training fold and scored on the held-out fold."""
        signals = self.signals(labels.papers)
        scores, chosen = np.zeros(labels.y.shape), np.zeros(labels.y.shape, dtype=bool)
        for train, test in KFold(folds, shuffle=True, random_state=seed).split(labels.y):
            stage = SupervisedStage(embedding_C=self.supervised_embedding_C, seed=self.seed).fit(
                signals.words[train], labels.papers.embeddings[train], signals.weak[train], signals.era[train],
                labels.y[train], labels.judged[train], labels.threshold_rows[train])
            part = signals.take(test)
            scores[test], chosen[test] = self._combine(part, stage, labels.papers.embeddings[test])
        return scores, chosen

    def _rules(self) -> RuleEngine:
        engine = getattr(self, "_engine", None)
        if engine is None or engine.taxonomy is not self.taxonomy_:
            engine = self._engine = RuleEngine(self.taxonomy_)
        return engine

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_engine", None)  # compiled on demand; keeps saved models small
        return state

    def signals(self, X: PaperBatch) -> "Signals":
        """Everything stage 2 and the supervised stage read of the papers."""
        if X.embeddings.shape[1] != self.n_features_in_:
            raise ValueError(f"embeddings have {X.embeddings.shape[1]} dimensions, the model expects "
                             f"{self.n_features_in_} (was it fitted with another embedder?)")
        rule = self._rules().score(X.frame)
        emb = _sigmoid(X.embeddings @ self.coef_.T + self.intercept_)
        words = self.vectorizer_.transform(paper_texts(X.frame) if X.texts is None else X.texts)
        lexical = _sigmoid(np.asarray(words @ self.lexical_coef_.T) + self.lexical_intercept_)
        zeroshot = X.embeddings @ self.description_vectors_.T
        weak = np.stack(self.stage2_inputs(rule, emb, lexical, zeroshot), axis=-1)
        return Signals(rule, emb, lexical, zeroshot, words, weak, frame_eras(X.frame))

    def _combine(self, signals: "Signals", stage: SupervisedStage | None,
                 embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(scores, chosen): the weak score, replaced by the supervised probability where a topic has one."""
        z = sum(getattr(self, param) * signals.weak[..., k] for k, (_, param) in enumerate(STAGE2_INPUTS)) + self.bias
        scores = _sigmoid(z)
        if stage is not None:
            proba = stage.predict_proba(signals.words, embeddings, signals.weak, signals.era)
            scores[:, stage.supervised_] = proba[:, stage.supervised_]
        return scores, top_k_mask(scores, self._thresholds(stage), self.max_topics)

    def _thresholds(self, stage: SupervisedStage | None) -> np.ndarray:
        out = np.full(len(self.topic_ids_), self.threshold)
        if stage is not None:
            out[stage.supervised_] = stage.thresholds_[stage.supervised_]
        return out

    def decide(self, X: PaperBatch) -> Decision:
        """All signals and the final choice for each paper and topic."""
        signals = self.signals(X)
        scores, chosen = self._combine(signals, getattr(self, "supervised_stage_", None), X.embeddings)
        return Decision(scores=scores, rule=signals.rule, embedding=signals.embedding, lexical=signals.lexical,
                        zeroshot=signals.zeroshot, chosen=chosen)

    @property
    def thresholds_(self) -> np.ndarray:
        """Each topic's decision threshold (the supervised one where the topic has a supervised model)."""
        return self._thresholds(getattr(self, "supervised_stage_", None))

    @property
    def supervised_topics_(self) -> list[str]:
        stage = getattr(self, "supervised_stage_", None)
        return [] if stage is None else [t for t, s in zip(self.topic_ids_, stage.supervised_) if s]

    def stage2_inputs(self, rule: RuleResult, embedding: np.ndarray, lexical: np.ndarray,
                      zeroshot: np.ndarray) -> list[np.ndarray]:
        """The (papers, topics) arrays stage 2 weighs, in the order of ``STAGE2_INPUTS``."""
        zs = np.clip((zeroshot - self.zeroshot_mean_) / self.zeroshot_std_, -5, 5)
        return [_logit(embedding), _logit(lexical), np.clip(rule.raw, -3, 5), rule.scores, zs]

    def predict_proba(self, X: PaperBatch) -> np.ndarray:
        """Combined scores in [0, 1], one column per topic (``topic_ids_``)."""
        return self.decide(X).scores

    def predict(self, X: PaperBatch) -> np.ndarray:
        """Boolean (papers, topics) matrix: at most ``max_topics`` per row."""
        return self.decide(X).chosen

    @property
    def taxonomy(self) -> Taxonomy:
        return self.taxonomy_
