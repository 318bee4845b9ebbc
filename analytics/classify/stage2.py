"""How the stage-2 numbers of ``TopicClassifier`` are chosen on hand labels, so that they can be re-derived.

Stage 2 is one pooled logistic function over per-(paper, topic) features, shared by every topic and by both
embedders. The labelled set is small (the dev gold set: 238 papers, some topics with 2-6 positives), so a single
fit and a single best threshold follow its noise: macro F1 jumps by 0.03 between neighbouring thresholds. Two
things make the choice steadier:

- the weights are the mean of logistic fits on bootstrap resamples of the papers (bagging);
- the threshold maximises macro F1 averaged over the same resamples, not on one draw; with several embedders,
  that of the worst-served one (a deployment runs one embedder, so the shared threshold must suit each, rather
  than suit their average, which one embedder's lucky spike can carry).

``cross_validate`` runs the whole procedure inside repeated k-fold splits (weights and threshold chosen on the
training folds, scored on the held-out fold): that, not the in-sample figure, is what to expect on new papers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from analytics.classify.evaluation import macro_f1_matrix
from analytics.classify.model import STAGE2_INPUTS, Decision, TopicClassifier, _sigmoid, top_k_mask

FEATURES = tuple(name for name, _ in STAGE2_INPUTS)  # the last axis of ``stage2_features``
THRESHOLDS = tuple(np.round(np.arange(0.2, 0.6, 0.025), 3))


@dataclass
class Stage2:
    """Chosen weights (one per feature in ``FEATURES``; unused ones 0), bias and threshold."""

    weights: dict[str, float]
    bias: float
    threshold: float

    def params(self) -> dict[str, float]:
        """As ``TopicClassifier`` keyword arguments."""
        out = {param: round(self.weights.get(name, 0.0), 3) for name, param in STAGE2_INPUTS}
        return out | {"bias": round(self.bias, 3), "threshold": self.threshold}


def stage2_features(clf: TopicClassifier, decision: Decision) -> np.ndarray:
    """(papers, topics, features) array of what stage 2 weighs, as ``TopicClassifier.decide`` computes it."""
    return np.stack(clf.stage2_inputs(decision.rule, decision.embedding, decision.lexical, decision.zeroshot), axis=-1)


def _predict(features: np.ndarray, weights: np.ndarray, bias: float, threshold: float, max_topics: int) -> np.ndarray:
    return top_k_mask(_sigmoid(features @ weights + bias), threshold, max_topics)


def fit_stage2(features: list[np.ndarray], gold: np.ndarray, use: tuple[str, ...] = FEATURES,
               bootstraps: int = 50, seed: int = 0, max_topics: int = 3) -> Stage2:
    """Bagged pooled logistic weights, and the threshold whose worst embedder does best on average over resamples.

    ``features``: one ``stage2_features`` array per embedder, all on the same papers as ``gold`` (bool, papers x
    topics). ``use`` names the features that get a weight (the others are fixed at 0).
    """
    columns = [FEATURES.index(name) for name in use]
    views = [f[..., columns] for f in features]
    rng = np.random.default_rng(seed)
    draws = [rng.choice(len(gold), len(gold), replace=True) for _ in range(bootstraps)]
    fits = []
    for rows in draws:
        x = np.concatenate([v[rows].reshape(-1, len(columns)) for v in views])
        y = np.concatenate([gold[rows].reshape(-1)] * len(views))
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
        fits.append(np.append(model.coef_[0], model.intercept_[0]))
    mean = np.mean(fits, axis=0)
    weights, bias = mean[:-1], float(mean[-1])

    def worst_average_f1(threshold: float) -> float:
        return min(float(np.mean([macro_f1_matrix(gold[rows], _predict(v[rows], weights, bias, threshold, max_topics))
                                  for rows in draws])) for v in views)

    threshold = max(THRESHOLDS, key=worst_average_f1)
    return Stage2(dict(zip(use, map(float, weights))), bias, float(threshold))


def predict_stage2(features: np.ndarray, stage2: Stage2, max_topics: int = 3) -> np.ndarray:
    weights = np.array([stage2.weights.get(name, 0.0) for name in FEATURES])
    return _predict(features, weights, stage2.bias, stage2.threshold, max_topics)


def cross_validate(features: list[np.ndarray], gold: np.ndarray, use: tuple[str, ...] = FEATURES, folds: int = 5,
                   repeats: int = 5, bootstraps: int = 50, max_topics: int = 3) -> list[tuple[float, float]]:
    """Per embedder, mean and sd over ``repeats`` of the held-out macro F1 of the whole ``fit_stage2`` procedure."""
    scores = [[] for _ in features]
    for repeat in range(repeats):
        chosen = [np.zeros_like(gold) for _ in features]
        for train, test in KFold(folds, shuffle=True, random_state=repeat).split(gold):
            stage2 = fit_stage2([f[train] for f in features], gold[train], use, bootstraps, max_topics=max_topics)
            for k, f in enumerate(features):
                chosen[k][test] = predict_stage2(f[test], stage2, max_topics)
        for k in range(len(features)):
            scores[k].append(macro_f1_matrix(gold, chosen[k]))
    return [(float(np.mean(s)), float(np.std(s))) for s in scores]
