"""The supervised stage: per topic, a stacked logistic model learned from hand-labelled papers.

Why this shape (each choice measured by nested cross-validation over the 2,206 shipped labels; see
``bench/supervised.py`` and the README's classification section):

- Two level-1 views per topic, trained on the labels: a logistic regression over the paper's TF-IDF words and one
  over its embedding. Alone they reach macro F1 0.73 and 0.64 (fast embedder): 2,000 papers are few for 16 topics.
- The weak signals of stage 1 (rules, the models trained on rule weak labels over the corpus, zero-shot) carry what
  the corpus knows; for each topic its own five go in.
- A meta logistic regression per topic over [the two level-1 logits (out-of-fold while training), the five weak
  signals, the paper's era] gives a probability calibrated on hand labels (0.77 macro F1; each block alone less).
- Per-topic thresholds maximise ``F1 - bias_penalty * |predicted / true - 1|`` over out-of-fold probabilities:
  counts, not only labels, must come out right (mean absolute count bias 0.09 -> 0.02 at the same F1).

A topic gets a supervised model when its judged papers hold at least ``min_positives`` positives and negatives;
other topics keep the weak path (``supervised_`` marks which).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from analytics.eras import ERAS

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)
N_WEAK = 5  # weak signals per topic (``TopicClassifier.stage2_inputs``)


def _lr(X, y, C: float, seed: int, solver: str = "liblinear") -> tuple[np.ndarray, float]:
    """Logistic regression weights; liblinear for the wide level-1 views (10x faster here than lbfgs), lbfgs for
    the meta model (whose intercept must not be penalised: it carries the topic's base rate)."""
    model = LogisticRegression(C=C, solver=solver, max_iter=3000, random_state=seed).fit(X, y)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def _era_onehot(era: np.ndarray) -> np.ndarray:
    return np.eye(len(ERAS), dtype=np.float32)[era]


def choose_threshold(y: np.ndarray, p: np.ndarray, bias_penalty: float) -> float:
    """The threshold maximising F1 - bias_penalty * |count bias| (ties: the lowest)."""
    positives = y.sum()
    best, best_value = 0.5, -np.inf
    for threshold in THRESHOLDS:
        chosen = p >= threshold
        tp = (chosen & y).sum()
        f1 = 2 * tp / max(chosen.sum() + positives, 1)
        value = f1 - bias_penalty * abs(chosen.sum() / max(positives, 1) - 1)
        if value > best_value:
            best, best_value = float(threshold), value
    return best


class SupervisedStage(BaseEstimator):
    """Per-topic stacked logistic models over (words, embedding, weak signals, era), from hand labels."""

    def __init__(self, lexical_C: float = 10.0, embedding_C: float = 16.0, meta_C: float = 0.1, folds: int = 5,
                 bias_penalty: float = 0.5, min_positives: int = 5, seed: int = 0):
        self.lexical_C = lexical_C
        self.embedding_C = embedding_C
        self.meta_C = meta_C
        self.folds = folds
        self.bias_penalty = bias_penalty
        self.min_positives = min_positives
        self.seed = seed

    def fit(self, words: sp.csr_matrix, embeddings: np.ndarray, weak: np.ndarray, era: np.ndarray, y: np.ndarray,
            judged: np.ndarray, threshold_rows: np.ndarray | None = None) -> "SupervisedStage":
        """``weak``: (papers, topics, N_WEAK); ``y``/``judged``: (papers, topics) booleans; ``threshold_rows``:
        (papers, topics) booleans, the papers whose labels set each topic's threshold (default: the judged ones)."""
        n_topics = y.shape[1]
        words = sp.csr_matrix(words)
        used = np.asarray((words[judged.any(axis=1)] > 0).sum(axis=0)).ravel() >= 2  # words seen in 2+ labelled papers
        self.supervised_ = np.zeros(n_topics, dtype=bool)
        self.lexical_coef_ = np.zeros((n_topics, words.shape[1]), dtype=np.float32)
        self.lexical_intercept_ = np.zeros(n_topics)
        self.embedding_coef_ = np.zeros((n_topics, embeddings.shape[1]), dtype=np.float32)
        self.embedding_intercept_ = np.zeros(n_topics)
        n_meta = 2 + N_WEAK + len(ERAS)
        self.meta_mean_ = np.zeros((n_topics, n_meta))
        self.meta_scale_ = np.ones((n_topics, n_meta))
        self.meta_coef_ = np.zeros((n_topics, n_meta))
        self.meta_intercept_ = np.zeros(n_topics)
        self.thresholds_ = np.full(n_topics, np.nan)
        cols = np.flatnonzero(used)
        for t in range(n_topics):
            rows = np.flatnonzero(judged[:, t])
            target = y[rows, t]
            if min(target.sum(), (~target).sum()) < max(self.min_positives, self.folds):
                continue
            self.supervised_[t] = True
            W, E = words[rows][:, cols], embeddings[rows]
            # level 1: out-of-fold logits for the meta model, then the models on every labelled paper
            oof = np.zeros((len(rows), 2))
            for train, test in KFold(self.folds, shuffle=True, random_state=self.seed).split(rows):
                coef, icpt = _lr(W[train], target[train], self.lexical_C, self.seed)
                oof[test, 0] = W[test] @ coef + icpt
                coef, icpt = _lr(E[train], target[train], self.embedding_C, self.seed)
                oof[test, 1] = E[test] @ coef + icpt
            coef, self.lexical_intercept_[t] = _lr(W, target, self.lexical_C, self.seed)
            self.lexical_coef_[t, cols] = coef
            self.embedding_coef_[t], self.embedding_intercept_[t] = _lr(E, target, self.embedding_C, self.seed)
            meta = np.hstack([oof, weak[rows, t, :], _era_onehot(era[rows])])
            self.meta_mean_[t], self.meta_scale_[t] = meta.mean(axis=0), meta.std(axis=0) + 1e-6
            meta = (meta - self.meta_mean_[t]) / self.meta_scale_[t]
            # the threshold, from out-of-fold meta probabilities
            p = np.zeros(len(rows))
            for train, test in KFold(self.folds, shuffle=True, random_state=self.seed + 1).split(rows):
                coef, icpt = _lr(meta[train], target[train], self.meta_C, self.seed, "lbfgs")
                p[test] = 1 / (1 + np.exp(-(meta[test] @ coef + icpt)))
            pick = threshold_rows[rows, t] if threshold_rows is not None else np.ones(len(rows), dtype=bool)
            if target[pick].sum() < self.min_positives:  # too few reference papers: all judged ones decide
                pick = np.ones(len(rows), dtype=bool)
            self.thresholds_[t] = choose_threshold(target[pick], p[pick], self.bias_penalty)
            coef, self.meta_intercept_[t] = _lr(meta, target, self.meta_C, self.seed, "lbfgs")
            self.meta_coef_[t] = coef
        return self

    def predict_proba(self, words: sp.csr_matrix, embeddings: np.ndarray, weak: np.ndarray,
                      era: np.ndarray) -> np.ndarray:
        """(papers, topics) probabilities; NaN in the columns of topics without a supervised model."""
        lexical = np.asarray(words @ self.lexical_coef_.T) + self.lexical_intercept_
        embedding = embeddings @ self.embedding_coef_.T + self.embedding_intercept_
        eras = _era_onehot(era)
        out = np.full((len(embeddings), len(self.supervised_)), np.nan)
        for t in np.flatnonzero(self.supervised_):
            meta = np.hstack([lexical[:, [t]], embedding[:, [t]], weak[:, t, :], eras])
            z = ((meta - self.meta_mean_[t]) / self.meta_scale_[t]) @ self.meta_coef_[t] + self.meta_intercept_[t]
            out[:, t] = 1 / (1 + np.exp(-z))
        return out
