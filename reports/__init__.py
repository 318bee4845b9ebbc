"""Turning metrics into pictures: the Plotly figures and the static HTML site (``build_site``)."""

from reports.inputs import ReportError
from reports.site import ReportSummary, build_site

__all__ = ["ReportError", "ReportSummary", "build_site"]
