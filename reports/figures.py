"""The Plotly figures of the site, one function per chart, each returning a ``Chart`` (or ``None`` without data).

Every chart says its finding in its title, defines its measure in the subtitle, and carries a text description
generated from its data (its accessible name) and a footer with the data's provenance. Figures use plain lists
(rounded) and a slim template, so pages stay small and their JSON is reproducible. Every data string that reaches
Plotly goes through ``plotly_text``: Plotly labels interpret some HTML.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl

from reports import estimates, series
from reports.charts import Chart, Control, Link, Num, Panel, Panels, Table, plotly_text
from reports.inputs import ReportInputs
from reports.wording import (count_with_interval, fmt_day, fmt_int, fmt_month, growth_cell, growth_phrase, listing,
                             pct, points)

# Okabe & Ito's palette: told apart by readers with any common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
MARKERS = ["circle", "square", "diamond", "triangle-up", "x", "star", "cross", "triangle-down"]
PATTERNS = ["", "/", ".", "x", "", "\\", "-", "+", ""]
ACCENT = "#0072B2"
TREND_COLORS = {"growing": "#0072B2", "shrinking": "#D55E00", "steady": "#9e9e9e", None: "#9e9e9e"}
BAND = "rgba(0, 114, 178, 0.18)"
NOWCAST = "#6a3d9a"
FLAG_COLORS = {"low_coverage": "rgba(230, 159, 0, 0.16)", "partial": "rgba(120, 120, 120, 0.22)"}
FLAG_NAMES = {"low_coverage": "low-coverage month", "partial": "partial month"}
TOP_SUBTOPICS = 8
TOP_CATEGORIES = 8
GROWTH_CLIP = 100  # the heat map saturates at ±100 % so one tiny topic does not wash out the rest
MONTHLY = {"xperiod": "M1", "xperiodalignment": "middle"}
PANEL_HEIGHT = 150
METHOD = "coverage.html#method"

TEMPLATE = go.layout.Template(layout={
    "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
             "size": 12, "color": "#222"},
    "paper_bgcolor": "white", "plot_bgcolor": "white",
    "xaxis": {"gridcolor": "#eceff1", "linecolor": "#9e9e9e", "zeroline": False, "automargin": True},
    "yaxis": {"gridcolor": "#eceff1", "linecolor": "#9e9e9e", "zeroline": False, "automargin": True},
    "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
    "hoverlabel": {"font": {"size": 12}},
    "legend": {"font": {"size": 11}, "orientation": "h", "y": -0.2, "yanchor": "top", "x": 0},
})


def _layout(**extra: Any) -> dict[str, Any]:
    return {"template": TEMPLATE, "hovermode": "closest", **extra}


def _rounded(values: list[Any], digits: int) -> list[Any]:
    return [None if v is None else round(float(v), digits) for v in values]


def _months(frame: pl.DataFrame) -> pl.DataFrame:
    """``month`` as ``YYYY-MM-DD`` text (the metrics may store a date or a datetime)."""
    return frame.with_columns(pl.col("month").cast(pl.Date).dt.strftime("%Y-%m-%d").alias("month"))


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def flag_shapes(months: list[str], flags: dict[str, list[bool]]) -> list[dict[str, Any]]:
    """Shaded bands over runs of flagged months (one legend entry per kind of flag)."""
    shapes: list[dict[str, Any]] = []
    for kind, marks in flags.items():
        start: str | None = None
        for i, (month, flagged) in enumerate(zip(months, marks)):
            if flagged and start is None:
                start = month
            last = i == len(months) - 1
            if start is not None and (not flagged or last):
                end = month if flagged else months[i - 1]
                shapes.append({
                    "type": "rect", "xref": "x", "yref": "paper", "layer": "below", "line": {"width": 0},
                    "x0": start, "x1": _next_month(date.fromisoformat(end)).isoformat(), "y0": 0, "y1": 1,
                    "fillcolor": FLAG_COLORS[kind], "name": FLAG_NAMES[kind], "legendgroup": kind,
                    "showlegend": not any(s["legendgroup"] == kind for s in shapes),
                })
                start = None
    return shapes


def month_flags(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per month with its partial / low-coverage flags (a month is flagged if any row says so)."""
    cols = [pl.col(c).fill_null(False).any() for c in ("partial", "low_coverage") if c in frame.columns]
    flags = _months(frame).group_by("month").agg(cols).sort("month")
    for c in ("partial", "low_coverage"):
        if c not in flags.columns:
            flags = flags.with_columns(pl.lit(False).alias(c))
    return flags


def _shapes_for(frame: pl.DataFrame) -> list[dict[str, Any]]:
    flags = month_flags(frame)
    return flag_shapes(flags["month"].to_list(), {k: flags[k].to_list() for k in ("low_coverage", "partial")})


def partial_year_shapes(inp: ReportInputs) -> list[dict[str, Any]]:
    """A shaded band over each partial year of a chart with one point (or bar) per year."""
    years = sorted(inp.years.filter(pl.col("partial"))["year"].unique().to_list())
    return [{"type": "rect", "xref": "x", "yref": "paper", "layer": "below", "line": {"width": 0},
             "x0": y - 0.5, "x1": y + 0.5, "y0": 0, "y1": 1, "fillcolor": FLAG_COLORS["partial"],
             "name": "partial year", "showlegend": i == 0} for i, y in enumerate(years)]


def _since(inp: ReportInputs) -> str:
    """The sentence that says where the time-series charts start, and why."""
    return (f" Charts start in {inp.focus:%b %Y}, the first of {series.FOCUS_RUN} months in a row with "
            f"{series.FOCUS_MIN_PAPERS}+ papers in the warehouse; earlier months are on the data-coverage page.")


def footer(inp: ReportInputs, topic: str | None = None, bands: bool = False) -> tuple[str | Link, ...]:
    """Where a chart's numbers come from: data through which day, the source, the classifier version, the topic's
    measured precision and recall, and (for charts with intervals) what the bands are."""
    version = (inp.model or {}).get("version")
    lines: list[str | Link] = [f"Data through {fmt_day(inp.data_through)}" if inp.data_through else "",
             "Source: arXiv metadata (CC0), classified by arxiv-trends"
             + (f" (classifier {version})" if version else "")]
    if topic is not None:
        quality = inp.topic_quality(topic)
        if "precision" in quality and "recall" in quality:
            support = f", {int(quality['support'])} gold papers" if "support" in quality else ""
            lines.append(f"{inp.name(topic)}: precision {quality['precision']:.2f}, recall {quality['recall']:.2f} "
                         f"on the hand-labelled dev set{support}")
    if bands and inp.intervals:
        lines.append(Link("Bands and ranges: 90% intervals of the corrected counts (what the bands mean)", METHOD))
    return tuple(line for line in lines if line)


def _short(label: str, limit: int = 40) -> str:
    """A legend entry short enough for a phone (the full label is in the hover)."""
    return label if len(label) <= limit else label[:limit - 1].rstrip(" ,") + "…"


