"""What each page holds: headline numbers, the findings it opens with, its charts and tables, and notes for data
that is not there yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import polars as pl

from reports import estimates, figures
from reports.charts import Chart, Link, Num, Panels, Table
from reports.evidence import Evidence
from reports.inputs import DIGEST_DAYS, ReportInputs
from reports.wording import (count_with_interval, fmt_day, fmt_growth, fmt_int, fmt_month,
                             growth_phrase, pct)

TOP_MOVEMENTS = 5
BURST_WINDOW_MONTHS = 24
HEADLINE_TOP = 3
AUTHORS_SHOWN = 6
ABSTRACT_CHARS = 600
DIGEST_PER_TOPIC = 12


@dataclass(frozen=True)
class Missing:
    """A section whose data the warehouse does not hold yet, and how to get it."""

    title: str
    note: str
    kind: str = "missing"


@dataclass(frozen=True)
class Note:
    """A section of text (paragraphs), e.g. the method note that says what the bands mean."""

    key: str
    title: str
    paragraphs: list[str]
    kind: str = "note"


@dataclass(frozen=True)
class PaperList:
    """A list of papers (rendered as a list, downloadable like a table); ``group`` heads a list on a digest."""

    key: str
    title: str
    caption: str
    papers: list[dict[str, Any]]
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


@dataclass(frozen=True)
class Finding:
    """One line of the list a page opens with: a topic (linked) and what it did."""

    link: Link
    text: str


Section = Chart | Panels | Table | PaperList | Missing | Note


@dataclass
class Page:
    filename: str
    title: str
    heading: str
    intro: str
    headlines: list[Headline]
    sections: list[Section]
    findings_title: str = ""
    findings: list[Finding] = field(default_factory=list)
    findings_note: str = ""

    @property
    def charts(self) -> list[Chart | Panels]:
        return [s for s in self.sections if isinstance(s, (Chart, Panels))]

    @property
    def figure_count(self) -> int:
        return sum(len(s.panels) if isinstance(s, Panels) else 1 for s in self.charts)

    @property
    def tables(self) -> list[Table]:
        return [s for s in self.sections if isinstance(s, Table)] + [s.table for s in self.charts if s.table]

    @property
    def downloads(self) -> list[Chart | Panels | Table | PaperList]:
        return [s for s in self.sections if not isinstance(s, (Missing, Note))]


def topic_filename(topic: str) -> str:
    return f"topic-{figures.slug(topic)}.html"


def _missing(title: str, table: str, how: str) -> Missing:
    return Missing(title, f"Not available yet: the table {table} has not been built. {how}")


_AGGREGATE = "Run `arxiv-trends aggregate` to build it."
_NO_GROWTH = ("No year-on-year growth figure yet: growth needs two comparable years, and a year with a low-coverage "
              "month, or the open year, is not compared (see the data-coverage page).")
_CLASSIFY = "Run `arxiv-trends classify` and then `arxiv-trends aggregate`."


def _quality_text(inp: ReportInputs) -> tuple[str, list[str]]:
    """The classifier's headline quality: cross-validated macro F1 on the shipped labels with its 95% interval
    (the ``quality`` block), else the dev-gold macro F1."""
    quality = (inp.model or {}).get("quality")
    if isinstance(quality, dict) and isinstance(quality.get("macro_f1"), (int, float)):
        labels = quality.get("labels")
        return (f"macro F1 {quality['macro_f1']:.2f}{_ci_text(quality.get('macro_f1_ci'), 2)}",
                ["cross-validated on the hand labels" + (f" ({labels} papers)" if isinstance(labels, int) else "")])
    evaluation = inp.evaluation
    if isinstance(evaluation.get("macro_f1"), (int, float)):
        return (f"macro F1 {evaluation['macro_f1']:.2f}{_ci_text(evaluation.get('macro_f1_ci'), 2)}",
                ["on the hand-labelled dev set"])
    return "–", ["no evaluation recorded"]


def _ci_text(ci, digits: int = 3) -> str:
    """`` (95% CI 0.70–0.79)`` from a stored bootstrap interval; models evaluated before intervals show none."""
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(v, (int, float)) for v in ci):
        return f" (95% CI {ci[0]:.{digits}f}–{ci[1]:.{digits}f})"
    return ""


# -- overview ---------------------------------------------------------------------------------------------------

def _movements(inp: ReportInputs) -> tuple[str, list[Finding], str]:
    """The five movements that matter most (significant ones only), each linking to its topic."""
    year = inp.growth_year
    if year is None:
        return "What moved", [], "No year has a growth figure yet: the warehouse needs two comparable years."
    if not inp.intervals:
        rows = (inp.years.filter((pl.col("year") == year) & pl.col("growth").is_not_null()
                                 & (pl.col("papers") >= estimates.MIN_BASE))
                .sort([pl.col("growth").abs(), pl.col("topic")], descending=[True, False]).head(TOP_MOVEMENTS))
        found = [Finding(Link(inp.name(t), topic_filename(t)), f"changed {fmt_growth(g)} in {inp.growth_label}")
                 for t, g in rows.select("topic", "growth").rows()]
        return (f"Largest changes in {inp.growth_label}", found,
                "These metrics carry no intervals yet (re-run `arxiv-trends aggregate`), so no change is tested: "
                "some may be noise.")
    moved = estimates.movements(inp.years, year).head(TOP_MOVEMENTS)
    found = [Finding(Link(inp.name(r["topic"]), topic_filename(r["topic"])),
                     f"papers {growth_phrase(r['growth'], r['growth_low'], r['growth_high'], r['trend'])} in {inp.growth_label}, "
                     f"to {count_with_interval(r['est'], r['low'], r['high'])}")
             for r in moved.iter_rows(named=True)]
    steady = inp.years.filter((pl.col("year") == year) & (pl.col("trend") == "steady")).height
    note = ("Only changes whose 90% interval excludes zero are listed, the largest in papers first"
            + (f"; {steady} topics held steady within their intervals." if steady else "."))
    if not found:
        note = f"No topic's papers changed beyond their 90% interval in {inp.growth_label}."
    return f"What moved in {inp.growth_label}", found, note


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
    quality, how = _quality_text(inp)
    latest = 0 if inp.latest is None else inp.latest["id"].n_unique()
    return [
        Headline("Papers tracked", fmt_int(papers), classified),
        Headline("Period", f"{fmt_month(months.min())} – {fmt_month(months.max())}",
                 [f"data through {fmt_day(inp.data_through)}" if inp.data_through else "",
                  f"{flags.height} months, {flagged} flagged; charts from {fmt_month(inp.focus)}",
                  Link("see data coverage", "coverage.html")]),
        Headline("Classifier quality", quality, [*how, Link("how sure are these numbers?", figures.METHOD)]),
        Headline("What's new", f"{fmt_int(latest)} papers",
                 [f"in the last {DIGEST_DAYS} days of the data", Link("see what's new, by topic", "whats-new.html")]),
        _bursts(inp),
    ]


def _emerging_table(inp: ReportInputs) -> Table | Missing:
    title = "Emerging subtopics"
    frame = inp.table("emerging")
    if frame is None:
        return _missing(title, "metrics/emerging_subtopics", _CLASSIFY)
    frame = frame.sort("rank")
    rows: list[list[Any]] = []
    for rank, label, parent, recent, growth, keywords in frame.select(
            "rank", "label", "parent_topic", "recent_papers", "growth", "keywords").rows():
        parent_cell = Link(inp.name(parent), topic_filename(parent)) if parent in inp.topics else str(parent)
        rows.append([Num(str(rank), rank), str(label), parent_cell, Num(fmt_int(recent), recent),
                     Num(fmt_growth(growth), growth), ", ".join(keywords or [])])
    windows = ""
    if {"recent_from", "recent_to", "previous_from", "previous_to"} <= set(frame.columns) and len(frame):
        first = frame.row(0, named=True)
        windows = (f" Here the recent window is {fmt_month(first['recent_from'])} – {fmt_month(first['recent_to'])}"
                   f" and the one before {fmt_month(first['previous_from'])} – {fmt_month(first['previous_to'])}.")
    return Table("overview-emerging-subtopics", title,
                 "BERTopic subtopics ranked by how fast their share of all papers grew: recent papers is the count "
                 "in the latest window of usable months, growth compares its share with the window before "
                 f"(flagged months are skipped).{windows} The keywords say what a subtopic is about. These are "
                 "classified counts, without intervals.",
                 ["rank", "subtopic", "topic", "recent papers", "growth", "keywords"], rows,
                 frame.select("rank", "subtopic", "label", "parent_topic", "recent_papers", "growth", "keywords"),
                 numeric=frozenset({0, 3, 4}))


def overview_page(inp: ReportInputs) -> Page:
    cooc = figures.cooccurrence_matrix(inp)
    bubbles = figures.volume_growth_bubbles(inp)
    sections: list[Section] = [
        figures.monthly_small_multiples(inp),
        figures.share_small_multiples(inp),
        figures.growth_heatmap(inp) or Missing("Growth by topic and year", _NO_GROWTH),
        bubbles or Missing("Volume against growth", _NO_GROWTH),
        cooc or _missing("Which topics appear together", "metrics/topic_cooccurrence", _AGGREGATE),
        _emerging_table(inp),
    ]
    title, found, note = _movements(inp)
    return Page("index.html", "Overview", "Research trends on arXiv",
                "How the 16 topics of big-model research (after “A Roadmap for Big Model”) grow and shift, "
                "from the papers in this warehouse"
                + (", with counts corrected for the classifier's measured errors and 90% intervals. " if inp.intervals
                   else ". ")
                + "Every chart has its data as CSV; the data-coverage page says how complete each month is.",
                _overview_headlines(inp), sections, title, found, note)


# -- topic pages -------------------------------------------------------------------------------------------------

def _topic_headlines(inp: ReportInputs, topic: str) -> list[Headline]:
    years = inp.years.filter(pl.col("topic") == topic)
    year = inp.growth_year
    row = years.filter(pl.col("year") == year).row(0, named=True) if year and years.filter(
        pl.col("year") == year).height else None
    headlines = []
    if row is not None:
        detail = [f"{fmt_int(row['papers'])} as classified" if inp.intervals else "as classified",
                  growth_phrase(row["growth"], row["growth_low"], row["growth_high"], row["trend"])
                  + f" on {year - 1}" if row["growth"] is not None else
                  f"no growth figure on {year - 1}: a low-coverage or open month in the comparison"]
        headlines.append(Headline(f"Papers in {inp.growth_label}", count_with_interval(row["est"], row["low"], row["high"]),
                                  detail))
    now = inp.charted.filter((pl.col("topic") == topic) & pl.col("nowcast") & (pl.col("total_papers") > 0))
    if inp.intervals and not now.is_empty():
        r = now.row(0, named=True)
        headlines.append(Headline(f"{fmt_month(r['month'])} (nowcast)", count_with_interval(r["est"], r["low"],
                                                                                             r["high"]),
                                  [f"{fmt_int(r['papers'])} classified so far; expected final count"]))
    last = years.filter(pl.col("cagr_3y").is_not_null()).tail(1)
    if last.height:
        r = last.row(0, named=True)
        headlines.append(Headline("3-year growth rate", f"{pct(r['cagr_3y'], signed=True)} a year",
                                  [f"compound, {r['year'] - 3}–{r['year']}; "
                                   f"90%: {pct(r['cagr_3y_low'], signed=True)} to {pct(r['cagr_3y_high'], signed=True)}"]))
    elif not inp.intervals:
        latest = inp.topic_monthly.filter(pl.col("topic") == topic).sort("month").tail(1)
        if "cagr_3y" in latest.columns and len(latest) and latest["cagr_3y"][0] is not None:
            headlines.append(Headline("3-year growth rate", f"{fmt_growth(latest['cagr_3y'][0])} a year",
                                      [f"compound, to {fmt_month(latest['month'][0])}"]))
    quality = inp.topic_quality(topic)
    if "precision" in quality and "recall" in quality:
        bias = quality.get("count_bias")
        headlines.append(Headline(
            "Classifier on this topic", f"precision {quality['precision']:.2f}, recall {quality['recall']:.2f}",
            [f"dev gold set, {int(quality['support'])} papers" if "support" in quality else "dev gold set",
             (f"classified counts run {pct(abs(bias))} {'high' if bias > 0 else 'low'} before correction"
              if bias is not None and abs(bias) >= 0.005 else "")]))
    total = inp.topic_monthly.filter(pl.col("topic") == topic)
    headlines.insert(0, Headline("Papers", fmt_int(total["papers"].sum()),
                                 [f"classified, {fmt_month(total['month'].min())} – {fmt_month(total['month'].max())}"]))
    return headlines


def _authors(authors: list[str] | None) -> str:
    names = list(authors or [])
    return ", ".join(names[:AUTHORS_SHOWN]) + (" et al." if len(names) > AUTHORS_SHOWN else "")


def _paper(inp: ReportInputs, pid: str, title: str | None, authors, abstract: str | None, submitted,
           extra: list[str]) -> dict[str, Any]:
    text = abstract or ""
    meta = [_authors(authors), submitted.date().isoformat() if submitted else "", f"arXiv:{pid}", *extra]
    return {"id": pid, "url": f"https://arxiv.org/abs/{quote(pid, safe='/.')}", "title": title or pid,
            "meta": " · ".join(part for part in meta if part),
            "abstract": text if len(text) <= ABSTRACT_CHARS else text[:ABSTRACT_CHARS].rstrip() + "…",
            "evidence": None}


def _evidence(inp: ReportInputs, topic: str, ev: Evidence | None) -> dict[str, Any] | None:
    if ev is None:
        return None
    return {
        "score": "–" if ev.score is None else f"{ev.score:.2f}",
        "method": ev.method,
        "phrases": list(ev.phrases),
        "terms": list(ev.terms),
        "others": [Link(f"{inp.name(t)} ({s:.2f})", topic_filename(t)) if t in inp.topics else f"{t} ({s:.2f})"
                   for t, s in ev.others],
        "note": ev.note,
        "topic": inp.name(topic),
    }


def _papers_section(inp: ReportInputs, topic: str) -> PaperList | Missing:
    title = "Representative recent papers, and why they are here"
    if inp.representative is None:
        return _missing(title, "classifications", _CLASSIFY)
    rows = inp.representative.filter(pl.col("topic") == topic)
    papers = []
    for pid, ptitle, authors, abstract, submitted, score in rows.select(
            "id", "title", "authors", "abstract", "submitted", "score").rows():
        paper = _paper(inp, pid, ptitle, authors, abstract, submitted,
                       [f"score {score:.2f}" if score is not None else ""])
        paper["evidence"] = _evidence(inp, topic, inp.evidence.get((pid, topic)))
        papers.append(paper)
    data = rows.select("id", "title", pl.col("authors").list.join(", "), "submitted", "score")
    return PaperList(f"topic-{figures.slug(topic)}-papers", title,
                     "The papers of the last twelve months the classifier is most sure about (highest score), "
                     "newest first among equals. Titles link to arXiv. Open “Why is this paper here?” for the "
                     "evidence: the score, the phrases the topic's rules matched, the words that weighed most for "
                     "the topic in the lexical model, and the paper's other topics.", papers, data)


def topic_page(inp: ReportInputs, topic: str) -> Page:
    name = inp.name(topic)
    sections: list[Section] = [
        figures.topic_monthly_chart(inp, topic),
        figures.topic_yearly_chart(inp, topic) or Missing("Papers per year", "No year in the metrics yet."),
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
                f"Papers classified as {name}: how many per month and per year"
                + (" (corrected for the classifier's errors, with 90% intervals)" if inp.intervals else "")
                + ", which subtopics make it up, which arXiv categories feed it, and which recent papers it holds "
                "and why.", _topic_headlines(inp, topic), sections)


# -- what's new --------------------------------------------------------------------------------------------------

def whats_new_page(inp: ReportInputs) -> Page:
    """The digest: the papers of the last ``DIGEST_DAYS`` days of the data, by topic, best score first."""
    latest = inp.latest
    sections: list[Section] = []
    if latest is None:
        sections.append(_missing("What's new", "classifications", _CLASSIFY))
        since = None
    else:
        since = inp.data_through - timedelta(days=DIGEST_DAYS - 1) if inp.data_through else None
        topics_of = (latest.filter(pl.col("topic").is_not_null()).group_by("id")
                     .agg(pl.col("topic").sort_by("score", descending=True)))
        others = {pid: ts for pid, ts in topics_of.rows()}
        for topic in [*inp.topics, None]:
            rows = (latest.filter(pl.col("topic") == topic) if topic else
                    latest.filter(pl.col("topic").is_null()).unique("id", keep="first", maintain_order=True))
            if rows.is_empty():
                continue
            rows = rows.sort(["score", "submitted", "id"], descending=[True, True, False], nulls_last=True)
            papers = []
            for pid, ptitle, authors, abstract, submitted, score in rows.head(DIGEST_PER_TOPIC).select(
                    "id", "title", "authors", "abstract", "submitted", "score").rows():
                also = [inp.name(t) for t in others.get(pid, []) if t != topic]
                paper = _paper(inp, pid, ptitle, authors, abstract, submitted,
                               [f"score {score:.2f}" if score is not None else "",
                                f"also: {', '.join(also)}" if also else ""])
                papers.append(paper)
            name = inp.name(topic) if topic else "No topic"
            shown = f"the {len(papers)} best-scored of {rows.height}" if rows.height > len(papers) else f"{rows.height}"
            key = f"whats-new-{figures.slug(topic) if topic else 'no-topic'}"
            sections.append(PaperList(
                key, f"{name} ({rows.height})",
                (f"{shown} papers of the last {DIGEST_DAYS} days with this topic, best score first. "
                 + (f"See the {name} page for its trend." if topic else "")) if topic else
                f"{shown} papers of the last {DIGEST_DAYS} days that none of the 16 topics fits (most of arXiv).",
                papers, rows.head(DIGEST_PER_TOPIC).select("id", "title", pl.col("authors").list.join(", "),
                                                           "submitted", "score")))
    window = (f"{fmt_day(since)} – {fmt_day(inp.data_through)}" if since is not None and inp.data_through else "–")
    harvest = inp.runs.get("harvest")
    headlines = [Headline("Window", window, [f"the last {DIGEST_DAYS} days with papers in the warehouse"]),
                 Headline("Papers", fmt_int(0 if latest is None else latest["id"].n_unique()),
                          [f"{fmt_int(0 if latest is None else latest.filter(pl.col('topic').is_not_null())['id'].n_unique())} with a topic"]),
                 Headline("Last harvest", _run_cell(harvest),
                          [f"added {harvest['inserted']:,} papers" if harvest and isinstance(harvest.get("inserted"), int)
                           else ""])]
    return Page("whats-new.html", "What's new", "What's new on arXiv in these topics",
                f"The papers submitted in the last {DIGEST_DAYS} days of the data, by topic: after each daily harvest, "
                "the latest announcements. A paper with several topics is listed under each.", headlines, sections)


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


def _coverage_headlines(inp: ReportInputs) -> list[Headline]:
    harvest = inp.runs.get("harvest")
    model = inp.model or {}
    evaluation = inp.evaluation
    scores = [f"{k.replace('_', ' ')} {evaluation[k]:.3f}{_ci_text(evaluation.get(k + '_ci'))}"
              for k in ("macro_f1", "micro_f1") if isinstance(evaluation.get(k), (int, float))]
    quality, how = _quality_text(inp)
    return [
        Headline("Last harvest", _run_cell(harvest),
                 [f"last backfill {_run_cell(inp.runs.get('backfill'))}"]),
        Headline("Classifier", str(model.get("version", "none yet")),
                 [f"embedder {model['embedder']}"] if model.get("embedder") else []),
        Headline("Evaluation (dev gold)", scores[0] if scores else "–", scores[1:]),
        Headline("Quality on the hand labels", quality, how) if (model.get("quality") or {}) else None,
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
    flagged = int(spans["months"].sum()) if len(spans) else 0
    rows = [[a, b, Num(str(n), int(n)), flag, Num(fmt_int(p), p)] for a, b, n, flag, p in
            ((start[:7], end[:7], n, flag, papers) for start, end, n, flag, papers in spans.rows())]
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


def _era_table(inp: ReportInputs) -> Table | None:
    """Precision / recall per topic in each era (``evaluation.by_era.<era>.per_topic``, cross-validated on the
    labelled papers), with each era's macro F1, where recorded."""
    from analytics.eras import ERA_NAMES

    by_era = inp.evaluation.get("by_era")
    if not isinstance(by_era, dict) or not by_era:
        return None
    eras = [e for e in ERA_NAMES if isinstance(by_era.get(e), dict)]
    eras += sorted(str(e) for e, v in by_era.items() if isinstance(v, dict) and e not in eras)
    if not eras:
        return None
    rows: list[list[Any]] = []
    records = []
    for topic in inp.topics:
        row: list[Any] = [Link(inp.name(topic), topic_filename(topic))]
        for era in eras:
            per_topic = by_era[era].get("per_topic") if isinstance(by_era[era].get("per_topic"), dict) else by_era[era]
            scores = per_topic.get(topic) if isinstance(per_topic.get(topic), dict) else {}
            p, r = scores.get("precision"), scores.get("recall")
            ok = isinstance(p, (int, float)) and isinstance(r, (int, float)) and scores.get("support", 1)
            row.append(Num(f"{p:.2f} / {r:.2f}" if ok else "–", float(p) if ok else None))
            records.append({"topic": topic, "era": era, "precision": float(p) if ok else None,
                            "recall": float(r) if ok else None})
        rows.append(row)
    macro = [by_era[e].get("macro_f1") for e in eras]
    if all(isinstance(m, (int, float)) for m in macro):
        rows.append(["macro F1 (all topics)", *[Num(f"{m:.2f}", float(m)) for m in macro]])
    return Table("coverage-quality-by-era", "Classifier quality by era",
                 "Precision / recall of each topic on the hand-labelled papers of each era, cross-validated ("
                 "each paper scored by a model fitted without it); – where the era has no labelled paper of the "
                 "topic. The corrected estimates use calibration measured per era, because vocabulary (and so the "
                 "classifier's errors) shifts over the years.", ["topic", *eras], rows, pl.DataFrame(records),
                 numeric=frozenset(range(1, len(eras) + 1)))


