"""How the site says numbers: counts, percentages with their 90% intervals, movements and spans.

One place for the phrasing, so a headline, a chart title, a hover and a table cell say the same thing the same
way ("grew 38% (90%: 30–47%)"), and a change whose interval includes zero is never called a rise or a fall.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

def fmt_int(n: Any) -> str:
    return "–" if n is None else f"{round(n):,}"


def fmt_month(day: date | datetime | None) -> str:
    return "–" if day is None else day.strftime("%b %Y")


def fmt_day(day: date | datetime | None) -> str:
    return "–" if day is None else f"{day.day} {day:%b %Y}"


def pct(x: float | None, signed: bool = False) -> str:
    """``38%`` (``+38%`` when signed); one decimal under 10%, none above; a real minus sign."""
    if x is None:
        return "–"
    value = 100 * x
    text = f"{abs(value):.1f}" if abs(value) < 9.95 else f"{abs(value):,.0f}"
    sign = ("+" if value >= 0 else "−") if signed else ("−" if value < 0 else "")
    return f"{sign}{text}%"


def fmt_growth(g: float | None) -> str:
    return pct(g, signed=True)


def count_with_interval(est: float | None, low: float | None, high: float | None) -> str:
    """``4,120 (90%: 3,900–4,340)``; the plain count without an interval."""
    if est is None:
        return "–"
    if low is None or high is None:
        return fmt_int(est)
    return f"{fmt_int(est)} (90%: {fmt_int(low)}–{fmt_int(high)})"


def growth_phrase(g: float | None, low: float | None, high: float | None, trend: str | None) -> str:
    """What happened, as a verb phrase: ``grew 38% (90%: 30–47%)``, ``fell 12% (90%: 5–19%)``, ``held steady
    (+4%, 90%: −3% to +11%)``; without an interval (older metrics) ``changed +4% (no interval)``."""
    if g is None:
        return "has no growth figure"
    if trend == "growing" and low is not None and high is not None:
        return f"grew {pct(g)} (90%: {_span(low, high)})"
    if trend == "shrinking" and low is not None and high is not None:
        return f"fell {pct(-g)} (90%: {_span(-high, -low)})"
    if trend == "steady" and low is not None and high is not None:
        return f"held steady ({pct(g, signed=True)}, 90%: {pct(low, signed=True)} to {pct(high, signed=True)})"
    return f"changed {pct(g, signed=True)} (no interval)"


def _span(low: float, high: float) -> str:
    """``30–47%`` (both ends positive)."""
    return f"{pct(low)[:-1]}–{pct(high)}"


def growth_cell(g: float | None, low: float | None, high: float | None) -> str:
    """``+38% (+30% to +47%)`` for tables and hovers."""
    if g is None:
        return "–"
    if low is None or high is None:
        return pct(g, signed=True)
    return f"{pct(g, signed=True)} ({pct(low, signed=True)} to {pct(high, signed=True)})"


def points(x: float | None, signed: bool = True) -> str:
    """A change of share in percentage points: ``+1.2 pts``."""
    if x is None:
        return "–"
    value = 100 * x
    sign = ("+" if value >= 0 else "−") if signed else ""
    return f"{sign}{abs(value):.2f} pts" if abs(value) < 0.995 else f"{sign}{abs(value):.1f} pts"


def listing(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
