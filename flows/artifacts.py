"""What a flow run shows in the Prefect UI: a markdown summary and a table of the top movers."""

from __future__ import annotations

from typing import Any

import polars as pl
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from reports import estimates
from reports.wording import growth_cell
from warehouse.api import Warehouse

TOP_MOVERS = 10
SUMMARY_KEY = "{flow}-summary"
MOVERS_KEY = "top-movers"


def top_movers(wh: Warehouse, n: int = TOP_MOVERS) -> list[dict[str, Any]]:
    """The topics that moved: with error-corrected metrics, the significant movements of the year the report's
    overview talks about, as it lists them (growth with its 90% interval); on older metrics, or when no year has a
    growth figure (coverage gaps), the topics of the latest complete month, fastest year-on-year growth first.
    Empty without metrics."""
    if not wh.has_table("metrics/topic_monthly"):
        return []
    if wh.has_table("metrics/topic_yearly"):
        yearly = wh.scan("metrics/topic_yearly").collect()
        if estimates.has_estimates(yearly):
            movers = _significant_movers(yearly, n)
            if movers:
                return movers
    monthly = wh.scan("metrics/topic_monthly").filter(~pl.col("partial")).collect()
    if monthly.is_empty():
        return []
    latest = monthly["month"].max()
    rows = (monthly.filter(pl.col("month") == latest)
            .sort(["yoy_growth", "papers", "topic"], descending=[True, True, False], nulls_last=True)
            .head(n))
    return [{"topic": r["topic"], "month": str(r["month"])[:7], "papers": r["papers"],
             "share": _round(r["share"]), "yoy_growth": _round(r["yoy_growth"]),
             "mom_growth": _round(r.get("mom_growth"))}
            for r in rows.iter_rows(named=True)]


def _significant_movers(yearly: pl.DataFrame, n: int) -> list[dict[str, Any]]:
    """The year's significant movements; when no topic moved beyond its interval, its largest changes (each row's
    ``trend`` says which they are), so a run always shows where the topics stand."""
    years = estimates.years_from_estimates(yearly)
    year = estimates.latest_growth_year(years, tested=True)
    rows = estimates.movements(years, year)
    if rows.is_empty():
        rows = estimates.movements(years, year, significant=False)
    return [{"topic": r["topic"], "year": r["year"], "papers": r["papers"], "papers_est": _round(r["est"]),
             "papers_low": _round(r["low"]), "papers_high": _round(r["high"]), "yoy_growth": _round(r["growth"]),
             "yoy_growth_low": _round(r["growth_low"]), "yoy_growth_high": _round(r["growth_high"]),
             "trend": r["trend"],
             "change": f"{r['topic']} {growth_cell(r['growth'], r['growth_low'], r['growth_high'])}"}
            for r in rows.head(n).iter_rows(named=True)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _first(summary: dict | None, *keys: str) -> Any:
    for key in keys:
        if summary and summary.get(key) is not None:
            return summary[key]
    return None


def headline(steps: dict[str, dict]) -> dict[str, Any]:
    """The numbers the summary leads with, taken from the step summaries that ran."""
    out = {}
    for name in ("harvest", "backfill"):
        if steps.get(name, {}).get("summary"):
            out["papers added"] = (out.get("papers added") or 0) + (_first(steps[name]["summary"], "inserted") or 0)
    classify = steps.get("classify", {}).get("summary")
    out["papers classified"] = _first(classify, "classified", "papers_classified", "papers")
    aggregate = steps.get("aggregate", {}).get("summary")
    out["months updated"] = _first(aggregate, "months")
    return out


def summary_markdown(flow_name: str, result: dict) -> str:
    lines = [f"# {flow_name}", "", f"Data root: `{result['home']}`", ""]
    for label, value in headline(result["steps"]).items():
        lines.append(f"- **{label}**: {'-' if value is None else f'{value:,}' if isinstance(value, int) else value}")
    if result.get("report_url"):
        lines.append(f"- **report**: [{result['report_url']}]({result['report_url']})")
    lines += ["", "| step | status | note |", "|---|---|---|"]
    for name, step in result["steps"].items():
        lines.append(f"| {name} | {step['status']} | {step.get('reason') or step.get('note') or ''} |")
    return "\n".join(lines) + "\n"


def publish(wh: Warehouse, flow_name: str, result: dict) -> None:
    """Attach the summary and (when metrics exist) the top movers to the current flow run."""
    create_markdown_artifact(markdown=summary_markdown(flow_name, result), key=SUMMARY_KEY.format(flow=flow_name),
                             description=f"{flow_name}: what this run did")
    movers = top_movers(wh)
    if movers:
        if "year" not in movers[0]:
            what = f"Fastest-growing topics in {movers[0]['month']} (year on year, untested)"
        elif any(m["trend"] in estimates.MOVING for m in movers):
            what = f"Topics whose papers moved beyond their 90% interval in {movers[0]['year']}"
        else:
            what = (f"No topic moved beyond its 90% interval in {movers[0]['year']}: the largest changes, "
                    "all within noise")
        create_table_artifact(table=movers, key=MOVERS_KEY, description=what)
