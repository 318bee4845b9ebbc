"""HDBSCAN that also accepts too few points to cluster (a tiny warehouse, a test fixture)."""

from __future__ import annotations

import numpy as np
from hdbscan import HDBSCAN


class SmallSafeHDBSCAN(HDBSCAN):
    """HDBSCAN; with no more points than ``min_samples`` every point is an outlier instead of an error."""

    def fit(self, X, y=None):
        if len(X) <= (self.min_samples or self.min_cluster_size):
            self.labels_ = np.full(len(X), -1, dtype=np.intp)
            self.probabilities_ = np.zeros(len(X))
            return self
        return super().fit(X, y)
