"""What each page holds: headline numbers, its charts and tables, and notes for data that is not there yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

import polars as pl

from reports import figures, series
from reports.charts import Chart, Link, Table
from reports.inputs import ReportInputs

FAST_GROWTH_MIN_PAPERS = 20   # growth on fewer papers than this is noise, not a trend
BURST_WINDOW_MONTHS = 24
HEADLINE_TOP = 3
AUTHORS_SHOWN = 6
ABSTRACT_CHARS = 600


@dataclass(frozen=True)
class Missing:
    """A section whose data the warehouse does not hold yet, and how to get it."""

    title: str
    note: str
    kind: str = "missing"


@dataclass(frozen=True)
class PaperList:
    """The representative papers of a topic (rendered as a list, downloadable like a table)."""

    key: str
    title: str
    caption: str
    papers: list[dict[str, str]]
    data: pl.DataFrame
    kind: str = "papers"

    @property
    def csv_name(self) -> str:
        return f"data/{self.key}.csv"


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    detail: list[str | Link] = field(default_factory=list)


Section = Chart | Table | PaperList | Missing


@dataclass
class Page:
    filename: str
    title: str
    heading: str
    intro: str
    headlines: list[Headline]
    sections: list[Section]

    @property
    def charts(self) -> list[Chart]:
        return [s for s in self.sections if isinstance(s, Chart)]

    @property
    def downloads(self) -> list[Chart | Table | PaperList]:
        return [s for s in self.sections if not isinstance(s, Missing)]


def topic_filename(topic: str) -> str:
    return f"topic-{figures.slug(topic)}.html"


def fmt_int(n: Any) -> str:
    return "–" if n is None else f"{int(n):,}"


def fmt_growth(g: float | None) -> str:
    return "–" if g is None else f"{100 * g:+.0f}%"


def fmt_month(day: date | datetime | None) -> str:
    return "–" if day is None else day.strftime("%b %Y")


def _missing(title: str, table: str, how: str) -> Missing:
    return Missing(title, f"Not available yet: the table {table} has not been built. {how}")


_AGGREGATE = "Run `arxiv-trends aggregate` to build it."
_CLASSIFY = "Run `arxiv-trends classify` and then `arxiv-trends aggregate`."


# -- overview ---------------------------------------------------------------------------------------------------

def _fastest_growing(inp: ReportInputs) -> Headline:
    year = series.latest_year_with_growth(inp.years)
    rows = (inp.years.filter((pl.col("year") == year) & (pl.col("papers") >= FAST_GROWTH_MIN_PAPERS)
                             & pl.col("growth").is_not_null())
            .sort(["growth", "topic"], descending=[True, False]).head(HEADLINE_TOP))
    detail: list[str | Link] = [Link(f"{inp.name(t)} {fmt_growth(g)}", topic_filename(t))
                                for t, g in rows.select("topic", "growth").rows()]
    return Headline(f"Fastest-growing topics in {year}", inp.name(rows["topic"][0]) if len(rows) else "–",
                    detail or [f"no topic had {FAST_GROWTH_MIN_PAPERS}+ papers in {year}"])


def _bursts(inp: ReportInputs) -> Headline:
    monthly = inp.topic_monthly
    if "burst_level" not in monthly.columns:
        return Headline("Biggest bursts", "–", ["no burst levels in the metrics yet"])
    last = monthly["month"].max()
    since = monthly.filter(pl.col("month") <= last)["month"].unique().sort().tail(BURST_WINDOW_MONTHS).min()
    rows = (monthly.filter((pl.col("month") >= since) & (pl.col("burst_level").fill_null(0) > 0))
            .sort(["burst_level", "month", "topic"], descending=[True, True, False])
            .unique("topic", keep="first", maintain_order=True).head(HEADLINE_TOP))
    detail: list[str | Link] = [Link(f"{inp.name(t)}, {fmt_month(m)} (level {lvl:g})", topic_filename(t))
                                for t, m, lvl in rows.select("topic", "month", "burst_level").rows()]
    return Headline(f"Biggest bursts, last {BURST_WINDOW_MONTHS} months",
                    inp.name(rows["topic"][0]) if len(rows) else "none", detail or ["no topic is bursting"])


def _overview_headlines(inp: ReportInputs) -> list[Headline]:
    months = inp.topic_monthly["month"]
    flags = figures.month_flags(inp.topic_monthly)
    flagged = flags.filter(pl.col("partial") | pl.col("low_coverage")).height
    papers = inp.papers_tracked
    if papers is None and inp.table("coverage") is not None:
        papers = int(inp.table("coverage")["papers"].sum())
    classified = [] if inp.classified_papers is None else [f"{fmt_int(inp.classified_papers)} with a topic"]
    return [
        Headline("Papers tracked", fmt_int(papers), classified),
        Headline("Period", f"{fmt_month(months.min())} – {fmt_month(months.max())}",
                 [f"{flags.height} months, {flagged} flagged; charts from {fmt_month(inp.focus)}",
                  Link("see data coverage", "coverage.html")]),
        _fastest_growing(inp),
        _bursts(inp),
    ]


def _emerging_table(inp: ReportInputs) -> Table | Missing:
    title = "Emerging subtopics"
    frame = inp.table("emerging")
    if frame is None:
        return _missing(title, "metrics/emerging_subtopics", _CLASSIFY)
    frame = frame.sort("rank")
    rows: list[list[str | Link]] = []
    for rank, label, parent, recent, growth, keywords in frame.select(
            "rank", "label", "parent_topic", "recent_papers", "growth", "keywords").rows():
        parent_cell = Link(inp.name(parent), topic_filename(parent)) if parent in inp.topics else str(parent)
        rows.append([str(rank), str(label), parent_cell, fmt_int(recent), fmt_growth(growth),
                     ", ".join(keywords or [])])
    windows = ""
    if {"recent_from", "recent_to", "previous_from", "previous_to"} <= set(frame.columns) and len(frame):
        first = frame.row(0, named=True)
        windows = (f" Here the recent window is {fmt_month(first['recent_from'])} – {fmt_month(first['recent_to'])}"
                   f" and the one before {fmt_month(first['previous_from'])} – {fmt_month(first['previous_to'])}.")
    return Table("overview-emerging-subtopics", title,
                 "BERTopic subtopics ranked by how fast their share of all papers grew: recent papers is the count "
                 "in the latest window of usable months, growth compares its share with the window before "
                 f"(flagged months are skipped).{windows} The keywords say what a subtopic is about.",
                 ["rank", "subtopic", "topic", "recent papers", "growth", "keywords"], rows,
                 frame.select("rank", "subtopic", "label", "parent_topic", "recent_papers", "growth", "keywords"),
                 numeric=frozenset({0, 3, 4}))


def overview_page(inp: ReportInputs) -> Page:
    cooc = figures.cooccurrence_matrix(inp)
    bubbles = figures.volume_growth_bubbles(inp)
    sections: list[Section] = [
        figures.topic_share_area(inp),
        figures.monthly_papers_lines(inp),
        figures.growth_heatmap(inp),
        bubbles or Missing("Volume against growth", "Not available yet: no complete year in the metrics."),
        cooc or _missing("Which topics appear together", "metrics/topic_cooccurrence", _AGGREGATE),
        _emerging_table(inp),
    ]
    return Page("index.html", "Overview", "Research trends on arXiv",
                "How the 16 topics of big-model research (after “A Roadmap for Big Model”) grow and shift, "
                "from the papers in this warehouse. Every chart has its data as CSV; the data-coverage page says "
                "how complete each month is.",
                _overview_headlines(inp), sections)


# -- topic pages -------------------------------------------------------------------------------------------------

def _topic_headlines(inp: ReportInputs, topic: str) -> list[Headline]:
    monthly = inp.topic_monthly.filter(pl.col("topic") == topic)
    year = series.latest_year_with_growth(inp.years)
    this_year = inp.years.filter((pl.col("topic") == topic) & (pl.col("year") == year))
    growth = this_year["growth"][0] if len(this_year) else None
    latest = monthly.sort("month").tail(1)
    headlines = [
        Headline("Papers", fmt_int(monthly["papers"].sum()),
                 [f"{fmt_month(monthly['month'].min())} – {fmt_month(monthly['month'].max())}"]),
        Headline(f"Papers in {year}", fmt_int(this_year["papers"][0] if len(this_year) else None),
                 [f"{fmt_growth(growth)} on {year - 1}" if year else ""]),
    ]
    for col, label in (("cagr_3y", "3-year growth rate"), ("cagr_5y", "5-year growth rate")):
        if col in latest.columns and len(latest) and latest[col][0] is not None:
            headlines.append(Headline(label, f"{fmt_growth(latest[col][0])} a year",
                                      [f"compound, to {fmt_month(latest['month'][0])}"]))
    return headlines


def _papers_section(inp: ReportInputs, topic: str) -> PaperList | Missing:
    title = "Representative recent papers"
    if inp.representative is None:
        return _missing(title, "classifications", _CLASSIFY)
    rows = inp.representative.filter(pl.col("topic") == topic)
    papers = []
    for pid, ptitle, authors, abstract, submitted, score in rows.select(
            "id", "title", "authors", "abstract", "submitted", "score").rows():
        names = list(authors or [])
        shown = ", ".join(names[:AUTHORS_SHOWN]) + (" et al." if len(names) > AUTHORS_SHOWN else "")
        text = abstract or ""
        meta = [shown, submitted.date().isoformat() if submitted else "", f"arXiv:{pid}",
                f"score {score:.2f}" if score is not None else ""]
        papers.append({
            "id": pid, "url": f"https://arxiv.org/abs/{quote(pid, safe='/.')}", "title": ptitle or pid,
            "meta": " · ".join(part for part in meta if part),
            "abstract": text if len(text) <= ABSTRACT_CHARS else text[:ABSTRACT_CHARS].rstrip() + "…",
        })
    data = rows.select("id", "title", pl.col("authors").list.join(", "), "submitted", "score")
    return PaperList(f"topic-{figures.slug(topic)}-papers", title,
                     "The papers of the last twelve months the classifier is most sure about (highest score), "
                     "newest first among equals. Titles link to arXiv.", papers, data)


def topic_page(inp: ReportInputs, topic: str) -> Page:
    name = inp.name(topic)
    sections: list[Section] = [
        figures.topic_monthly_chart(inp, topic),
        figures.subtopic_years_chart(inp, topic)
        or (_missing("Subtopics over time", "metrics/subtopic_monthly", _CLASSIFY)
            if inp.table("subtopic_monthly") is None
            else Missing("Subtopics over time", "No BERTopic subtopic of this topic yet.")),
        figures.category_bars(inp, topic)
        or (_missing("Feeding arXiv categories", "metrics/topic_categories", _AGGREGATE)
            if inp.table("categories") is None else Missing("Feeding arXiv categories", "No categories recorded.")),
        _papers_section(inp, topic),
    ]
    return Page(topic_filename(topic), name, name,
                f"Papers classified as {name}: how many per month, which subtopics make it up, which arXiv "
                "categories feed it, and what its recent papers are.",
                _topic_headlines(inp, topic), sections)


# -- data coverage -----------------------------------------------------------------------------------------------

def _run_cell(run: dict[str, Any] | None) -> str:
    """When a run finished, as ``YYYY-MM-DD HH:MM UTC`` (the raw value if it is not an ISO time)."""
    if not run:
        return "never"
    value = str(run.get("finished_at", "?"))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _ci_text(ci) -> str:
    """`` (95% CI 0.70–0.79)`` from a stored bootstrap interval; models evaluated before intervals show none."""
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(v, (int, float)) for v in ci):
        return f" (95% CI {ci[0]:.3f}–{ci[1]:.3f})"
    return ""


def _coverage_headlines(inp: ReportInputs) -> list[Headline]:
    harvest = inp.runs.get("harvest")
    model = inp.model or {}
    evaluation = model.get("evaluation") or {}
    scores = [f"{k.replace('_', ' ')} {evaluation[k]:.3f}{_ci_text(evaluation.get(k + '_ci'))}"
              for k in ("macro_f1", "micro_f1") if isinstance(evaluation.get(k), (int, float))]
    return [
        Headline("Last harvest", _run_cell(harvest),
                 [f"last backfill {_run_cell(inp.runs.get('backfill'))}"]),
        Headline("Classifier", str(model.get("version", "none yet")),
                 [f"embedder {model['embedder']}"] if model.get("embedder") else []),
        Headline("Evaluation (dev gold)", scores[0] if scores else "–", scores[1:]),
        Headline("Metrics computed", _run_cell(inp.runs.get("aggregate")),
                 [f"last classification {_run_cell(inp.runs.get('classify'))}"]),
    ]


def _flagged_table(inp: ReportInputs) -> Table:
    """Runs of flagged months, newest first (one row per run of consecutive months with the same flag)."""
    source = inp.table("coverage")
    frame = source if source is not None else inp.topic_monthly
    totals = (frame.with_columns(pl.col("month").cast(pl.Date).dt.strftime("%Y-%m-%d"))
              .group_by("month").agg(pl.col("total_papers").max()))
    months = (figures.month_flags(frame).join(totals, on="month", how="left").sort("month")
              .with_columns(pl.when(pl.col("partial")).then(pl.lit("partial"))
                            .when(pl.col("low_coverage")).then(pl.lit("low coverage")).alias("flag")))
    spans = (months.with_columns((pl.col("flag") != pl.col("flag").shift(1)).fill_null(True).cum_sum().alias("run"))
             .filter(pl.col("flag").is_not_null())
             .group_by("run").agg(pl.col("flag").first(), pl.col("month").min().alias("from"),
                                  pl.col("month").max().alias("to"), pl.len().alias("months"),
                                  pl.col("total_papers").sum().alias("papers"))
             .sort("from", descending=True).select("from", "to", "months", "flag", "papers"))
    rows = [[start[:7], end[:7], str(n), flag, fmt_int(papers)] for start, end, n, flag, papers in spans.rows()]
    flagged = int(spans["months"].sum()) if len(spans) else 0
    return Table("coverage-flagged-months", f"Flagged months ({flagged})",
                 "Stretches of months the metrics mark as partial (not fully harvested yet) or low coverage (under "
                 "half the papers of the months around them, or none). Counts and growth in these months are not "
                 "comparable with the rest; rolling means and growth in the charts skip them.",
                 ["from", "to", "months", "flag", "papers"], rows, spans, numeric=frozenset({2, 4}))


def _detail(value: Any) -> str:
    """A run's summary value, short: lists and mappings are counted, long text is cut."""
    if isinstance(value, (list, tuple, dict)):
        return f"{len(value)} {'entries' if isinstance(value, dict) else 'items'}"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _runs_table(inp: ReportInputs) -> Table:
    # The report's own run is left out: it changes on every build and would break reproducibility.
    kinds = [k for k in ("backfill", "harvest", "classify", "aggregate") if k in inp.runs]
    rows: list[list[str | Link]] = []
    for kind in kinds:
        run = inp.runs[kind]
        details = "; ".join(f"{k}: {_detail(v)}" for k, v in sorted(run.items()) if k != "finished_at")
        rows.append([kind, _run_cell(run), details])
    data = pl.DataFrame(rows, schema={"run": pl.String, "finished_at": pl.String, "details": pl.String},
                        orient="row")
    return Table("coverage-runs", "Pipeline runs", "When each step of the pipeline last finished, and what it did.",
                 ["run", "finished (UTC)", "details"], rows, data)


def coverage_page(inp: ReportInputs) -> Page:
    sections: list[Section] = [
        figures.coverage_by_source(inp)
        or _missing("Papers per month by source", "metrics/coverage_monthly", _AGGREGATE),
        _flagged_table(inp),
        figures.classifier_scores(inp)
        or Missing("Classifier quality per topic",
                   "Not available yet: no evaluation in models/current.json. Run `arxiv-trends classify`."),
        _runs_table(inp),
    ]
    return Page("coverage.html", "Data coverage", "How far to trust the curves",
                "Which months the warehouse covers well, where the data came from, when it was last refreshed, "
                "and how good the topic classifier is.", _coverage_headlines(inp), sections)


def all_pages(inp: ReportInputs) -> list[Page]:
    return [overview_page(inp), *(topic_page(inp, t) for t in inp.topics), coverage_page(inp)]
