"""A chart as the site ships it: a Plotly figure, the data behind it, and safe ways to serialise both."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

# Characters that would let figure JSON end its <script type="application/json"> block or confuse parsers.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = r"^[=+\-@\t\r]"


def figure_json(figure: go.Figure) -> str:
    """A figure as JSON that is safe inside a ``<script type="application/json">`` element."""
    return pio.to_json(figure, validate=False, pretty=False, engine="json").translate(_SCRIPT_ESCAPES)


@dataclass(frozen=True)
class Control:
    """A row of buttons above a chart, each applying a Plotly relayout to every figure of the chart."""

    label: str
    options: tuple[tuple[str, dict[str, Any]], ...]   # (button text, relayout arguments); the first is active

    def buttons(self) -> list[tuple[str, str]]:
        return [(text, json.dumps(args, sort_keys=True)) for text, args in self.options]


@dataclass(frozen=True)
class Chart:
    """One figure on a page; ``data`` is written as the chart's downloadable CSV.

    The title states the finding, the subtitle defines the measure, ``caption`` holds the notes on how to read
    it, ``description`` (generated from the data: what rises, by how much, over which span) is the chart's
    accessible name, and ``footer`` says where the numbers come from. ``table`` is shown in a tab beside it."""

    key: str        # unique on the site; names the CSV and the DOM ids
    title: str
    caption: str    # notes: what the chart shows and how to read it
    figure: go.Figure
    data: pl.DataFrame
    subtitle: str = ""
    description: str = ""
    footer: tuple[Any, ...] = ()       # str or Link
    controls: tuple[Control, ...] = ()
    table: "Table | None" = None
    name: str = ""                     # short name for the page's table of contents (default: the title)
    kind: str = "chart"

    @property
    def csv_name(self) -> str:
        return f"data/{self.key}.csv"

    @property
    def label(self) -> str:
        return self.description or self.title

    def figure_json(self) -> str:
        return figure_json(self.figure)


@dataclass(frozen=True)
class Panel:
    """One small chart of a set of small multiples; ``href`` links its name to the topic's page."""

    name: str
    href: str
    figure: go.Figure
    description: str

    def figure_json(self) -> str:
        return figure_json(self.figure)


@dataclass(frozen=True)
class Panels:
    """Small multiples: one small chart per topic on a shared time axis, laid out by the page's CSS grid
    (so they reflow from four columns on a desktop to one on a phone); otherwise a ``Chart``."""

    key: str
    title: str
    caption: str
    panels: list[Panel]
    data: pl.DataFrame
    subtitle: str = ""
    description: str = ""
    footer: tuple[Any, ...] = ()
    controls: tuple[Control, ...] = ()
    table: "Table | None" = None
    name: str = ""
    kind: str = "panels"

    @property
    def csv_name(self) -> str:
        return f"data/{self.key}.csv"


def plotly_text(value: Any) -> str:
    """Escape a data string for a Plotly label, which interprets a subset of HTML (``<b>``, ``<a>``, entities),
    reads ``$...$`` as LaTeX and ``%{...}`` (in hover templates) as a placeholder. Plotly decodes numeric
    entities, so ``$`` and ``%`` become ``&#36;`` and ``&#37;`` and still show as themselves."""
    return html.escape(str(value), quote=False).replace("$", "&#36;").replace("%", "&#37;")


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV with list cells joined by ``; `` and formula-like text defused."""
    out = frame.with_columns(
        [pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c, t in frame.schema.items() if isinstance(t, pl.List)]
    )
    out = out.with_columns(
        [pl.when(pl.col(c).str.contains(_FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
         for c, t in out.schema.items() if t == pl.String]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    out.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%z", date_format="%Y-%m-%d")


@dataclass(frozen=True)
class Link:
    """A table cell that links somewhere (text and href are escaped by the template)."""

    text: str
    href: str


@dataclass(frozen=True)
class Num:
    """A table cell shown as ``text`` and sorted by ``value`` (None sorts last); ``muted`` greys it out (a change
    whose interval includes zero)."""

    text: str
    value: float | None
    muted: bool = False


Cell = str | Link | Num


@dataclass(frozen=True)
class Table:
    """An HTML table on a page; ``data`` is written as its downloadable CSV, like a chart's."""

    key: str
    title: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    data: pl.DataFrame
    numeric: frozenset[int] = frozenset()  # column positions to right-align
    kind: str = "table"

    @property
    def csv_name(self) -> str:
        return f"data/{self.key}.csv"