def _narrow(traces: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    """What a chart drops or shrinks on a phone (``report.js`` applies it as a Plotly update under 600 px)."""
    return {"narrow": {"traces": traces, "layout": layout}}


def _hover_interval(low: float | None, high: float | None, digits: int = 0, percent: bool = False) -> str:
    if low is None or high is None:
        return ""
    if percent:
        return f" (90%: {100 * low:.{max(digits, 1)}f}–{100 * high:.{max(digits, 1)}f}%)"
    return f" (90%: {low:,.{digits}f}–{high:,.{digits}f})"


# -- overview: small multiples ------------------------------------------------------------------------------------

def _panel(name: str, months: list[str], y: list[Any], low: list[Any], high: list[Any], opened: dict | None,
           x_range: list[str], y_top: float, percent: bool) -> go.Figure:
    """One small chart: the line, its 90% band, and the open month (a nowcast, or a partial count) apart."""
    digits, fmt = (2, ".2%") if percent else (0, ",.0f")
    fig = go.Figure(layout=_layout(
        height=PANEL_HEIGHT, showlegend=False, margin={"l": 44, "r": 8, "t": 6, "b": 24},
        xaxis={"range": x_range, "nticks": 4, "tickfont": {"size": 10}, "fixedrange": True},
        yaxis={"range": [0, y_top], "rangemode": "tozero", "nticks": 4, "tickfont": {"size": 10},
               "tickformat": ".0%" if percent else "~s", "fixedrange": True}))
    if any(v is not None for v in low):
        band_x, band_y = _band(months, low, high)
        fig.add_trace(go.Scatter(x=band_x, y=_rounded(band_y, 5 if percent else 1), fill="toself", fillcolor=BAND,
                                 line={"width": 0}, mode="lines", hoverinfo="skip", name="90% interval"))
    custom = [f"{_hover_interval(lo, hi, digits, percent)}" for lo, hi in zip(low, high)]
    fig.add_trace(go.Scatter(x=months, y=_rounded(y, 5 if percent else 1), mode="lines", name=plotly_text(name),
                             line={"width": 1.6, "color": ACCENT}, customdata=custom,
                             hovertemplate=f"%{{x|%b %Y}}: %{{y:{fmt}}}%{{customdata}}<extra></extra>", **MONTHLY))
    if opened is not None:
        fig.add_trace(go.Scatter(
            x=[opened["month"]], y=_rounded([opened["y"]], 5 if percent else 1), mode="markers",
            name=opened["label"], marker={"symbol": "circle-open", "size": 7, "color": NOWCAST, "line": {"width": 2}},
            error_y=({"type": "data", "symmetric": False, "array": _rounded([opened["high"] - opened["y"]], 5),
                      "arrayminus": _rounded([opened["y"] - opened["low"]], 5), "color": NOWCAST, "thickness": 1.2}
                     if opened.get("low") is not None else None),
            hovertemplate=f"%{{x|%b %Y}}, {opened['label']}: %{{y:{fmt}}}{opened['range']}<extra></extra>",
            **MONTHLY))
    return fig


def _band(months: list[str], low: list[Any], high: list[Any]) -> tuple[list[Any], list[Any]]:
    """A closed outline per run of months with an interval (runs separated by a gap), for ``fill="toself"``."""
    xs: list[Any] = []
    ys: list[Any] = []
    run: list[int] = []
    for i in [*range(len(months)), None]:
        if i is not None and low[i] is not None and high[i] is not None:
            run.append(i)
            continue
        if run:
            if xs:
                xs.append(None)
                ys.append(None)
            xs += [months[j] for j in run] + [months[j] for j in reversed(run)]
            ys += [high[j] for j in run] + [low[j] for j in reversed(run)]
        run = []
    return xs, ys


def _opened(rows: pl.DataFrame, value: str, low: str, high: str, percent: bool) -> dict[str, Any] | None:
    """The open month of one topic: its nowcast (with interval) where the metrics have one, else its partial count."""
    last = rows.tail(1)
    if last.is_empty() or not (last["nowcast"][0] or last["partial"][0]) or not last["total_papers"][0]:
        return None
    row = last.row(0, named=True)
    nowcast = bool(row["nowcast"])
    lo, hi = (row[low], row[high]) if nowcast else (None, None)
    return {"month": row["month"], "y": row[value] if nowcast else row[{"est": "papers", "share_est": "share"}[value]],
            "low": lo, "high": hi, "label": "nowcast of the open month" if nowcast else "open month so far (partial)",
            "range": _hover_interval(lo, hi, 2 if percent else 0, percent)}


def _small_multiples(inp: ReportInputs, key: str, name: str, value: str, low: str, high: str, percent: bool,
                     title: str, subtitle: str, caption: str, describe, table: Table | None) -> Panels:
    frame = _months(inp.charted)
    usable = ~pl.col("low_coverage").fill_null(False) & ~pl.col("partial").fill_null(False) & ~pl.col("nowcast")
    frame = frame.with_columns([pl.when(usable).then(pl.col(c)).alias(f"_{c}") for c in (value, low, high)])
    months = sorted(frame["month"].unique().to_list())
    x_range = [months[0], _next_month(_next_month(date.fromisoformat(months[-1]))).isoformat()]
    peak = max(frame.select(pl.max_horizontal(f"_{value}", f"_{high}")).to_series().max() or 0,
               frame.filter(pl.col("nowcast")).select(pl.max_horizontal(value, high)).to_series().max() or 0)
    y_top = round(float(peak) * 1.05, 5 if percent else 1) or 1
    panels = []
    for topic in inp.topics:
        rows = frame.filter(pl.col("topic") == topic).sort("month")
        fig = _panel(inp.name(topic), rows["month"].to_list(), rows[f"_{value}"].to_list(), rows[f"_{low}"].to_list(),
                     rows[f"_{high}"].to_list(), _opened(rows, value, low, high, percent), x_range, y_top, percent)
        panels.append(Panel(inp.name(topic), _topic_href(topic), fig, describe(topic)))
    axes = Control("y axis", (("shared", {"yaxis.range": [0, y_top], "yaxis.autorange": False}),
                              ("each its own", {"yaxis.autorange": True})))
    cols = ["topic", "month", "papers", "total_papers", "share", value, low, high, "nowcast", "partial",
            "low_coverage"]
    data = frame.select(list(dict.fromkeys(c for c in cols if c in frame.columns)))
    overall = f"{len(panels)} small charts, one per topic, {fmt_month(inp.focus)} to {fmt_month(inp.charted['month'].max())}. "
    return Panels(key, title, caption, panels, data, subtitle=subtitle, description=overall + describe(None),
                  footer=footer(inp, bands=True), controls=(axes,), table=table, name=name)


def _first_and_last(inp: ReportInputs, topic: str, means: pl.DataFrame, fmt, unit: str) -> str:
    """``Name: <first year's mean><unit> in Y0, <last year's> in Y1.`` (a small chart's description)."""
    rows = means.filter(pl.col("topic") == topic).sort("year")
    if rows.height < 2:
        return f"{inp.name(topic)}: too few usable months to describe."
    (y0, first), (y1, last) = rows.select("year", "mean").row(0), rows.select("year", "mean").row(-1)
    return f"{inp.name(topic)}: {fmt(first)}{unit} in {y0}, {fmt(last)} in {y1}."


def _topic_href(topic: str) -> str:
    return f"topic-{slug(topic)}.html"


def _yearly_means(frame: pl.DataFrame, value: str) -> pl.DataFrame:
    """Per topic and year: the mean of ``value`` over the year's usable months (none flagged, not open)."""
    usable = ~pl.col("low_coverage").fill_null(False) & ~pl.col("partial").fill_null(False) & ~pl.col("nowcast")
    return (frame.filter(usable).with_columns(pl.col("month").cast(pl.Date).dt.year().alias("year"))
            .group_by("topic", "year").agg(pl.col(value).mean().alias("mean")))


def monthly_small_multiples(inp: ReportInputs) -> Panels:
    years = inp.years
    span = estimates.complete_years(years)
    table = change_table(inp, span[0], span[-1]) if len(span) >= 2 else None
    change = estimates.change_between(years, span[0], span[-1]) if len(span) >= 2 else None
    monthly_means = _yearly_means(inp.charted, "est")

    def describe(topic: str | None) -> str:
        if topic is not None:
            return _first_and_last(inp, topic, monthly_means, lambda v: f"about {fmt_int(v)}", " papers a month")
        if change is None:
            return "There are fewer than two complete years to compare."
        moved = change.filter(pl.col("trend") == "growing").sort("change", descending=True)
        fell = change.filter(pl.col("trend") == "shrinking").sort("change")
        words = [f"From {span[0]} to {span[-1]}, {moved.height} topics grew and {fell.height} shrank beyond their "
                 "90% intervals."]
        if moved.height:
            words.append("Largest gains: " + listing(
                [f"{inp.name(t)} ({fmt_int(a)} to {fmt_int(b)} papers a year)"
                 for t, a, b in moved.head(3).select("topic", "est_first", "est_last").rows()]) + ".")
        if fell.height:
            words.append("Largest losses: " + listing(
                [f"{inp.name(t)} ({fmt_int(a)} to {fmt_int(b)})"
                 for t, a, b in fell.head(3).select("topic", "est_first", "est_last").rows()]) + ".")
        return " ".join(words)

    title = _monthly_title(inp, monthly_means)
    measure = "corrected for the classifier's measured errors, with 90% bands" if inp.intervals else "as classified"
    return _small_multiples(
        inp, "overview-monthly-papers", "Papers per month", "est", "low", "high", False, title,
        f"Papers per month in each topic, {measure}; the same scale in every chart unless switched.",
        "Each small chart is one topic (its name links to the topic's page). A paper can count for up to three "
        "topics. Gaps are months with low coverage (the warehouse holds under half the usual papers there). "
        + ("The hollow circle with a bar is the nowcast of the open month: the count it is expected to reach "
           "when the month is complete, with its interval; it is not joined to the line because it is not final. "
           if inp.intervals else
           "The hollow circle is the open month's count so far: it is still being harvested. ")
        + "Switch the y axis to “each its own” to see the shape of the small topics; the Table tab compares the "
        "first and last complete year." + _since(inp), describe, table)


def _monthly_title(inp: ReportInputs, means: pl.DataFrame) -> str:
    if means.is_empty():
        return "Papers per month by topic"
    year = int(means["year"].max())
    latest = means.filter(pl.col("year") == year).sort(["mean", "topic"], descending=[True, False])
    top = latest.row(0, named=True)
    return (f"{inp.name(top['topic'])} is the largest topic, with about {fmt_int(top['mean'])} papers a month "
            f"in {year}")


def share_small_multiples(inp: ReportInputs) -> Panels:
    year = inp.growth_year
    years = inp.years.filter(pl.col("year") == year) if year else inp.years.head(0)
    share_moves = years.filter(pl.col("share_change_low") > 0).sort(["share_change", "topic"], descending=[True, False])
    if share_moves.height:
        top = share_moves.row(0, named=True)
        title = (f"{inp.name(top['topic'])} gained the most share in {inp.growth_label}: {points(top['share_change'])} "
                 f"(90%: {points(top['share_change_low'])} to {points(top['share_change_high'])})")
    elif year is not None and len(years):
        top = years.sort(["share_est", "topic"], descending=[True, False]).row(0, named=True)
        title = f"{inp.name(top['topic'])} has the largest share of papers: {pct(top['share_est'])} in {inp.growth_label}"
        if inp.intervals:
            title += "; no topic's share changed beyond its 90% interval"
    else:
        title = "Share of all papers by topic"
    means = _yearly_means(inp.charted, "share_est")

    def describe(topic: str | None) -> str:
        if topic is not None:
            return _first_and_last(inp, topic, means, pct, " of all papers")
        last = means.filter(pl.col("year") == means["year"].max()).sort(["mean", "topic"], descending=[True, False])
        return ("Largest shares in the last year: "
                + listing([f"{inp.name(t)} {pct(v)}" for t, v in last.head(3).select("topic", "mean").rows()]) + ".")

    return _small_multiples(
        inp, "overview-topic-share", "Share of all papers", "share_est", "share_low", "share_high", True, title,
        "Each topic's share of all papers submitted in the month"
        + (", corrected for the classifier's errors, with 90% bands." if inp.intervals else "."),
        "One small chart per topic. A paper can take several topics or none, so the shares of the 16 topics need "
        "not add up to 100 %. Shares are robust to coverage gaps (both counts shrink together) but noisier in thin "
        "months; gaps are low-coverage months." + _since(inp), describe, None)


def change_table(inp: ReportInputs, first: int, last: int) -> Table:
    """Per topic: papers in the first and last complete year, absolute and relative change with 90% intervals."""
    change = estimates.change_between(inp.years, first, last)
    order = {t: i for i, t in enumerate(inp.topics)}
    rows: list[list[Any]] = []
    for r in sorted(change.iter_rows(named=True), key=lambda r: order.get(r["topic"], 99)):
        steady = inp.intervals and r["trend"] == "steady"
        rel = r["relative"]
        rows.append([
            Link(inp.name(r["topic"]), _topic_href(r["topic"])),
            Num(count_with_interval(r["est_first"], r["low_first"], r["high_first"]), r["est_first"]),
            Num(count_with_interval(r["est_last"], r["low_last"], r["high_last"]), r["est_last"]),
            Num(_signed_count(r["change"], r["change_low"], r["change_high"]), r["change"], steady),
            Num("base under 20 papers" if rel is None else growth_cell(rel, r["relative_low"], r["relative_high"]),
                rel, steady),
        ])
    data = change.select("topic", "first", "last", "est_first", "low_first", "high_first", "est_last", "low_last",
                         "high_last", "change", "change_low", "change_high", "relative", "relative_low",
                         "relative_high", "trend")
    return Table("overview-change-table", f"Change from {first} to {last}",
                 f"Papers in {first} and in {last} (the first and last complete years in the charts), the change, "
                 "and the change relative to the first year, each with its 90% interval. Greyed changes are within "
                 "their interval of zero: not a movement. Sort by any column with its header."
                 if inp.intervals else
                 f"Papers in {first} and in {last} (the first and last complete years in the charts) and the change. "
                 "These metrics carry no intervals yet, so no change is tested. Sort by any column with its header.",
                 ["topic", f"papers {first}", f"papers {last}", "change", "relative change"], rows, data,
                 numeric=frozenset({1, 2, 3, 4}))


def _signed_count(x: float | None, low: float | None, high: float | None) -> str:
    if x is None:
        return "–"
    text = f"{'+' if x >= 0 else '−'}{fmt_int(abs(x))}"
    if low is None or high is None:
        return text
    return f"{text} ({'+' if low >= 0 else '−'}{fmt_int(abs(low))} to {'+' if high >= 0 else '−'}{fmt_int(abs(high))})"


# -- overview: growth ---------------------------------------------------------------------------------------------

def growth_heatmap(inp: ReportInputs) -> Chart | None:
    years = inp.years
    if years.filter(pl.col("growth").is_not_null()).is_empty():
        return None
    # Years where no topic has a comparable month are left out: a column of empty cells says nothing.
    year_list = sorted(years.filter(pl.col("growth").is_not_null())["year"].unique().to_list()) or sorted(
        years["year"].unique().to_list())
    partial_years = set(years.filter(pl.col("partial") | pl.col("nowcast"))["year"].to_list())
    labels = [f"{y}*" if y in partial_years else str(y) for y in year_list]
    z, grey, text, custom = [], [], [], []
    for topic in inp.topics:
        rows = {r["year"]: r for r in years.filter(pl.col("topic") == topic).iter_rows(named=True)}
        z_row, grey_row, text_row, custom_row = [], [], [], []
        for y in year_list:
            r = rows.get(y) or {"growth": None, "growth_low": None, "growth_high": None, "trend": None,
                                "papers": 0, "matched_months": 0, "est": None, "low": None, "high": None}
            g = r["growth"]
            significant = not inp.intervals or r["trend"] in estimates.MOVING
            value = None if g is None else max(-GROWTH_CLIP, min(GROWTH_CLIP, round(100 * g, 1)))
            z_row.append(value if significant else None)
            grey_row.append(0 if (g is not None and not significant) else None)
            text_row.append("" if g is None else pct(g, signed=True))
            basis = (f"{count_with_interval(r['est'], r['low'], r['high'])} papers (corrected)" if inp.intervals else
                     f"{r['papers']} papers; compared on {r['matched_months']} months")
            verdict = "" if g is None else ("" if not inp.intervals else f"; {r['trend']}")
            custom_row.append(f"{growth_cell(g, r['growth_low'], r['growth_high'])}{verdict}<br>{basis}")
        z.append(z_row)
        grey.append(grey_row)
        text.append(text_row)
        custom.append(custom_row)
    names = [plotly_text(inp.name(t)) for t in inp.topics]
    hover = "%{y}, %{x}: %{customdata}<extra></extra>"
    fig = go.Figure(layout=_layout(yaxis={"autorange": "reversed"}, height=560, xaxis={"type": "category"},
                                   meta=_narrow({"showscale": False, "texttemplate": ""}, {"yaxis.tickfont.size": 10})))
    fig.add_trace(go.Heatmap(x=labels, y=names, z=z, text=text, customdata=custom, texttemplate="%{text}",
                             textfont={"size": 10}, colorscale="RdBu", zmin=-GROWTH_CLIP, zmax=GROWTH_CLIP,
                             xgap=1, ygap=1, colorbar={"title": {"text": "growth"}, "ticksuffix": "%"},
                             hovertemplate=hover, name="growth"))
    if inp.intervals:  # the changes within their interval, in grey: no colour claims a movement for them
        fig.add_trace(go.Heatmap(x=labels, y=names, z=grey, text=text, customdata=custom, texttemplate="%{text}",
                                 textfont={"size": 10, "color": "#444"}, colorscale=[[0, "#eeeeee"], [1, "#eeeeee"]],
                                 showscale=False, xgap=1, ygap=1, hovertemplate=hover, name="within its interval"))
    year = inp.growth_year
    moved = estimates.movements(years, year)
    grew = moved.filter(pl.col("trend") == "growing").height
    fell = moved.filter(pl.col("trend") == "shrinking").height
    if inp.intervals and year is not None:
        title = f"In {inp.growth_label}, {grew} topics grew and {fell} shrank beyond their 90% intervals"
        if moved.height:
            top = moved.row(0, named=True)
            title += (f"; the biggest move: {inp.name(top['topic'])} "
                      f"{growth_phrase(top['growth'], top['growth_low'], top['growth_high'], top['trend'])}")
    else:
        title = "Year-on-year growth by topic" + (f" up to {inp.growth_label}" if year else "")
    description = _heatmap_description(inp, year)
    cols = ["topic", "year", "papers", "est", "low", "high", "growth", "growth_low", "growth_high", "trend",
            "matched_months", "partial", "nowcast", "low_coverage"]
    return Chart("overview-growth-heatmap", title,
                 ("Colour: growth of the corrected count over the year before (blue: growing, red: shrinking; "
                  f"colours saturate at ±{GROWTH_CLIP} %). Grey cells changed within their 90% interval: no "
                  "movement can be claimed. Growth is left out where either year has a low-coverage month. "
                  if inp.intervals else
                  f"Year-on-year growth of each topic's papers (red: shrinking, blue: growing; colours saturate at "
                  f"±{GROWTH_CLIP} %). Growth is compared like for like, on the months usable in both years "
                  "(neither low coverage nor partial); the hover says how many, and a cell stays empty below "
                  f"{series.MIN_MATCHED_MONTHS}. These metrics carry no intervals, so no change is tested. ")
                 + "The cell text gives the value; a year marked * is still open.",
                 fig, years.select(cols), subtitle="Year-on-year change in papers per topic"
                 + (", with significance from 90% intervals." if inp.intervals else "."),
                 description=description, footer=footer(inp, bands=True), name="Growth by topic and year")


def _heatmap_description(inp: ReportInputs, year: int | None) -> str:
    if year is None:
        return "No year has a growth figure yet."
    moved = estimates.movements(inp.years, year)
    if not inp.intervals:
        rows = inp.years.filter((pl.col("year") == year) & pl.col("growth").is_not_null()).sort("growth",
                                                                                             descending=True)
        return (f"Growth by topic and year. In {year}: "
                + listing([f"{inp.name(t)} {pct(g, signed=True)}" for t, g in rows.head(3).select("topic", "growth").rows()])
                + " lead; untested, without intervals.")
    parts = [f"{inp.name(r['topic'])} {growth_phrase(r['growth'], r['growth_low'], r['growth_high'], r['trend'])}"
             for r in moved.head(3).iter_rows(named=True)]
    return (f"Growth by topic and year. In {year}, {moved.height} of {len(inp.topics)} topics moved beyond their 90% "
            "intervals" + (": " + "; ".join(parts) if parts else "") + ".")


def volume_growth_bubbles(inp: ReportInputs) -> Chart | None:
    year = inp.growth_year
    if year is None:
        return None
    rows = inp.years.filter((pl.col("year") == year) & (pl.col("est") > 0)).sort("topic")
    fig = go.Figure(layout=_layout(
        xaxis={"title": {"text": f"papers in {inp.growth_label} (log scale)"}, "type": "log"},
        yaxis={"title": {"text": f"growth {year - 1}→{year}"}, "ticksuffix": "%", "zeroline": True,
               "zerolinecolor": "#bdbdbd"}, height=520, showlegend=inp.intervals,
        meta=_narrow({"textfont.size": 8}, {})))
    peak = max(rows["share_est"].max() or 0.0, 1e-9)
    for trend in (["growing", "shrinking", "steady", None] if inp.intervals else [None]):
        part = rows.filter(pl.col("trend") == trend) if trend else rows.filter(pl.col("trend").is_null())
        if part.is_empty():
            continue
        color = TREND_COLORS[trend] if inp.intervals else ACCENT
        names = [plotly_text(inp.name(t)) for t in part["topic"].to_list()]
        g = part["growth"].to_list()
        lo, hi = part["growth_low"].to_list(), part["growth_high"].to_list()
        error = ({"type": "data", "symmetric": False, "color": color, "thickness": 1,
                  "array": [None if a is None or b is None else round(100 * (b - a), 1) for a, b in zip(g, hi)],
                  "arrayminus": [None if a is None or b is None else round(100 * (a - b), 1) for a, b in zip(g, lo)]}
                 if inp.intervals else None)
        fig.add_trace(go.Scatter(
            x=_rounded(part["est"].to_list(), 1), y=[None if v is None else round(100 * v, 1) for v in g],
            text=names, mode="markers+text", textposition="top center", textfont={"size": 10},
            name={"growing": "growing", "shrinking": "shrinking", "steady": "steady (within its interval)",
                  None: "no growth figure" if inp.intervals else "topic"}[trend],
            marker={"size": [round(12 + 48 * (s or 0) / peak, 1) for s in part["share_est"].to_list()],
                    "color": color, "opacity": 0.75, "line": {"width": 1, "color": "white"}},
            error_y=error,
            customdata=[[growth_cell(a, b, c), round(100 * (s or 0), 2)]
                        for a, b, c, s in zip(g, lo, hi, part["share_est"].to_list())],
            hovertemplate="%{text}<br>%{x:,.0f} papers, growth %{customdata[0]}<br>%{customdata[1]}% of all papers"
                          "<extra></extra>"))
    moved = estimates.movements(inp.years, year)
    fast = moved.filter(pl.col("trend") == "growing").sort(["growth", "topic"], descending=[True, False])
    if inp.intervals and fast.height:
        top = fast.row(0, named=True)
        title = (f"In {inp.growth_label}, {inp.name(top['topic'])} grew fastest of the topics that surely grew: "
                 f"{growth_phrase(top['growth'], top['growth_low'], top['growth_high'], top['trend'])}")
    elif inp.intervals:
        title = f"No topic grew beyond its 90% interval in {inp.growth_label}"
    else:
        title = f"Volume against growth ({inp.growth_label})"
    big = rows.sort(["est", "topic"], descending=[True, False]).head(3)
    description = (f"Bubble chart of {rows.height} topics in {inp.growth_label}: papers against growth. Largest: "
                   + listing([f"{inp.name(t)} ({fmt_int(e)} papers, {pct(g, signed=True)})"
                              for t, e, g in big.select("topic", "est", "growth").rows()]) + ".")
    return Chart("overview-volume-growth", title,
                 f"One bubble per topic: its papers in {inp.growth_label} (horizontal, log scale) against its growth over the "
                 "year before (vertical); bubble size is its share of all papers. "
                 + ("Bars are 90% intervals of the growth; grey bubbles changed within theirs. " if inp.intervals else
                    "Growth compares the months usable in both years. ")
                 + "Top right: big and still growing; top left: small but rising fast.",
                 fig, rows.select("topic", "year", "papers", "est", "low", "high", "share_est", "growth", "growth_low",
                                  "growth_high", "trend"),
                 subtitle=f"Papers in {year} against growth on {year - 1}, one bubble per topic.",
                 description=description, footer=footer(inp, bands=True), name="Volume against growth")


# -- overview: co-occurrence ---------------------------------------------------------------------------------

def cooccurrence_matrix(inp: ReportInputs) -> Chart | None:
    pairs = inp.table("cooccurrence")
    if pairs is None or pairs.is_empty():
        return None
    totals = dict(series.yearly_growth(inp.topic_monthly).group_by("topic").agg(pl.col("papers").sum()).rows())
    both = (pairs.filter(pl.col("topic_a") != pl.col("topic_b"))
            .with_columns(a=pl.min_horizontal("topic_a", "topic_b"), b=pl.max_horizontal("topic_a", "topic_b"))
            .unique(["year", "a", "b"], keep="first", maintain_order=True)  # a pair may be stored in both orders
            .group_by("a", "b").agg(pl.col("papers").sum()))
    counts = {(a, b): n for a, b, n in both.rows()}
    z, custom, rows = [], [], []
    for ta in inp.topics:
        z_row, c_row = [], []
        for tb in inp.topics:
            n = counts.get((min(ta, tb), max(ta, tb)), 0) if ta != tb else None
            union = (totals.get(ta, 0) + totals.get(tb, 0) - (n or 0)) if n is not None else 0
            jac = round(n / union, 4) if n and union > 0 else (0.0 if n is not None else None)
            z_row.append(jac)
            c_row.append(n)
            if ta < tb:
                rows.append((ta, tb, n, jac))
        z.append(z_row)
        custom.append(c_row)
    names = [plotly_text(inp.name(t)) for t in inp.topics]
    fig = go.Figure(go.Heatmap(
        x=names, y=names, z=z, customdata=custom, colorscale="Blues", xgap=1, ygap=1,
        colorbar={"title": {"text": "Jaccard"}},
        hovertemplate="%{y} + %{x}<br>%{customdata} papers with both<br>Jaccard %{z:.3f}<extra></extra>"),
        layout=_layout(yaxis={"autorange": "reversed"}, xaxis={"tickangle": -40}, height=600,
                       meta=_narrow({"showscale": False}, {"xaxis.tickfont.size": 9, "yaxis.tickfont.size": 9})))
    data = pl.DataFrame(rows, schema={"topic_a": pl.String, "topic_b": pl.String, "papers": pl.Int64,
                                      "jaccard": pl.Float64}, orient="row")
    top = sorted((r for r in rows if r[3]), key=lambda r: (-r[3], r[0], r[1]))[:3]
    pairs_text = listing([f"{inp.name(a)} with {inp.name(b)} ({pct(j)} overlap)" for a, b, _, j in top])
    return Chart("overview-cooccurrence",
                 f"{inp.name(top[0][0])} and {inp.name(top[0][1])} share the most papers" if top
                 else "Which topics appear together",
                 "The colour is the Jaccard index (papers with both ÷ papers with either), the hover also gives the "
                 "count. Dark cells mark research that bridges two topics.", fig, data,
                 subtitle="How often two topics are given to the same paper, over all years.",
                 description=("Matrix of topic pairs. Most overlapping: " + pairs_text + ".") if top
                 else "Matrix of topic pairs: no paper has two topics.", footer=footer(inp),
                 name="Which topics appear together")


# -- topic pages -------------------------------------------------------------------------------------------------

def topic_monthly_chart(inp: ReportInputs, topic: str) -> Chart:
    name = inp.name(topic)
    rows = _months(inp.charted.filter(pl.col("topic") == topic))
    status = (pl.when(pl.col("partial").fill_null(False)).then(pl.lit("partial"))
              .when(pl.col("low_coverage").fill_null(False)).then(pl.lit("low_coverage")).otherwise(pl.lit("full")))
    rows = rows.with_columns(status=status)
    fig = go.Figure(layout=_layout(yaxis={"title": {"text": "papers per month"}, "rangemode": "tozero"},
                                   height=420, bargap=0.1, hovermode="x unified"))
    looks = {"full": ("classified papers", "#b0bec5", None),
             "low_coverage": ("classified (low coverage)", "#e69f00", "/"),
             "partial": ("classified so far (open month)", "#9e9e9e", "x")}
    for kind, (label, color, pattern) in looks.items():
        part = rows.filter(pl.col("status") == kind)
        if part.is_empty():
            continue
        fig.add_trace(go.Bar(x=part["month"].to_list(), y=part["papers"].to_list(), name=label,
                             marker={"color": color, "opacity": 0.7,
                                     **({"pattern": {"shape": pattern}} if pattern else {})},
                             hovertemplate="%{y} classified", **MONTHLY))
    # the estimate skips low-coverage months (a gap, not a collapse) and the open month (a nowcast, apart)
    closed = rows.filter(~pl.col("nowcast")).with_columns(
        [pl.when(~pl.col("low_coverage").fill_null(False)).then(pl.col(c)).alias(c) for c in ("est", "low", "high")])
    if inp.intervals:
        band_x, band_y = _band(closed["month"].to_list(), closed["low"].to_list(), closed["high"].to_list())
        fig.add_trace(go.Scatter(x=band_x, y=_rounded(band_y, 1), fill="toself", fillcolor=BAND, line={"width": 0},
                                 mode="lines", hoverinfo="skip", name="90% interval"))
        fig.add_trace(go.Scatter(
            x=closed["month"].to_list(), y=_rounded(closed["est"].to_list(), 1), name="corrected estimate",
            mode="lines", line={"color": ACCENT, "width": 2},
            customdata=[_hover_interval(lo, hi) for lo, hi in zip(closed["low"].to_list(), closed["high"].to_list())],
            hovertemplate="%{y:,.0f} estimated%{customdata}", **MONTHLY))
        now = rows.filter(pl.col("nowcast") & (pl.col("total_papers") > 0))
        if not now.is_empty():
            r = now.row(0, named=True)
            fig.add_trace(go.Scatter(
                x=[r["month"]], y=_rounded([r["est"]], 1), name="nowcast (open month)", mode="markers",
                marker={"symbol": "circle-open", "size": 9, "color": NOWCAST, "line": {"width": 2}},
                error_y={"type": "data", "symmetric": False, "array": _rounded([r["high"] - r["est"]], 1),
                         "arrayminus": _rounded([r["est"] - r["low"]], 1), "color": NOWCAST},
                hovertemplate=f"%{{y:,.0f}} expected when complete{_hover_interval(r['low'], r['high'])}", **MONTHLY))
    fig.add_trace(go.Scatter(x=rows["month"].to_list(), y=_rounded(rows["rolling_12m_usable"].to_list(), 1),
                             name="12-month mean (classified)", mode="lines",
                             line={"color": "#212121", "width": 1.5, "dash": "dot"},
                             hovertemplate="%{y:.1f} (12-month mean)", **MONTHLY))
    if "burst_level" in rows.columns:
        bursts = rows.filter(pl.col("burst_level").fill_null(0) > 0)
        if not bursts.is_empty():
            fig.add_trace(go.Scatter(x=bursts["month"].to_list(), y=bursts["papers"].to_list(), name="burst",
                                     mode="markers", marker={"symbol": "triangle-up", "size": 9, "color": "#D55E00"},
                                     customdata=_rounded(bursts["burst_level"].to_list(), 2),
                                     hovertemplate="burst level %{customdata}", **MONTHLY))
    cols = [c for c in ("topic", "month", "papers", "est", "low", "high", "nowcast", "total_papers", "share",
                        "share_est", "share_low", "share_high", "rolling_12m_usable", "rolling_12m", "yoy_growth",
                        "burst_level", "partial", "low_coverage") if c in rows.columns]
    means = _yearly_means(inp.charted.filter(pl.col("topic") == topic), "est").sort("year")
    if means.height:
        last = means.row(-1, named=True)
        title = f"{name}: about {fmt_int(last['mean'])} papers a month in {last['year']}"
        description = (f"Monthly papers of {name}, {fmt_month(inp.focus)} to {fmt_month(rows['month'].str.to_date().max())}: "
                       f"about {fmt_int(means['mean'][0])} a month in {means['year'][0]}, "
                       f"{fmt_int(last['mean'])} in {last['year']}.")
    else:
        title, description = f"{name}: papers per month", f"Monthly papers of {name}: too few usable months."
    now = rows.filter(pl.col("nowcast") & (pl.col("total_papers") > 0))   # an open month with no papers yet
    if inp.intervals and not now.is_empty():                                # has nothing to nowcast from
        r = now.row(0, named=True)
        title += (f"; {fmt_month(date.fromisoformat(r['month']))} is on course for "
                  f"{count_with_interval(r['est'], r['low'], r['high'])}")
        description += f" The open month is nowcast at {count_with_interval(r['est'], r['low'], r['high'])}."
    return Chart(f"topic-{slug(topic)}-monthly", title,
                 ("Bars: papers the classifier gave this topic. Line and band: the estimate of the true count, "
                  "corrected for the classifier's measured error rates, with its 90% interval. The hollow circle is "
                  "the nowcast of the open month (its expected final count), apart from the line because it is not "
                  "final. " if inp.intervals else
                  "Bars: papers the classifier gave this topic; grey crossed bars are the open month, still being "
                  "harvested. ")
                 + "Hatched orange bars are months with low coverage (the corpus is thin there). The dotted line is "
                 "the 12-month mean over the usable months; triangles mark bursts (unusually fast growth)."
                 + _since(inp), fig, rows.select(cols),
                 subtitle=f"Papers per month classified as {name}"
                 + (", and the estimate corrected for classifier error." if inp.intervals else "."),
                 description=description, footer=footer(inp, topic, bands=True), name="Papers per month")


def topic_yearly_chart(inp: ReportInputs, topic: str) -> Chart | None:
    name = inp.name(topic)
    rows = inp.years.filter(pl.col("topic") == topic).sort("year")
    if rows.is_empty():
        return None
    fig = go.Figure(layout=_layout(yaxis={"title": {"text": "papers per year"}, "rangemode": "tozero"},
                                   xaxis={"dtick": 1}, height=380, bargap=0.25))
    for label, part, marker in (
            ("complete year", rows.filter(~pl.col("nowcast") & ~pl.col("partial")), {"color": ACCENT}),
            ("nowcast (year so far + expected rest)" if inp.intervals else "open year so far",
             rows.filter(pl.col("nowcast") | pl.col("partial")),
             {"color": "white", "line": {"color": NOWCAST, "width": 2}, "pattern": {"shape": "/", "fgcolor": NOWCAST}})):
        if part.is_empty():
            continue
        lows, highs, est = part["low"].to_list(), part["high"].to_list(), part["est"].to_list()
        error = ({"type": "data", "symmetric": False, "color": "#333", "thickness": 1.2,
                  "array": _rounded([h - e for e, h in zip(est, highs)], 1),
                  "arrayminus": _rounded([e - lo for e, lo in zip(est, lows)], 1)} if inp.intervals else None)
        growth = [growth_cell(g, a, b) for g, a, b in part.select("growth", "growth_low", "growth_high").rows()]
        fig.add_trace(go.Bar(
            x=part["year"].to_list(), y=_rounded(est, 1), name=label, marker=marker, error_y=error,
            customdata=[[_hover_interval(a, b), g, t or ""] for a, b, g, t in
                        zip(lows, highs, growth, part["trend"].to_list())],
            hovertemplate="%{x}: %{y:,.0f} papers%{customdata[0]}<br>on the year before: %{customdata[1]} "
                          "%{customdata[2]}<extra></extra>"))
    if inp.intervals:
        fig.add_trace(go.Scatter(x=rows["year"].to_list(), y=rows["papers"].to_list(), mode="markers",
                                 name="classified papers", marker={"symbol": "diamond", "size": 7, "color": "#212121"},
                                 hovertemplate="%{x}: %{y:,} classified<extra></extra>"))
    year = inp.growth_year
    this = rows.filter(pl.col("year") == year) if year else rows.head(0)
    if this.height and this["growth"][0] is not None:
        r = this.row(0, named=True)
        title = f"{name} papers {growth_phrase(r['growth'], r['growth_low'], r['growth_high'], r['trend'])} in {inp.growth_label}"
    else:
        title = f"{name}: papers per year"
    described = [f"{y}: {count_with_interval(e, lo, hi)}" for y, e, lo, hi in
                 rows.tail(4).select("year", "est", "low", "high").rows()]
    return Chart(f"topic-{slug(topic)}-yearly", title,
                 ("Bars: the corrected estimate of the year's papers, with its 90% interval. The hatched bar is the "
                  "open year: the papers so far plus the nowcast of the open month. Diamonds: papers as classified. "
                  "Growth (in the hover) is called growing or shrinking only when its interval excludes zero; it is "
                  "not computed for years with low coverage or for the open year."
                  if inp.intervals else
                  "Bars: papers per year as classified; the hatched bar is the open year so far. Growth in the hover "
                  "compares the months usable in both years."),
                 fig, rows.select("topic", "year", "papers", "est", "low", "high", "growth", "growth_low",
                                  "growth_high", "trend", "partial", "nowcast", "low_coverage"),
                 subtitle=f"Papers per year in {name}" + (", corrected, with 90% intervals." if inp.intervals else "."),
                 description=f"Papers per year of {name}. " + "; ".join(described) + ".",
                 footer=footer(inp, topic, bands=True), name="Papers per year")


def _with_keywords(inp: ReportInputs, rows: pl.DataFrame) -> pl.DataFrame:
    """Add each (subtopic, year)'s BERTopic keywords: per period when known, else the subtopic's overall ones."""
    rows = rows.with_columns(keywords=pl.lit(None, dtype=pl.String))
    periods, subtopics = inp.table("subtopic_periods"), inp.table("subtopics")
    if periods is not None:
        per_year = periods.select(pl.col("subtopic").cast(pl.Int64), pl.col("year").cast(pl.Int32),
                                  pl.col("keywords").list.join(", ").alias("period_keywords"))
        rows = (rows.join(per_year, on=["subtopic", "year"], how="left")
                .with_columns(pl.coalesce("keywords", "period_keywords").alias("keywords")).drop("period_keywords"))
    if subtopics is not None and "keywords" in subtopics.columns:
        overall = subtopics.select(pl.col("subtopic").cast(pl.Int64),
                                   pl.col("keywords").list.join(", ").alias("overall_keywords"))
        rows = (rows.join(overall, on="subtopic", how="left")
                .with_columns(pl.coalesce("keywords", "overall_keywords").alias("keywords")).drop("overall_keywords"))
    return rows.with_columns(pl.col("keywords").fill_null("")).sort("subtopic", "year")


def subtopic_years_chart(inp: ReportInputs, topic: str) -> Chart | None:
    monthly = inp.table("subtopic_monthly")
    if monthly is None:
        return None
    rows = (monthly.filter((pl.col("parent_topic") == topic) & (pl.col("subtopic") >= 0))
            .with_columns(pl.col("month").cast(pl.Date).dt.year().cast(pl.Int32).alias("year"))
            .filter(pl.col("year") >= inp.focus.year)
            .group_by("subtopic", "label", "year").agg(pl.col("papers").sum()).sort("subtopic", "year"))
    if rows.is_empty():
        return None
    top = (rows.group_by("subtopic").agg(pl.col("papers").sum())
           .sort(["papers", "subtopic"], descending=[True, False]).head(TOP_SUBTOPICS)["subtopic"].to_list())
    rows = rows.filter(pl.col("subtopic").is_in(top))
    rows = _with_keywords(inp, rows.with_columns(pl.col("subtopic").cast(pl.Int64)))
    fig = go.Figure(layout=_layout(yaxis={"title": {"text": "papers per year"}, "rangemode": "tozero"},
                                   xaxis={"dtick": 1}, height=420, shapes=partial_year_shapes(inp)))
    for i, subtopic in enumerate(top):
        part = rows.filter(pl.col("subtopic") == subtopic)
        label = plotly_text(part["label"][0])
        fig.add_trace(go.Scatter(
            x=part["year"].to_list(), y=part["papers"].to_list(), name=plotly_text(_short(part["label"][0])),
            mode="lines+markers",
            line={"color": PALETTE[i % len(PALETTE)]}, marker={"symbol": MARKERS[i % len(MARKERS)], "size": 7},
            customdata=[plotly_text(k) for k in part["keywords"].to_list()],
            hovertemplate=f"<b>{label}</b><br>%{{x}}: %{{y}} papers<br>keywords: %{{customdata}}<extra></extra>"))
    last = rows.filter(pl.col("year") == rows["year"].max()).sort(["papers", "subtopic"], descending=[True, False])
    lead = last.row(0, named=True)
    name = inp.name(topic)
    return Chart(f"topic-{slug(topic)}-subtopics",
                 f"“{lead['label']}” is the largest subtopic of {name} in {lead['year']}, with {lead['papers']:,} papers",
                 f"The {len(top)} largest BERTopic subtopics of this topic; colours and marker shapes tell them "
                 "apart (the legend below names them). "
                 + ("Hover a point for the keywords BERTopic found for that subtopic in that year: they show how "
                    "its focus moved." if inp.table("subtopic_periods") is not None else
                    "Hover a point for the subtopic's keywords (per-year keywords are not available yet: the "
                    "subtopic_periods table has not been built).")
                 + " The last year may be partial.", fig,
                 rows.select("subtopic", "label", "year", "papers", "keywords"),
                 subtitle=f"Papers per year in the largest subtopics of {name}, as classified.",
                 description=f"Subtopics of {name} per year. In {lead['year']}: " + listing(
                     [f"{label} {papers:,}" for label, papers in last.head(3).select("label", "papers").rows()]) + ".",
                 footer=footer(inp, topic), name="Subtopics over time")


def category_bars(inp: ReportInputs, topic: str) -> Chart | None:
    cats = inp.table("categories")
    if cats is None:
        return None
    rows = cats.filter((pl.col("topic") == topic) & (pl.col("year") >= inp.focus.year))
    if rows.is_empty():
        return None
    top = (rows.group_by("category").agg(pl.col("papers").sum())
           .sort(["papers", "category"], descending=[True, False]).head(TOP_CATEGORIES)["category"].to_list())
    grouped = (rows.with_columns(pl.when(pl.col("category").is_in(top)).then(pl.col("category"))
                                 .otherwise(pl.lit("other")).alias("category"), pl.col("year").cast(pl.Int32))
               .group_by("year", "category").agg(pl.col("papers").sum()).sort("year", "category"))
    fig = go.Figure(layout=_layout(barmode="stack", yaxis={"title": {"text": "papers"}},
                                   xaxis={"dtick": 1}, height=400, legend={"traceorder": "normal"},
                                   shapes=partial_year_shapes(inp)))
    categories = [*top, "other"]
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(top)} | {"other": "#cfd8dc"}
    for category in categories:
        part = grouped.filter(pl.col("category") == category)
        if part.is_empty():
            continue
        name = plotly_text(category)
        fig.add_trace(go.Bar(x=part["year"].to_list(), y=part["papers"].to_list(), name=name,
                             marker={"color": colors[category],
                                     "pattern": {"shape": PATTERNS[categories.index(category) % len(PATTERNS)]}},
                             hovertemplate=f"{name}, %{{x}}: %{{y}} papers<extra></extra>"))
    totals = grouped.group_by("category").agg(pl.col("papers").sum())
    share = dict(totals.with_columns(pl.col("papers") / pl.col("papers").sum()).rows())
    lead = top[0]
    return Chart(f"topic-{slug(topic)}-categories",
                 f"Most {inp.name(topic)} papers come from {lead} ({pct(share.get(lead))} since {inp.focus.year})",
                 f"The {len(top)} most frequent primary categories, the rest as “other”; “unknown” where the "
                 "source does not say which category is primary. Colours and hatching tell the categories apart.",
                 fig, grouped.select(pl.lit(topic).alias("topic"), "year", "category", "papers"),
                 subtitle=f"Papers of {inp.name(topic)} per year by primary arXiv category.",
                 description=f"Stacked bars of {inp.name(topic)} papers per year by arXiv category. Largest: "
                 + listing([f"{c} {pct(share.get(c))}" for c in top[:3]]) + ".", footer=footer(inp, topic),
                 name="Feeding arXiv categories")


