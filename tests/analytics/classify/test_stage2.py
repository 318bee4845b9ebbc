"""The stage-2 tuning procedure on synthetic features whose informative columns are known."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.classify.stage2 import FEATURES, cross_validate, fit_stage2, predict_stage2


@pytest.fixture(scope="module")
def synthetic():
    """Two "embedders" over 150 papers x 6 topics: lexical and rule score carry the label, the rest is noise."""
    rng = np.random.default_rng(7)
    gold = rng.random((150, 6)) < 0.15
    views = []
    for noise in (0.8, 1.2):
        f = rng.normal(size=(150, 6, len(FEATURES)))
        f[..., 1] += 3.0 * gold + noise * rng.normal(size=gold.shape)  # lexical
        f[..., 3] = np.clip(0.5 * gold + 0.2 * rng.normal(size=gold.shape), 0, 1)  # rule score
        views.append(f)
    return views, gold


def test_fit_weights_the_informative_features_and_is_deterministic(synthetic):
    views, gold = synthetic
    use = tuple(f for f in FEATURES if f != "rule_raw")
    stage2 = fit_stage2(views, gold, use, bootstraps=20)
    assert stage2.weights["lexical"] > 0.5 and stage2.weights["rule_score"] > 0.5
    assert abs(stage2.weights["embedding"]) < 0.3 and abs(stage2.weights["zeroshot"]) < 0.3
    params = stage2.params()
    assert params["rule_raw_weight"] == 0.0 and 0.2 <= params["threshold"] < 0.6
    assert fit_stage2(views, gold, use, bootstraps=20) == stage2
    chosen = predict_stage2(views[0], stage2)
    assert chosen.shape == gold.shape and chosen.sum(axis=1).max() <= 3


def test_cross_validation_scores_held_out_papers(synthetic):
    views, gold = synthetic
    (clean, sd_clean), (noisy, _) = cross_validate(views, gold, folds=3, repeats=2, bootstraps=10)
    assert 0.6 < noisy < clean <= 1.0 and sd_clean >= 0.0  # the cleaner view scores higher on held-out papers
