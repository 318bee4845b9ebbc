"""Kleinberg's two-state burst detection on enumerated data (Kleinberg 2002, "Bursty and hierarchical
structure in streams", section 4): in period t, r_t of the d_t papers carry the label.

State 0 emits labelled papers at the base rate p0 = sum(r) / sum(d); state 1 ("burst") at p1 = S * p0.
The cost of state i in period t is the negative binomial log-likelihood -[r_t ln p_i + (d_t - r_t) ln(1 - p_i)];
entering the burst state costs GAMMA * ln(n) for n periods, leaving it is free. The Viterbi path (minimum total
cost, starting in state 0) gives each period's ``burst_level`` (1 = bursting).
"""

from __future__ import annotations

import numpy as np

S = 2.0
GAMMA = 1.0
_MAX_RATE = 0.9999


def burst_level(counts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Burst state (0/1) per period of each row of ``counts`` (labels x periods) given per-period ``totals``."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = np.broadcast_to(np.asarray(totals, dtype=np.float64), counts.shape)
    n_series, n = counts.shape
    levels = np.zeros((n_series, n), dtype=np.int8)
    if n == 0:
        return levels
    grand = totals.sum(axis=1)
    p0 = np.divide(counts.sum(axis=1), grand, out=np.zeros(n_series), where=grand > 0)
    live = (p0 > 0) & (p0 < _MAX_RATE)
    if not live.any():
        return levels
    p0, r, d = p0[live, None], counts[live], totals[live]
    p1 = np.minimum(S * p0, _MAX_RATE)
    cost = np.stack([-(r * np.log(p0) + (d - r) * np.log1p(-p0)),
                     -(r * np.log(p1) + (d - r) * np.log1p(-p1))])          # (state, series, period)
    enter = GAMMA * np.log(n) if n > 1 else GAMMA
    best = np.stack([cost[0, :, 0], cost[1, :, 0] + enter])               # (state, series)
    came_from_1 = np.zeros((2, p0.shape[0], n), dtype=bool)
    for t in range(1, n):
        stay0, from1to0 = best[0], best[1]
        stay1, from0to1 = best[1], best[0] + enter
        came_from_1[0, :, t] = from1to0 < stay0
        came_from_1[1, :, t] = stay1 <= from0to1
        best = np.stack([np.minimum(stay0, from1to0) + cost[0, :, t],
                         np.minimum(stay1, from0to1) + cost[1, :, t]])
    state = (best[1] < best[0]).astype(np.int8)
    path = np.empty_like(r, dtype=np.int8)
    rows = np.arange(p0.shape[0])
    for t in range(n - 1, -1, -1):
        path[:, t] = state
        state = came_from_1[state, rows, t].astype(np.int8)
    levels[live] = path
    return levels
