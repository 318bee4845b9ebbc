"""``arxiv-trends report``: options, JSON summary, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from flows.cli import cli


def test_report_writes_the_site_and_prints_json(synthetic_wh, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["--home", str(synthetic_wh.settings.home), "report", "--out", str(out),
                                      "--generated-at", "2026-11-23T06:00:00Z", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["out_dir"] == str(out) and summary["pages"] == 19
    assert summary["generated_at"] == "2026-11-23 06:00 UTC"
    assert "Generated 2026-11-23 06:00 UTC" in (out / "index.html").read_text(encoding="utf-8")


def test_report_defaults_to_home_reports_with_a_human_summary(synthetic_wh) -> None:
    result = CliRunner().invoke(cli, ["--home", str(synthetic_wh.settings.home), "report"])
    assert result.exit_code == 0, result.output
    assert "19 pages" in result.output
    assert f"open {synthetic_wh.settings.home / 'reports' / 'index.html'}" in result.output


def test_report_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "empty"), "report"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: no metrics under {tmp_path / 'empty' / 'warehouse'}: run `arxiv-trends aggregate` first"]


def test_report_rejects_a_bad_generation_time(synthetic_wh, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(synthetic_wh.settings.home), "report",
                                      "--out", str(tmp_path / "s"), "--generated-at", "noon"])
    assert result.exit_code == 1 and "is not an ISO date/time" in result.output
