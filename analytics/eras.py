"""The four eras every quality figure is reported by: arXiv's vocabulary for these topics changed between them
(statistical MT and CNN backbones, then BERT-era pretraining, then LLMs), so a classifier must hold in each."""

from __future__ import annotations

import numpy as np
import polars as pl

ERAS = (("<=2014", None, 2014), ("2015-19", 2015, 2019), ("2020-24", 2020, 2024), ("2025-26", 2025, None))
ERA_NAMES = tuple(name for name, _, _ in ERAS)
LATEST = len(ERAS) - 1  # papers without a date are taken to be new


def era_index(years) -> np.ndarray:
    """Era number (0..3) of each submission year; a missing year counts as the latest era."""
    years = np.asarray(years, dtype=np.float64)
    out = np.full(len(years), LATEST, dtype=np.int64)
    for k, (_, first, last) in enumerate(ERAS):
        inside = ~np.isnan(years)
        if first is not None:
            inside &= years >= first
        if last is not None:
            inside &= years <= last
        out[inside] = k
    return out


def frame_eras(frame: pl.DataFrame) -> np.ndarray:
    """``era_index`` of a frame's ``submitted`` column (all latest when the frame has none)."""
    if "submitted" not in frame.columns:
        return np.full(frame.height, LATEST, dtype=np.int64)
    years = frame["submitted"].dt.year().cast(pl.Float64).fill_null(float("nan")).to_numpy()
    return era_index(years)
