"""Figure helpers: flagged-month bands, co-occurrence from either pair order, safe figure JSON."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from reports import figures, series
from reports.charts import Chart, plotly_text
from reports.inputs import ReportInputs


def _inputs(monthly: pl.DataFrame, **tables: pl.DataFrame) -> ReportInputs:
    topics = sorted(monthly["topic"].unique().to_list())
    return ReportInputs(monthly, topics, {t: t.title() for t in topics}, dict(tables), None, None, None, {}, None)


def test_flag_shapes_merge_runs_of_months() -> None:
    months = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
    shapes = figures.flag_shapes(months, {"low_coverage": [True, True, False, True, False],
                                          "partial": [False, False, False, False, True]})
    spans = [(s["name"], s["x0"], s["x1"], s["showlegend"]) for s in shapes]
    assert spans == [("low-coverage month", "2024-01-01", "2024-03-01", True),
                     ("low-coverage month", "2024-04-01", "2024-05-01", False),
                     ("partial month", "2024-05-01", "2024-06-01", True)]


def _monthly(papers: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame([{"topic": t, "month": date(2024, 1, 1), "papers": n, "total_papers": 100,
                          "partial": False, "low_coverage": False} for t, n in papers.items()])


def test_cooccurrence_counts_each_pair_once_in_either_storage_order() -> None:
    monthly = _monthly({"a": 10, "b": 6, "c": 4})
    once = pl.DataFrame({"year": [2024, 2024], "topic_a": ["a", "b"], "topic_b": ["b", "c"], "papers": [4, 1],
                         "jaccard": [0.0, 0.0]})
    both = pl.concat([once, once.select("year", pl.col("topic_b").alias("topic_a"), pl.col("topic_a").alias("topic_b"),
                                        "papers", "jaccard")])
    for pairs in (once, both):
        chart = figures.cooccurrence_matrix(_inputs(monthly, cooccurrence=pairs))
        assert chart.data.rows() == [("a", "b", 4, round(4 / 12, 4)), ("a", "c", 0, 0.0), ("b", "c", 1, round(1 / 9, 4))]
        z = chart.figure.data[0].z
        assert z[0][1] == z[1][0] == round(4 / 12, 4) and z[0][0] is None


def _series(papers: list[int], low: set[int] = frozenset(), partial: set[int] = frozenset(),
            start: date = date(2023, 1, 1)) -> pl.DataFrame:
    months = pl.date_range(start, date(2030, 1, 1), interval="1mo", eager=True).head(len(papers)).to_list()
    return pl.DataFrame([{"topic": "a", "month": m, "papers": n, "total_papers": 10 * n + 100,
                          "partial": i in partial, "low_coverage": i in low}
                         for i, (m, n) in enumerate(zip(months, papers))])


def test_growth_is_like_for_like_on_months_usable_in_both_years() -> None:
    # 2023: 10 a month; 2024: 20 a month, but Mar-Dec 2024 (index 14..23) are low coverage.
    monthly = _series([10] * 12 + [20] * 12 + [30] * 2, low=set(range(14, 24)), partial={25})
    years = series.yearly_growth(monthly)
    assert years.select("year", "papers", "matched_months", "growth", "partial").rows() == [
        (2023, 120, 0, None, False),      # no year before it
        (2024, 240, 2, None, False),      # only Jan and Feb usable in both: below MIN_MATCHED_MONTHS
        (2025, 60, 1, None, True)]        # Feb 2025 is partial
    full = series.yearly_growth(_series([10] * 12 + [15] * 12))
    assert full["growth"].to_list() == [None, 0.5]   # all months usable: plain year-on-year growth
    assert series.latest_year_with_growth(full) == 2024


def test_rolling_mean_uses_usable_months_only() -> None:
    frame = series.with_usable_rolling(_series([10] * 5 + [1] * 2 + [10] * 5, low={5, 6}))
    assert frame["usable_in_window"].to_list() == [1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10]
    assert frame["rolling_12m_usable"].to_list() == [None] * 7 + [10.0] * 5


def test_charts_start_at_the_first_run_of_well_covered_months() -> None:
    thin, thick = [1] * 5, [50] * 12   # total_papers = 10 * papers + 100
    monthly = _series([0, 0, *thin, *thick])
    assert series.focus_start(monthly) == date(2023, 1, 1)   # every month has 100+ papers in all
    sparse = monthly.with_columns(pl.when(pl.col("papers") < 50).then(5).otherwise(pl.col("total_papers"))
                                  .alias("total_papers"))
    assert series.focus_start(sparse) == date(2023, 8, 1)


def test_figure_json_cannot_close_its_script_block() -> None:
    label = "</script><script>alert(1)</script> & $x$"
    chart = Chart("k", "t", "c", go.Figure(go.Scatter(x=[1], y=[2], name=plotly_text(label))), pl.DataFrame())
    text = chart.figure_json()
    assert "<" not in text and ">" not in text and "&" not in text.replace("\\u0026", "")
    assert plotly_text(label) == "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#36;x&#36;"


def test_heatmap_leaves_out_years_without_comparable_months() -> None:
    monthly = _series([10] * 12 + [15] * 12 + [45] * 5, partial={28})
    chart = figures.growth_heatmap(_inputs(monthly))
    heat = chart.figure.data[0]
    assert list(heat.x) == ["2024", "2025*"]          # 2023 has no year before it
    assert list(heat.text[0]) == ["+50%", "+200%"] and list(heat.z[0]) == [50.0, 100.0]   # colour clipped
    assert chart.data["year"].to_list() == [2023, 2024, 2025]   # the CSV keeps every year
