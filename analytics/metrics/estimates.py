"""Error-corrected topic counts with 90% intervals: what a classified count says about the true count.

The method (quantification by probabilistic classify-and-count, recalibrated):

- Every paper has, per topic, the supervised stage's probability (``topic_scores``), calibrated on hand labels. The
  expected true count of a set of papers is the sum of those probabilities. It assumes that what makes a paper
  belong to a topic given its text is the same in the set as in the labelled papers (covariate shift), which is how
  the labelled set was drawn: stratified by era, half of it enriched by keyword search. Adjusted classify-and-count
  (correcting hard counts with true- and false-positive rates) assumes instead that the papers *of each class* look
  alike everywhere; the keyword-enriched negatives are harder than arXiv's, so their false-positive rates
  over-subtract on the corpus (on a 30,000-paper sample: negative counts for every topic among pre-2015 papers and
  for 3 of 16 among 2015-19 papers), and it is noisier: on held-out folds of the labelled papers its mean absolute
  error is 3.1 papers a topic against 2.1 for this method (``bench/estimates.py``).
- A calibration ratio per topic and era (hand-labelled positives / summed probabilities of the labelled papers,
  out-of-fold; each era shrunk towards the topic's all-era ratio by ``SHRINK`` papers' worth of evidence) corrects
  what calibration the labels show is off. For vision_model and language_model it is measured on the
  reference-style papers only (see ``analytics.labels``): it carries the labelling convention into the counts.
- The 90% interval combines (a) the uncertainty of the ratios: a bootstrap of the labelled papers, ``RESAMPLES``
  replicates, shared by every period so that it cancels where it should (in growth); (b) the sampling noise of the
  set: given calibrated probabilities q = ratio x p, the true count is a sum of independent Bernoulli draws (variance
  sum q(1-q) = ratio x sum p - ratio^2 x sum p^2), drawn independently per period. It does not cover papers missing from the warehouse, or labellers' conventions
  drifting from the labelled set.

Growth, CAGR and share change are computed replicate by replicate, so their intervals carry the same uncertainty.
The open month is nowcast: its count so far divided by the share of a month's papers that past months had reached
by the same day (``fill_fractions``), that share's spread across months entering the interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from analytics.eras import ERAS, era_index

RESAMPLES = 200
SEED = 0
SHRINK = 100.0  # an era's ratio counts like this many papers' worth of probability mass of the topic's overall ratio
LEVEL = 0.90
MIN_MONTHS = 3  # a yearly growth figure compares at least this many months usable in both years
FILL_MONTHS = 12  # past complete months whose filling-up curve nowcasts the open month
_Q = (100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2)


@dataclass
class Calibration:
    """Per topic and era, the calibration ratio: ``ratios[0]`` the point, ``ratios[1:]`` bootstrap replicates."""

    topic_ids: list[str]
    ratios: np.ndarray  # (RESAMPLES + 1, topics, eras)

    @classmethod
    def from_outcome(cls, outcome, resamples: int = RESAMPLES, seed: int = SEED) -> "Calibration":
        """From a fit's out-of-fold results on the labelled papers (``LabelledOutcome``)."""
        rows = outcome.threshold_rows & outcome.judged
        y = (outcome.y & rows).astype(np.float64)
        p = np.where(rows, outcome.scores, 0.0)
        n = len(outcome.ids)
        weights = np.vstack([np.ones(n), np.random.default_rng(seed).multinomial(
            n, np.full(n, 1.0 / n), size=resamples)])  # (R+1, papers): replicate 0 is the sample itself
        era = np.eye(len(ERAS))[outcome.era]  # (papers, eras)
        shape = (len(weights), y.shape[1], len(ERAS))
        labelled = (weights @ (y[:, :, None] * era[:, None, :]).reshape(n, -1)).reshape(shape)
        mass = (weights @ (p[:, :, None] * era[:, None, :]).reshape(n, -1)).reshape(shape)
        overall = labelled.sum(axis=2) / np.maximum(mass.sum(axis=2), 1e-9)
        ratios = (labelled + SHRINK * overall[..., None]) / (mass + SHRINK)
        return cls(list(outcome.topic_ids), ratios)


