"""What the warehouse holds: the numbers behind ``arxiv-trends status``."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from warehouse.api import Warehouse
from warehouse.state import last_runs


def status(wh: Warehouse) -> dict[str, Any]:
    """Papers (total, by source, by year, date range), other tables' row counts, last runs, classifier."""
    out: dict[str, Any] = {"home": wh.settings.location, "papers": 0, "tables": {}}
    if wh.settings.is_remote:
        out["local_dir"] = str(wh.settings.home)  # state, models, raw pages, reports, quarantine
    if wh.has_table("papers"):
        lf = wh.scan_papers()
        totals = lf.select(pl.len().alias("n"), pl.col("submitted").min().alias("first"),
                           pl.col("submitted").max().alias("last")).collect().row(0, named=True)
        out["papers"] = totals["n"]
        out["submitted_range"] = [str(totals["first"]), str(totals["last"])]
        by_source = lf.group_by("source").len().sort("len", descending=True).collect()
        out["by_source"] = dict(zip(by_source["source"].to_list(), by_source["len"].to_list()))
        by_year = lf.group_by("year").len().sort("year").collect()
        out["by_year"] = {str(y): n for y, n in zip(by_year["year"].to_list(), by_year["len"].to_list())}
        by_date = lf.group_by("date_source").len().sort("date_source").collect()
        out["by_date_source"] = dict(zip(by_date["date_source"].to_list(), by_date["len"].to_list()))
    for name in _other_tables(wh):
        out["tables"][name] = wh.scan(name).select(pl.len()).collect().item()
    out["last_runs"] = last_runs(wh.settings)
    current = wh.settings.models_dir / "current.json"
    if current.exists():
        model = json.loads(current.read_text(encoding="utf-8"))
        out["classifier"] = {k: model.get(k) for k in ("version", "embedder")}
        evaluation = model.get("evaluation") or {}
        out["classifier"]["macro_f1"] = evaluation.get("macro_f1")
        out["classifier"]["macro_f1_ci"] = evaluation.get("macro_f1_ci")
    return out


def _other_tables(wh: Warehouse) -> list[str]:
    return [n for n in wh.tables.names() if n != "papers"]
