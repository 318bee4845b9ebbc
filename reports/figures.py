"""The Plotly figures of the site, one function per chart, each returning a ``Chart`` (or ``None`` without data).

Figures use plain lists (rounded) and a slim template, so pages stay small and their JSON is reproducible.
Every data string that reaches Plotly goes through ``plotly_text``: Plotly labels interpret some HTML.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl

from reports import series
from reports.charts import Chart, plotly_text
from reports.inputs import ReportInputs

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173", "#3182bd"]
FLAG_COLORS = {"low_coverage": "rgba(230, 159, 0, 0.16)", "partial": "rgba(120, 120, 120, 0.22)"}
FLAG_NAMES = {"low_coverage": "low-coverage month", "partial": "partial month"}
TOP_SUBTOPICS = 8
TOP_CATEGORIES = 8
GROWTH_CLIP = 100  # the heat map saturates at ±100 % so one tiny topic does not wash out the rest
MONTHLY = {"xperiod": "M1", "xperiodalignment": "middle"}

TEMPLATE = go.layout.Template(layout={
    "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
             "size": 12, "color": "#222"},
    "paper_bgcolor": "white", "plot_bgcolor": "white",
    "xaxis": {"gridcolor": "#eceff1", "linecolor": "#9e9e9e", "zeroline": False, "automargin": True},
    "yaxis": {"gridcolor": "#eceff1", "linecolor": "#9e9e9e", "zeroline": False, "automargin": True},
    "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
    "hoverlabel": {"font": {"size": 12}},
    "legend": {"font": {"size": 11}},
})


def topic_color(inp: ReportInputs, topic: str) -> str:
    return PALETTE[inp.topics.index(topic) % len(PALETTE)] if topic in inp.topics else "#7f7f7f"


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


# -- overview ---------------------------------------------------------------------------------------------------

def topic_share_area(inp: ReportInputs) -> Chart:
    frame = _months(inp.charted)
    fig = go.Figure(layout=_layout(
        yaxis={"title": {"text": "share of all papers (stacked)"}, "tickformat": ".0%"},
        hovermode="x unified", shapes=_shapes_for(inp.charted), height=520, legend={"traceorder": "normal"}))
    for topic in inp.topics:
        rows = frame.filter(pl.col("topic") == topic)
        fig.add_trace(go.Scatter(
            x=rows["month"].to_list(), y=_rounded(rows["share"].to_list(), 5), name=plotly_text(inp.name(topic)),
            stackgroup="share", mode="lines", line={"width": 0.5, "color": topic_color(inp, topic)},
            hovertemplate="%{y:.2%}", **MONTHLY))
    data = frame.select("topic", "month", "papers", "total_papers", "share", "partial", "low_coverage")
    return Chart("overview-topic-share", "Topic share over time",
                 "Each band is one topic's share of all papers submitted that month; bands are stacked, and since a "
                 "paper can take several topics (or none) the stack does not have to reach 100 %. Shaded months "
                 "are partial (still being harvested) or have low coverage: their shares rest on fewer papers."
                 + _since(inp), fig, data)


def monthly_papers_lines(inp: ReportInputs) -> Chart:
    frame = _months(inp.charted)
    fig = go.Figure(layout=_layout(yaxis={"title": {"text": "papers per month"}}, height=520,
                                   shapes=_shapes_for(inp.charted)))
    for topic in inp.topics:
        rows = frame.filter(pl.col("topic") == topic)
        name, color = plotly_text(inp.name(topic)), topic_color(inp, topic)
        fig.add_trace(go.Scatter(
            x=rows["month"].to_list(), y=rows["papers"].to_list(), name=name, legendgroup=topic, showlegend=False,
            mode="lines", line={"width": 1, "color": color}, opacity=0.3,
            hovertemplate=f"{name}<br>%{{x|%b %Y}}: %{{y}} papers<extra></extra>", **MONTHLY))
        fig.add_trace(go.Scatter(
            x=rows["month"].to_list(), y=_rounded(rows["rolling_12m_usable"].to_list(), 1), name=name,
            legendgroup=topic, mode="lines", line={"width": 2.2, "color": color},
            hovertemplate=f"{name}<br>%{{x|%b %Y}}: %{{y:.1f}} (12-month mean)<extra></extra>", **MONTHLY))
    data = frame.select("topic", "month", "papers", "rolling_12m_usable", "usable_in_window", "rolling_12m",
                        "partial", "low_coverage")
    return Chart("overview-monthly-papers", "Monthly papers per topic",
                 "Thin lines: papers per month; thick lines: the 12-month rolling mean, which removes the seasonal "
                 "swing (conference deadlines, holidays). The mean counts only the usable months of the trailing "
                 f"year (not low coverage, not partial) and needs {series.ROLLING_MIN_USABLE} of them, so a gap in "
                 "the corpus does not drag it down. Click a topic in the legend to hide it, double-click to show it "
                 "alone." + _since(inp), fig, data)


def growth_heatmap(inp: ReportInputs) -> Chart:
    years = inp.years
    # Years where no topic has a comparable month are left out: a column of empty cells says nothing.
    year_list = sorted(years.filter(pl.col("growth").is_not_null())["year"].unique().to_list()) or sorted(
        years["year"].unique().to_list())
    partial_years = set(years.filter(pl.col("partial"))["year"].to_list())
    labels = [f"{y}*" if y in partial_years else str(y) for y in year_list]
    z, text, custom = [], [], []
    for topic in inp.topics:
        rows = {y: (g, n, m) for y, g, n, m in years.filter(pl.col("topic") == topic)
                .select("year", "growth", "papers", "matched_months").rows()}
        cells = [rows.get(y, (None, 0, 0)) for y in year_list]
        z.append([None if g is None else max(-GROWTH_CLIP, min(GROWTH_CLIP, round(100 * g, 1))) for g, _, _ in cells])
        text.append(["" if g is None else f"{100 * g:+.0f}%" for g, _, _ in cells])
        custom.append([[n, m] for _, n, m in cells])
    fig = go.Figure(go.Heatmap(
        x=labels, y=[plotly_text(inp.name(t)) for t in inp.topics], z=z, text=text, customdata=custom,
        texttemplate="%{text}", textfont={"size": 10}, colorscale="RdBu", zmin=-GROWTH_CLIP, zmax=GROWTH_CLIP,
        xgap=1, ygap=1, colorbar={"title": {"text": "growth"}, "ticksuffix": "%"},
        hovertemplate="%{y}, %{x}: %{text} on the year before<br>%{customdata[0]} papers; "
                      "compared on %{customdata[1]} months<extra></extra>"),
        layout=_layout(yaxis={"autorange": "reversed"}, height=560, xaxis={"type": "category"}))
    return Chart("overview-growth-heatmap", "Growth by topic and year",
                 "Year-on-year growth of each topic's papers (red: shrinking, blue: growing; colours saturate at "
                 f"±{GROWTH_CLIP} %, the cell text gives the value). Growth is compared like for like, on the months "
                 "usable in both years (neither low coverage nor partial); the hover says how many, and a cell "
                 f"stays empty below {series.MIN_MATCHED_MONTHS} (years with no comparable months at all are left "
                 "out). A year marked * is still partial.",
                 fig, years.select("topic", "year", "papers", "growth", "matched_months", "partial", "low_coverage"))


def volume_growth_bubbles(inp: ReportInputs) -> Chart | None:
    year = series.latest_year_with_growth(inp.years)
    if year is None:
        return None
    rows = inp.years.filter((pl.col("year") == year) & (pl.col("papers") > 0)).sort("topic")
    fig = go.Figure(layout=_layout(
        xaxis={"title": {"text": f"papers in {year} (log scale)"}, "type": "log"},
        yaxis={"title": {"text": f"growth {year - 1}→{year}"}, "ticksuffix": "%", "zeroline": True,
               "zerolinecolor": "#bdbdbd"}, height=520, showlegend=False))
    peak = max(rows["share"].max() or 0.0, 1e-9)
    for topic, papers, share, growth in rows.select("topic", "papers", "share", "growth").rows():
        name = plotly_text(inp.name(topic))
        fig.add_trace(go.Scatter(
            x=[papers], y=[None if growth is None else round(100 * growth, 1)], name=name, text=[name],
            mode="markers+text", textposition="top center", textfont={"size": 10},
            marker={"size": [round(12 + 48 * (share or 0) / peak, 1)], "color": topic_color(inp, topic),
                    "opacity": 0.75, "line": {"width": 1, "color": "white"}},
            customdata=[round(100 * (share or 0), 2)],
            hovertemplate=f"{name}<br>%{{x}} papers, %{{y:+.1f}}% growth<br>%{{customdata}}% of all papers"
                          "<extra></extra>"))
    return Chart("overview-volume-growth", f"Volume against growth ({year})",
                 f"One bubble per topic: how many papers it had in {year} (the latest year with growth figures; "
                 "horizontal, log scale) against its like-for-like growth over the year before "
                 "(vertical); bubble size is its share of all papers. Top right: big and still growing; top "
                 "left: small but rising fast. If the year is still partial, its counts are lower than they will "
                 "be, but the growth compares only months usable in both years.",
                 fig, rows.select("topic", "year", "papers", "share", "growth", "matched_months"))


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
        layout=_layout(yaxis={"autorange": "reversed"}, xaxis={"tickangle": -40}, height=600))
    data = pl.DataFrame(rows, schema={"topic_a": pl.String, "topic_b": pl.String, "papers": pl.Int64,
                                      "jaccard": pl.Float64}, orient="row")
    return Chart("overview-cooccurrence", "Which topics appear together",
                 "How often two topics are assigned to the same paper, over all years: the colour is the Jaccard "
                 "index (papers with both ÷ papers with either), the hover also gives the count. Dark cells mark "
                 "research that bridges two topics.", fig, data)


# -- topic pages -------------------------------------------------------------------------------------------------

def topic_monthly_chart(inp: ReportInputs, topic: str) -> Chart:
    rows = _months(inp.charted.filter(pl.col("topic") == topic))
    status = (pl.when(pl.col("partial").fill_null(False)).then(pl.lit("partial"))
              .when(pl.col("low_coverage").fill_null(False)).then(pl.lit("low_coverage")).otherwise(pl.lit("full")))
    rows = rows.with_columns(status=status)
    fig = go.Figure(layout=_layout(yaxis={"title": {"text": "papers per month"}}, height=420, bargap=0.1,
                                   hovermode="x unified", legend={"orientation": "h", "y": -0.18}))
    looks = {"full": ("papers", topic_color(inp, topic), None),
             "low_coverage": ("papers (low coverage)", "#e69f00", "/"),
             "partial": ("papers (partial month)", "#9e9e9e", "x")}
    for kind, (label, color, pattern) in looks.items():
        part = rows.filter(pl.col("status") == kind)
        if part.is_empty():
            continue
        fig.add_trace(go.Bar(x=part["month"].to_list(), y=part["papers"].to_list(), name=label,
                             marker={"color": color, "opacity": 0.55,
                                     **({"pattern": {"shape": pattern}} if pattern else {})},
                             hovertemplate="%{y}", **MONTHLY))
    fig.add_trace(go.Scatter(x=rows["month"].to_list(), y=_rounded(rows["rolling_12m_usable"].to_list(), 1),
                             name="12-month rolling mean", mode="lines", line={"color": "#212121", "width": 2},
                             hovertemplate="%{y:.1f}", **MONTHLY))
    if "burst_level" in rows.columns:
        bursts = rows.filter(pl.col("burst_level").fill_null(0) > 0)
        if not bursts.is_empty():
            fig.add_trace(go.Scatter(x=bursts["month"].to_list(), y=bursts["papers"].to_list(), name="burst",
                                     mode="markers", marker={"symbol": "triangle-up", "size": 9, "color": "#d62728"},
                                     customdata=_rounded(bursts["burst_level"].to_list(), 2),
                                     hovertemplate="burst level %{customdata}", **MONTHLY))
    cols = [c for c in ("topic", "month", "papers", "total_papers", "share", "rolling_12m_usable", "rolling_12m",
                        "yoy_growth", "burst_level", "partial", "low_coverage") if c in rows.columns]
    return Chart(f"topic-{slug(topic)}-monthly", "Papers per month",
                 "Bars: papers per month. Hatched orange bars are months with low coverage (the corpus is thin "
                 "there, so the count understates the field); grey crossed bars are partial months still being "
                 "harvested. The line is the 12-month rolling mean over the usable months; red triangles mark "
                 "bursts (months with unusually fast growth)." + _since(inp), fig, rows.select(cols))


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
                                   xaxis={"dtick": 1}, height=420, legend={"orientation": "h", "y": -0.2},
                                   shapes=partial_year_shapes(inp)))
    for i, subtopic in enumerate(top):
        part = rows.filter(pl.col("subtopic") == subtopic)
        label = plotly_text(part["label"][0])
        fig.add_trace(go.Scatter(
            x=part["year"].to_list(), y=part["papers"].to_list(), name=label, mode="lines+markers",
            line={"color": PALETTE[i % len(PALETTE)]},
            customdata=[plotly_text(k) for k in part["keywords"].to_list()],
            hovertemplate=f"<b>{label}</b><br>%{{x}}: %{{y}} papers<br>keywords: %{{customdata}}<extra></extra>"))
    return Chart(f"topic-{slug(topic)}-subtopics", "Subtopics over time",
                 f"Papers per year in the {len(top)} largest BERTopic subtopics of this topic. "
                 + ("Hover a point for the keywords BERTopic found for that subtopic in that year: they show how "
                    "its focus moved." if inp.table("subtopic_periods") is not None else
                    "Hover a point for the subtopic's keywords (per-year keywords are not available yet: the "
                    "subtopic_periods table has not been built).")
                 + " The last year may be partial.", fig,
                 rows.select("subtopic", "label", "year", "papers", "keywords"))


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
    for i, category in enumerate([*top, "other"]):
        part = grouped.filter(pl.col("category") == category)
        if part.is_empty():
            continue
        name = plotly_text(category)
        fig.add_trace(go.Bar(x=part["year"].to_list(), y=part["papers"].to_list(), name=name,
                             marker={"color": PALETTE[i % len(PALETTE)] if category != "other" else "#cfd8dc"},
                             hovertemplate=f"{name}, %{{x}}: %{{y}} papers<extra></extra>"))
    return Chart(f"topic-{slug(topic)}-categories", "Feeding arXiv categories",
                 f"The primary arXiv category of this topic's papers, per year (the {len(top)} most frequent, the "
                 "rest as “other”; “unknown” where the source does not say which category is primary).",
                 fig, grouped.select(pl.lit(topic).alias("topic"), "year", "category", "papers"))


# -- coverage page -----------------------------------------------------------------------------------------------

def coverage_by_source(inp: ReportInputs) -> Chart | None:
    coverage = inp.table("coverage")
    if coverage is None or coverage.is_empty():
        return None
    frame = _months(coverage).sort("source", "month")
    fig = go.Figure(layout=_layout(barmode="stack", bargap=0.05, yaxis={"title": {"text": "papers per month"}},
                                   hovermode="x unified", height=480, shapes=_shapes_for(coverage),
                                   updatemenus=[_scale_buttons()]))
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
    return Chart("coverage-by-source", "Papers per month by source",
                 "How many papers of each month the warehouse holds, by the source they came from (switch the axis "
                 "to log to see the thin stretches). The dotted line "
                 "is the reference level a complete month is expected to reach (from the months around it); a "
                 "month under half of it is flagged low coverage, so topic counts there are incomplete. Partial "
                 "months are not fully harvested yet.", fig, frame.select(cols))


def _scale_buttons() -> dict[str, Any]:
    """Linear / log switch for the y axis (thin months vanish on a linear axis next to full ones)."""
    return {"type": "buttons", "direction": "right", "x": 0, "y": 1.12, "xanchor": "left", "showactive": True,
            "buttons": [{"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
                        {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]}]}


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
                                   xaxis={"tickangle": -40}, height=420, legend={"orientation": "h", "y": 1.08}))
    for i, metric in enumerate(("precision", "recall", "f1")):
        fig.add_trace(go.Bar(x=names, y=_rounded([r[1 + i] for r in rows], 3), name=metric,
                             marker={"color": ["#90caf9", "#a5d6a7", "#1565c0"][i]},
                             customdata=[r[4] for r in rows],
                             hovertemplate=f"%{{x}}: {metric} %{{y:.2f}} (%{{customdata}} gold papers)<extra></extra>"))
    data = pl.DataFrame(rows, schema={"topic": pl.String, "precision": pl.Float64, "recall": pl.Float64,
                                      "f1": pl.Float64, "support": pl.Int64}, orient="row")
    return Chart("coverage-classifier-scores", "Classifier quality per topic",
                 "Precision, recall and F1 of the current classifier on the hand-labelled dev set, per topic. A "
                 "topic with low recall is undercounted in every chart; one with low precision is overcounted. "
                 "Few gold papers (see hover) make the score itself uncertain.", fig, data)


def slug(topic: str) -> str:
    """A file-name-safe form of a topic id (ids are already safe; unknown ones may not be)."""
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in topic.lower())
    return cleaned.strip("-") or "topic"