# -- coverage page -----------------------------------------------------------------------------------------------

def coverage_by_source(inp: ReportInputs) -> Chart | None:
    coverage = inp.table("coverage")
    if coverage is None or coverage.is_empty():
        return None
    frame = _months(coverage).sort("source", "month")
    fig = go.Figure(layout=_layout(barmode="stack", bargap=0.05, yaxis={"title": {"text": "papers per month"}},
                                   hovermode="x unified", height=480, shapes=_shapes_for(coverage)))
    for i, source in enumerate(sorted(frame["source"].unique().to_list())):
        part = frame.filter(pl.col("source") == source)
        fig.add_trace(go.Bar(x=part["month"].to_list(), y=part["papers"].to_list(), name=plotly_text(source),
                             marker={"color": PALETTE[i % len(PALETTE)]}, hovertemplate="%{y}", **MONTHLY))
    if "reference_papers" in frame.columns:
        level = frame.group_by("month").agg(pl.col("reference_papers").first()).sort("month")
        fig.add_trace(go.Scatter(x=level["month"].to_list(), y=_rounded(level["reference_papers"].to_list(), 1),
                                 name="reference level", mode="lines", line={"color": "#212121", "dash": "dot"},
                                 hovertemplate="%{y:.0f}", **MONTHLY))
    cols = [c for c in ("month", "source", "papers", "total_papers", "reference_papers", "partial", "low_coverage")
            if c in frame.columns]
    flags = month_flags(coverage)
    low = flags.filter(pl.col("low_coverage")).height
    scale = Control("y axis", (("linear", {"yaxis.type": "linear"}), ("log", {"yaxis.type": "log"})))
    return Chart("coverage-by-source",
                 f"{low} of {flags.height} months hold under half the papers a complete month should",
                 "Switch the axis to log to see the thin stretches. The dotted line is the reference level a "
                 "complete month is expected to reach (from the months around it); a month under half of it is "
                 "flagged low coverage, so topic counts there are incomplete. Partial months are not fully "
                 "harvested yet.", fig, frame.select(cols),
                 subtitle="Papers per month in the warehouse, by the source they came from.",
                 description=(f"Stacked bars of papers per month by source, {fmt_month(date.fromisoformat(flags['month'][0]))} "
                              f"to {fmt_month(date.fromisoformat(flags['month'][-1]))}; {low} months are low coverage."),
                 footer=footer(inp), controls=(scale,), name="Papers per month by source")


