"""What the warehouse holds: the numbers behind ``arxiv-trends status``.

Status never fails on a damaged table: it counts what it can read, and lists the damage it ran into or
that ``verify`` (or another command) found before, with the time of the last full verification.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from warehouse.api import Warehouse
from warehouse.errors import TableDamaged
from warehouse.integrity import known_damage, note_damage, read_state
from warehouse.state import last_runs


def status(wh: Warehouse) -> dict[str, Any]:
    """Papers (total, by source, by year, date range), other tables' row counts, last runs, classifier,
    and what is known about the tables' integrity."""
    out: dict[str, Any] = {"home": wh.settings.location, "papers": 0, "tables": {}}
    if wh.settings.is_remote:
        out["local_dir"] = str(wh.settings.home)  # state, models, raw pages, reports, quarantine
    unreadable: list[str] = []
    if wh.has_table("papers"):
        try:
            out.update(_papers(wh))
        except Exception as exc:  # damage (or anything else) in papers: say so, go on with the rest
            _unreadable(wh, "papers", exc, unreadable)
    for name in _other_tables(wh):
        try:
            out["tables"][name] = wh.collect(wh.scan(name).select(pl.len()), [name]).item()
        except Exception as exc:
            out["tables"][name] = None
            _unreadable(wh, name, exc, unreadable)
    out["last_runs"] = last_runs(wh.settings)
    current = wh.settings.models_dir / "current.json"
    if current.exists():
        try:
            model = json.loads(current.read_text(encoding="utf-8"))
            out["classifier"] = {k: model.get(k) for k in ("version", "embedder")}
            quality = model.get("quality") or {}  # cross-validated on the labelled papers
            for key in ("macro_f1", "macro_f1_ci", "mean_abs_count_bias", "labels"):
                out["classifier"][key] = quality.get(key)
        except (ValueError, AttributeError) as exc:
            out["classifier"] = {"error": f"{current} is unreadable ({exc})"}
    state = read_state(wh.settings)
    out["integrity"] = {"verified_at": state.get("verified_at"), "verified": state.get("verified"),
                        "damage": known_damage(wh.settings, wh.tables), "unreadable": unreadable}
    return out


def _papers(wh: Warehouse) -> dict[str, Any]:
    lf = wh.scan_papers()
    totals = wh.collect(lf.select(pl.len().alias("n"), pl.col("submitted").min().alias("first"),
                                  pl.col("submitted").max().alias("last")), ["papers"]).row(0, named=True)
    by_source = wh.collect(lf.group_by("source").len().sort("len", descending=True), ["papers"])
    by_year = wh.collect(lf.group_by("year").len().sort("year"), ["papers"])
    by_date = wh.collect(lf.group_by("date_source").len().sort("date_source"), ["papers"])
    return {"papers": totals["n"], "submitted_range": [str(totals["first"]), str(totals["last"])],
            "by_source": dict(zip(by_source["source"].to_list(), by_source["len"].to_list())),
            "by_year": {str(y): n for y, n in zip(by_year["year"].to_list(), by_year["len"].to_list())},
            "by_date_source": dict(zip(by_date["date_source"].to_list(), by_date["len"].to_list()))}


def _unreadable(wh: Warehouse, name: str, exc: Exception, out: list[str]) -> None:
    """Damage is remembered (and shown with the rest of the known damage); any other failure is listed."""
    if isinstance(exc, TableDamaged):
        note_damage(wh.settings, exc.damage, "status")
    else:
        out.append(f"table {name!r} could not be read ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")


def _other_tables(wh: Warehouse) -> list[str]:
    return [n for n in wh.tables.names() if n != "papers"]