def method_note(inp: ReportInputs) -> Note:
    """What the bands mean, what is counted, and the assumptions and limitations (linked from every chart)."""
    paragraphs = [
        "What is counted. A paper counts for a topic when the classifier gives it that topic (up to three "
        "topics a paper, or none); its month is the month of its first version. Counts cover the papers in this "
        "warehouse, not all of arXiv: months with low coverage hold under half the usual papers and are left out "
        "of growth figures.",
    ]
    if inp.intervals:
        paragraphs += [
            "What the bands mean. A classifier that is right 80% of the time still miscounts: it over-counts the "
            "topics it is generous with and under-counts those it is strict with. The corrected estimate removes "
            "that bias using the topic's error rates measured on hand-labelled papers, and the band (or range) is "
            "its 90% interval: it covers the uncertainty of those error rates (a bootstrap of the labelled papers) "
            "and the sampling noise of the month's papers. It does not cover papers missing from the warehouse, a "
            "topic definition that differs from the reader's, or error rates that changed in ways the labelled "
            "papers do not show.",
            "Growing, shrinking, steady. A topic is called growing or shrinking only when the 90% interval of its "
            "growth excludes zero; otherwise it held steady, and its change is shown greyed. Only such movements "
            "reach the titles, the headlines and the “What moved” list.",
            "The open month. The current month is still being announced; its count so far would read as a "
            "collapse. It is shown as a nowcast: the count the month is expected to reach, from the announcement "
            "days elapsed and how past months filled up, with its interval, drawn apart from the line and never "
            "used for growth.",
        ]
    else:
        paragraphs.append(
            "No intervals yet. These metrics were aggregated before the error-corrected estimates existed, so the "
            "charts show classified counts without bands and no change is tested. Run `arxiv-trends aggregate` "
            "to add them.")
    paragraphs.append(
        "Assumptions and limitations. The topic taxonomy follows “A Roadmap for Big Model”; a paper outside "
        "it counts for no topic. Growth of a small topic (under 20 papers in the base year) is not given as a "
        "percentage. The first charted month is where the warehouse first holds 100+ papers a month for six months "
        "in a row.")
    return Note("method", "How sure are these numbers? (method note)", paragraphs)


def coverage_page(inp: ReportInputs) -> Page:
    sections: list[Section] = [
        figures.coverage_by_source(inp)
        or _missing("Papers per month by source", "metrics/coverage_monthly", _AGGREGATE),
        _flagged_table(inp),
        figures.classifier_scores(inp)
        or Missing("Classifier quality per topic",
                   "Not available yet: no evaluation in models/current.json. Run `arxiv-trends classify`."),
        *([era] if (era := _era_table(inp)) is not None else []),
        method_note(inp),
        _runs_table(inp),
    ]
    return Page("coverage.html", "Data coverage", "How far to trust the curves",
                "Which months the warehouse covers well, where the data came from, when it was last refreshed, "
                "how good the topic classifier is, and what the intervals mean.",
                [h for h in _coverage_headlines(inp) if h is not None], sections)


def all_pages(inp: ReportInputs) -> list[Page]:
    return [overview_page(inp), *(topic_page(inp, t) for t in inp.topics), whats_new_page(inp), coverage_page(inp)]
