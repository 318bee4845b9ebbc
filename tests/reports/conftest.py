"""Fixtures for the report tests: a synthetic warehouse and a site built from it once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from reports import ReportSummary, build_site
from tests.reports.synthetic import write_synthetic_warehouse
from warehouse.api import Warehouse

GENERATED_AT = "2026-11-23T06:00:00Z"


@dataclass(frozen=True)
class BuiltSite:
    wh: Warehouse
    out: Path
    summary: ReportSummary


@pytest.fixture
def synthetic_wh(tmp_path: Path) -> Warehouse:
    return write_synthetic_warehouse(tmp_path / "home")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    root = tmp_path_factory.mktemp("site")
    wh = write_synthetic_warehouse(root / "home")
    summary = build_site(wh, out_dir=root / "site", generated_at=GENERATED_AT)
    return BuiltSite(wh, root / "site", summary)