def classifier_scores(inp: ReportInputs) -> Chart | None:
    per_topic = ((inp.model or {}).get("evaluation") or {}).get("per_topic") or {}
    rows = [(t, *(float(s.get(k)) if s.get(k) is not None else None for k in ("precision", "recall", "f1")),
             s.get("support"))
            for t, s in sorted(per_topic.items()) if isinstance(s, dict)]
    if not rows:
        return None
    order = [t for t in inp.topics if t in per_topic] + sorted(t for t, *_ in rows if t not in inp.topics)
    by_topic = {r[0]: r for r in rows}
    rows = [by_topic[t] for t in order if t in by_topic]
    names = [plotly_text(inp.name(r[0])) for r in rows]
    fig = go.Figure(layout=_layout(barmode="group", yaxis={"title": {"text": "score"}, "range": [0, 1]},
                                   xaxis={"tickangle": -40}, height=460))
    for i, metric in enumerate(("precision", "recall", "f1")):
        fig.add_trace(go.Bar(x=names, y=_rounded([r[1 + i] for r in rows], 3), name=metric,
                             marker={"color": ["#56B4E9", "#E69F00", "#0072B2"][i],
                                     "pattern": {"shape": ["", "/", ""][i]}},
                             customdata=[r[4] for r in rows],
                             hovertemplate=f"%{{x}}: {metric} %{{y:.2f}} (%{{customdata}} gold papers)<extra></extra>"))
    data = pl.DataFrame(rows, schema={"topic": pl.String, "precision": pl.Float64, "recall": pl.Float64,
                                      "f1": pl.Float64, "support": pl.Int64}, orient="row")
    scored = [r for r in rows if r[3] is not None]
    best, worst = (max(scored, key=lambda r: (r[3], r[0])), min(scored, key=lambda r: (r[3], r[0]))) if scored \
        else (None, None)
    return Chart("coverage-classifier-scores",
                 f"F1 ranges from {worst[3]:.2f} ({inp.name(worst[0])}) to {best[3]:.2f} ({inp.name(best[0])})"
                 if best else "Classifier quality per topic",
                 "A topic with low recall is undercounted by the classifier, one with low precision overcounted; "
                 + ("the corrected estimates in the charts remove that bias using these rates. " if inp.intervals
                    else "the charts show classified counts, so they carry that bias. ")
                 + "Few gold papers (see hover) make the score itself uncertain.", fig, data,
                 subtitle="Precision, recall and F1 of the current classifier per topic, on the hand-labelled dev set.",
                 description="Grouped bars of precision, recall and F1 per topic. "
                 + (f"Best F1: {inp.name(best[0])} {best[3]:.2f}; worst: {inp.name(worst[0])} {worst[3]:.2f}."
                    if best else ""), footer=footer(inp), name="Classifier quality per topic")


def slug(topic: str) -> str:
    """A file-name-safe form of a topic id (ids are already safe; unknown ones may not be)."""
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in topic.lower())
    return cleaned.strip("-") or "topic"