def _interval(point: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 90% percentile interval of ``draws`` (replicates first), widened to contain the point; NaN where the
    point is NaN (non-finite draws only occur there)."""
    low, high = np.percentile(np.where(np.isfinite(draws), draws, 0.0), _Q, axis=0)
    return np.where(np.isnan(point), np.nan, np.fmin(low, point)), np.where(np.isnan(point), np.nan, np.fmax(high, point))


def _noise(ratios: np.ndarray, mass: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Standard deviation of a sum of Bernoulli draws with probabilities ratio x p: sqrt(sum q (1 - q))."""
    return np.sqrt(np.maximum(ratios * mass - ratios ** 2 * squares, 0.0))


def count_draws(mass: np.ndarray, squares: np.ndarray, ratios: np.ndarray,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(point, draws) of true counts from summed probabilities ``mass`` and summed squared probabilities ``squares``.

    ``mass`` and ``squares`` are (..., eras); ``ratios`` (R+1, ..., eras) broadcast against them. Returns the point
    (...) and R draws (R, ...): ratio replicate times mass, plus Bernoulli noise, never below 0.
    """
    point = (ratios[0] * mass).sum(axis=-1)
    replicated = (ratios[1:] * mass).sum(axis=-1)
    noise = np.sqrt((_noise(ratios[1:], mass, squares) ** 2).sum(axis=-1))
    return point, np.maximum(replicated + noise * rng.standard_normal(replicated.shape), 0.0)


def fill_fractions(days: pl.DataFrame, months: pl.DataFrame, through: date) -> np.ndarray | None:
    """Share of each of the last FILL_MONTHS complete, well-covered months' papers submitted by ``through``'s day
    of the month; None when there are no such months. ``days``: month, day (of month), papers."""
    past = months.filter(~pl.col("partial") & ~pl.col("low_coverage") & (pl.col("month") < through.replace(day=1)))
    recent = past.sort("month").tail(FILL_MONTHS)["month"]
    if recent.len() == 0:
        return None
    shares = (days.filter(pl.col("month").is_in(recent.implode()))
              .group_by("month").agg((pl.col("papers").filter(pl.col("day") <= through.day).sum()
                                      / pl.col("papers").sum()).alias("share")).sort("month"))
    values = shares["share"].to_numpy()
    values = values[values > 0]
    return values if len(values) else None


@dataclass
class Estimates:
    """What the topic tables need: probability mass per (topic, month), the calibration, the open month's fill."""

    mass: pl.DataFrame  # topic, month, mass (sum of p), squares (sum of p^2)
    calibration: Calibration
    fill: np.ndarray | None  # fill_fractions of the open month (None: no nowcast)
    open_month: date | None


def _grids(frame: pl.DataFrame, by: str, period: str, estimates: Estimates) -> tuple:
    """Dense (labels, periods) arrays of mass and squares aligned with ``frame`` (sorted by label, period)."""
    labels = frame[by].unique(maintain_order=True).to_list()
    shape = (len(labels), frame.height // max(len(labels), 1))
    joined = frame.select(by, period).join(estimates.mass.rename({"topic": by}), on=[by, period], how="left",
                                           maintain_order="left")
    mass = joined["mass"].fill_null(0.0).to_numpy().reshape(shape)
    squares = joined["squares"].fill_null(0.0).to_numpy().reshape(shape)
    return labels, mass, squares


def _ratio_grid(calibration: Calibration, labels: list[str], eras: np.ndarray) -> np.ndarray:
    """(R+1, labels, periods) ratios; NaN for labels the calibration does not know."""
    index = [calibration.topic_ids.index(t) if t in calibration.topic_ids else -1 for t in labels]
    out = calibration.ratios[:, index][:, :, eras]
    out[:, [k for k, i in enumerate(index) if i < 0]] = np.nan
    return out


def _growth(draws: np.ndarray, point: np.ndarray, lag: int, usable: np.ndarray):
    """Growth against ``lag`` periods before, where both periods are ``usable`` (labels, periods) and the earlier
    count is positive: (point, low, high), NaN elsewhere."""
    est = np.full(point.shape, np.nan)
    if point.shape[1] > lag:
        before = point[:, :-lag]
        allowed = usable[:, lag:] & usable[:, :-lag] & (before > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            est[:, lag:] = np.where(allowed, point[:, lag:] / before - 1, np.nan)
            grown = np.full(draws.shape, np.nan)
            grown[:, :, lag:] = draws[:, :, lag:] / draws[:, :, :-lag] - 1
    else:
        grown = np.full(draws.shape, np.nan)
    return (est, *_interval(est, grown))


def trend(low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """growing / shrinking when the growth interval excludes 0, steady when it includes it, null without growth."""
    return (pl.when(low > 0).then(pl.lit("growing")).when(high < 0).then(pl.lit("shrinking"))
            .when(low.is_not_null()).then(pl.lit("steady")).otherwise(pl.lit(None, dtype=pl.String)))


def _columns(frame: pl.DataFrame, values: dict[str, np.ndarray]) -> pl.DataFrame:
    return frame.with_columns(pl.Series(name, np.where(np.isfinite(v), v, np.nan).ravel()).fill_nan(None)
                              for name, v in values.items())


def _month_draws(mass: np.ndarray, squares: np.ndarray, ratios: np.ndarray, rng: np.random.Generator):
    """``count_draws`` for sets of one era each: ``ratios`` (R+1, labels, periods) already picked per period's era."""
    point = ratios[0] * mass
    noise = _noise(ratios[1:], mass, squares)
    return point, np.maximum(ratios[1:] * mass + noise * rng.standard_normal(noise.shape), 0.0)


def monthly_draws(frame: pl.DataFrame, estimates: Estimates, seed: int = SEED) -> tuple:
    """(point, draws, open column) of true counts per (topic, month) of a dense ``topic_monthly`` frame; the open
    month divided by its fill fraction (nowcast)."""
    labels, mass, squares = _grids(frame, "topic", "month", estimates)
    months = frame["month"][:mass.shape[1]]
    eras = era_index(months.dt.year().to_numpy())
    rng = np.random.default_rng(seed)
    point, draws = _month_draws(mass, squares, _ratio_grid(estimates.calibration, labels, eras), rng)
    open_col = None
    if estimates.open_month is not None and estimates.fill is not None:
        found = np.flatnonzero(months.to_numpy() == np.datetime64(estimates.open_month, "D"))
        if len(found) and mass[:, found[0]].sum() > 0:
            open_col = int(found[0])
            point[:, open_col] /= float(np.median(estimates.fill))
            draws[:, :, open_col] /= rng.choice(estimates.fill, size=draws.shape[0])[:, None]
    return point, draws, open_col


def monthly_columns(frame: pl.DataFrame, estimates: Estimates, include_partial: bool) -> tuple[pl.DataFrame, tuple]:
    """``topic_monthly`` plus the estimate columns; also the monthly draws, for the yearly table. Growth uses the
    months the raw growth figures may use (not low-coverage; not partial unless ``include_partial``)."""
    point, draws, open_col = monthly_draws(frame, estimates)
    shape = point.shape
    low, high = _interval(point, draws)
    total = frame["total_papers"].to_numpy().reshape(shape).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, 1 / total, np.nan)
    usable = (~frame["low_coverage"].to_numpy() & (include_partial | ~frame["partial"].to_numpy())).reshape(shape)
    growth, g_low, g_high = _growth(draws, point, 12, usable)
    usable = usable[0]  # the flags are the month's, the same for every topic
    nowcast = np.zeros(shape, dtype=bool)
    if open_col is not None:
        nowcast[:, open_col] = True
    out = _columns(frame, {"papers_est": point, "papers_low": low, "papers_high": high, "share_est": point * share,
                           "share_low": low * share, "share_high": high * share, "yoy_growth_est": growth,
                           "yoy_growth_low": g_low, "yoy_growth_high": g_high})
    out = out.with_columns(trend(pl.col("yoy_growth_low"), pl.col("yoy_growth_high")).alias("trend"),
                           pl.Series("nowcast", nowcast.ravel()))
    return out, (point, draws, usable, frame["month"][:shape[1]].to_numpy())


def _like_for_like(draws: np.ndarray, point: np.ndarray, usable: np.ndarray, month_year: np.ndarray,
                   years: np.ndarray, lag: int):
    """Growth of each year against ``lag`` years before, per year on the months usable in both (at least
    MIN_MONTHS; ``usable`` is per month), as a yearly rate: (point, low, high), each (labels, years)."""
    est = np.full((point.shape[0], len(years)), np.nan)
    grown = np.full((draws.shape[0], *est.shape), np.nan)
    compared = np.zeros(len(years), dtype=np.int32)
    shift = 12 * lag
    for k, year in enumerate(years):
        cols = np.flatnonzero(month_year == year)
        cols = cols[(cols >= shift)]
        cols = cols[usable[cols] & usable[cols - shift]]
        if len(cols) < MIN_MONTHS:
            continue
        compared[k] = len(cols)
        base = point[:, cols - shift].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            est[:, k] = np.where(base > 0, (point[:, cols].sum(axis=1) / base) ** (1 / lag) - 1, np.nan)
            grown[:, :, k] = (draws[:, :, cols].sum(axis=2) / draws[:, :, cols - shift].sum(axis=2)) ** (1 / lag) - 1
    return (est, *_interval(est, grown), compared)


def yearly_columns(frame: pl.DataFrame, monthly: tuple) -> pl.DataFrame:
    """``topic_yearly`` plus the estimate columns, from the monthly draws: the year's sum (the current year: to date,
    with the open month nowcast); growth and 3-year CAGR on the months usable in both years compared
    (``growth_months`` says how many: the current year's growth compares its complete months so far)."""
    point_m, draws_m, usable_m, months = monthly
    month_year = months.astype("datetime64[Y]").astype(int) + 1970
    years = frame["year"].unique(maintain_order=True).to_numpy()
    cols = [np.flatnonzero(month_year == y) for y in years]
    point = np.stack([point_m[:, c].sum(axis=1) for c in cols], axis=1)
    draws = np.stack([draws_m[:, :, c].sum(axis=2) for c in cols], axis=2)
    low, high = _interval(point, draws)
    shape = point.shape
    total = frame["total_papers"].to_numpy().reshape(shape).astype(np.float64)
    share = np.where(total > 0, 1 / np.maximum(total, 1), np.nan)
    partial = frame["partial"].to_numpy().reshape(shape)
    growth = _like_for_like(draws_m, point_m, usable_m, month_year, years, 1)
    cagr = _like_for_like(draws_m, point_m, usable_m, month_year, years, 3)
    share_draws = draws * share
    change, c_draws = np.full(shape, np.nan), np.full(draws.shape, np.nan)  # share change: complete years only
    ok = ~partial[:, 1:] & ~partial[:, :-1]
    change[:, 1:] = np.where(ok, point[:, 1:] * share[:, 1:] - point[:, :-1] * share[:, :-1], np.nan)
    c_draws[:, :, 1:] = share_draws[:, :, 1:] - share_draws[:, :, :-1]
    c_low, c_high = _interval(change, c_draws)
    out = _columns(frame, {"papers_est": point, "papers_low": low, "papers_high": high, "share_est": point * share,
                           "share_low": low * share, "share_high": high * share, "yoy_growth_est": growth[0],
                           "yoy_growth_low": growth[1], "yoy_growth_high": growth[2], "cagr_3y_est": cagr[0],
                           "cagr_3y_low": cagr[1], "cagr_3y_high": cagr[2], "share_change_est": change,
                           "share_change_low": c_low, "share_change_high": c_high})
    months_compared = np.where(np.isnan(growth[0]), 0, growth[3][None, :]).ravel()
    return out.with_columns(trend(pl.col("yoy_growth_low"), pl.col("yoy_growth_high")).alias("trend"),
                            pl.col("partial").alias("nowcast"),
                            pl.Series("growth_months", months_compared, dtype=pl.Int32).replace(0, None))


def set_estimate(scores: np.ndarray, eras: np.ndarray, calibration: Calibration, seed: int = SEED) -> dict:
    """One set of papers as a whole (``classify-file --summary``): per topic the corrected count and its 90%
    interval. ``scores``: (papers, topics) probabilities in the calibration's topic order; ``eras``: per paper."""
    onehot = np.eye(len(ERAS))[eras]
    mass, squares = scores.T @ onehot, (scores ** 2).T @ onehot  # (topics, eras)
    point, draws = count_draws(mass, squares, calibration.ratios, np.random.default_rng(seed))
    low, high = _interval(point, draws)
    return {t: {"estimate": float(point[k]), "low": float(low[k]), "high": float(high[k])}
            for k, t in enumerate(calibration.topic_ids)}
