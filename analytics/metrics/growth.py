"""The growth metrics, one function per column, as polars expressions over a dense, sorted label series.

Every function reads the columns ``papers`` (the label's count in the period), ``total_papers`` and ``usable``
(the period is neither ``low_coverage`` nor an excluded ``partial`` period), and works within each label
(``by``) on rows sorted by period with no period missing, so a shift of ``n`` rows is exactly ``n`` periods.
A figure that would need a flagged period, or a base of 0, is null: never a made-up number.
``per_year`` is the number of periods in a year (12 for months, 1 for years).
"""

from __future__ import annotations

import polars as pl

USABLE = "usable"


def _lag(expr: pl.Expr, periods: int, by: str) -> pl.Expr:
    return expr.shift(periods).over(by)


def _growth(periods: int, by: str) -> pl.Expr:
    base = _lag(pl.col("papers"), periods, by)
    ok = pl.col(USABLE) & _lag(pl.col(USABLE), periods, by).fill_null(False) & (base > 0)
    return pl.when(ok).then(pl.col("papers") / base - 1.0)


def _rolling_mean(window: int, by: str) -> pl.Expr:
    complete = pl.col(USABLE).cast(pl.Int32).rolling_sum(window).over(by) == window
    return pl.when(complete).then(pl.col("papers").cast(pl.Float64).rolling_mean(window).over(by))


def _cagr(years: int, level: str, per_year: int, by: str) -> pl.Expr:
    base = _lag(pl.col(level), years * per_year, by)
    return pl.when(base > 0).then((pl.col(level) / base) ** (1.0 / years) - 1.0)


def share() -> pl.Expr:
    """papers / total_papers: the fraction of all papers submitted in the period that carry the label."""
    return pl.when(pl.col("total_papers") > 0).then(pl.col("papers") / pl.col("total_papers"))


def mom_growth(by: str) -> pl.Expr:
    """papers / papers of the month before - 1 (both months unflagged, earlier count > 0)."""
    return _growth(1, by)


def yoy_growth(by: str, per_year: int) -> pl.Expr:
    """papers / papers of the same period a year before - 1 (both unflagged, earlier count > 0)."""
    return _growth(per_year, by)


def rolling_3m(by: str) -> pl.Expr:
    """Mean monthly papers over the 3 months ending here (all 3 unflagged)."""
    return _rolling_mean(3, by)


def rolling_12m(by: str) -> pl.Expr:
    """Mean monthly papers over the 12 months ending here (all 12 unflagged): the trailing-year level."""
    return _rolling_mean(12, by)


def rolling_3y(by: str) -> pl.Expr:
    """Mean yearly papers over the 3 years ending here (all 3 unflagged)."""
    return _rolling_mean(3, by)


def rolling_5y(by: str) -> pl.Expr:
    """Mean yearly papers over the 5 years ending here (all 5 unflagged)."""
    return _rolling_mean(5, by)


def cagr_3y(by: str, per_year: int, level: str) -> pl.Expr:
    """(level / level 3 years before) ** (1/3) - 1, level = trailing-year papers (rolling_12m, or the year's papers)."""
    return _cagr(3, level, per_year, by)


def cagr_5y(by: str, per_year: int, level: str) -> pl.Expr:
    """(level / level 5 years before) ** (1/5) - 1, level as for cagr_3y."""
    return _cagr(5, level, per_year, by)


def acceleration(by: str, per_year: int) -> pl.Expr:
    """yoy_growth - yoy_growth a year before: is growth speeding up (> 0) or slowing down (< 0)?"""
    return pl.col("yoy_growth") - _lag(pl.col("yoy_growth"), per_year, by)
