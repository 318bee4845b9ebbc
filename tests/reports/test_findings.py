"""What the pages say: findings with intervals, only significant movements, the nowcast apart, greyed growth,
the change table, evidence per paper, the digest, and plain numbers where the metrics have no estimates."""

from __future__ import annotations

import csv
import json
import re
from html import unescape
from pathlib import Path

import polars as pl
import pytest

from reports import build_site, estimates
from reports.wording import count_with_interval, growth_phrase, pct
from tests.reports.conftest import GENERATED_AT, BuiltSite
from tests.reports.synthetic import DIGEST, TOPICS, write_synthetic_warehouse


def _html(site: BuiltSite | Path, name: str) -> str:
    out = site.out if isinstance(site, BuiltSite) else site
    return (out / name).read_text(encoding="utf-8")


def _figure(html: str, key: str) -> dict:
    block = re.search(rf'<script type="application/json" id="fig-{re.escape(key)}">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def _yearly(site: BuiltSite) -> pl.DataFrame:
    return site.wh.scan("metrics/topic_yearly").collect()


def test_overview_opens_with_the_significant_movements_only(built_site: BuiltSite) -> None:
    index = _html(built_site, "index.html")
    block = re.search(r'<section class="findings".*?</section>', index, re.S).group(0)
    assert "What moved in 2025" in block
    items = re.findall(r'<li><a href="topic-([a-z_]+)\.html">[^<]+</a> ([^<]+)</li>', block)
    assert len(items) == 5
    year = _yearly(built_site).filter(pl.col("year") == 2025)
    trend = dict(year.select("topic", "trend").rows())
    assert all(trend[t] in ("growing", "shrinking") for t, _ in items)
    steady = [t for t, v in trend.items() if v == "steady"]
    assert steady and not set(steady) & {t for t, _ in items}
    # the one that matters most first: the largest change in papers, not in percent
    gained = {t: e - e / (1 + g) for t, e, g in year.select("topic", "papers_est", "yoy_growth_est").rows()
              if trend[t] in ("growing", "shrinking")}
    assert [t for t, _ in items] == sorted(gained, key=lambda t: -abs(gained[t]))[:5]
    top = year.filter(pl.col("topic") == items[0][0]).row(0, named=True)
    assert unescape(items[0][1]) == (
        f"papers {growth_phrase(top['yoy_growth_est'], top['yoy_growth_low'], top['yoy_growth_high'], top['trend'])}"
        f" in 2025, to {count_with_interval(top['papers_est'], top['papers_low'], top['papers_high'])}")
    assert re.fullmatch(r"papers grew \d+% \(90%: \d+–\d+%\) in 2025, to [\d,]+ \(90%: [\d,]+–[\d,]+\)",
                        unescape(items[0][1]))


def test_chart_titles_state_the_finding_with_its_numbers(built_site: BuiltSite) -> None:
    index = _html(built_site, "index.html")
    titles = re.findall(r'<section class="card" id="([^"]+)">\s*<h2>([^<]+)</h2>', index)
    by_key = {k: unescape(t) for k, t in titles}
    year = _yearly(built_site).filter(pl.col("year") == 2025)
    grew = year.filter(pl.col("trend") == "growing").height
    fell = year.filter(pl.col("trend") == "shrinking").height
    assert by_key["overview-growth-heatmap"].startswith(
        f"In 2025, {grew} topics grew and {fell} shrank beyond their 90% intervals; the biggest move: ")
    assert re.search(r"is the largest topic, with about [\d,]+ papers a month in 2026$", by_key["overview-monthly-papers"])
    assert "gained the most share in 2025" in by_key["overview-topic-share"]
    topic = _html(built_site, "topic-protein.html")
    row = year.filter(pl.col("topic") == "protein").row(0, named=True)
    assert (f"Protein Research papers {growth_phrase(row['yoy_growth_est'], row['yoy_growth_low'], row['yoy_growth_high'], row['trend'])} in 2025"
            in unescape(topic))


def test_footers_say_data_through_source_version_and_the_topic_quality(built_site: BuiltSite) -> None:
    page = unescape(_html(built_site, "topic-dialogue.html"))
    notes = re.search(r'id="topic-dialogue-monthly">.*?<ul class="provenance">(.*?)</ul>', page, re.S).group(1)
    assert "Data through 20 Nov 2026" in notes and "classifier v-test" in notes
    assert "Dialogue: precision 0.70, recall 0.60 on the hand-labelled dev set, 24 gold papers" in notes
    assert 'href="coverage.html#method"' in notes
    coverage = _html(built_site, "coverage.html")
    assert 'id="method"' in coverage and "What the bands mean." in coverage


def test_nowcast_is_drawn_apart_and_never_joined_to_the_line(built_site: BuiltSite) -> None:
    figure = _figure(_html(built_site, "topic-language_model.html"), "topic-language_model-monthly")
    traces = {t["name"]: t for t in figure["data"]}
    line, nowcast = traces["corrected estimate"], traces["nowcast (open month)"]
    assert "2026-11-01" not in line["x"] and nowcast["x"] == ["2026-11-01"]
    assert nowcast["error_y"]["array"][0] > 0 and nowcast["marker"]["symbol"] == "circle-open"
    month = built_site.wh.scan("metrics/topic_monthly").filter(
        (pl.col("topic") == "language_model") & pl.col("nowcast")).collect().row(0, named=True)
    assert nowcast["y"] == [round(month["papers_est"], 1)]
    low_coverage = line["y"][line["x"].index("2021-03-01")]
    assert low_coverage is None, "a low-coverage month is a gap in the estimate, not a dip"
    panel = _figure(_html(built_site, "index.html"), "overview-monthly-papers-5")   # language_model, 5th topic
    assert [t["name"] for t in panel["data"]] == ["90% interval", "Language Model", "nowcast of the open month"]
    assert panel["data"][1]["x"][-1] == "2026-11-01" and panel["data"][1]["y"][-1] is None


def test_growth_within_its_interval_is_grey_not_coloured(built_site: BuiltSite) -> None:
    figure = _figure(_html(built_site, "index.html"), "overview-growth-heatmap")
    coloured, grey = figure["data"]
    years = [int(y.rstrip("*")) for y in coloured["x"]]
    trend = {(t, y): v for t, y, v in _yearly(built_site).select("topic", "year", "trend").rows()}
    names = dict(zip(coloured["y"], TOPICS))   # rows in taxonomy order
    checked = 0
    for i, name in enumerate(coloured["y"]):
        for j, year in enumerate(years):
            state = trend.get((names[name], year))
            if state == "steady":
                assert coloured["z"][i][j] is None and grey["z"][i][j] == 0
                checked += 1
            elif state in ("growing", "shrinking"):
                assert coloured["z"][i][j] is not None and grey["z"][i][j] is None
    assert checked >= 3


def test_change_table_sits_beside_the_chart_sortable_with_intervals(built_site: BuiltSite) -> None:
    index = _html(built_site, "index.html")
    assert 'role="tab" id="tab-table-overview-monthly-papers"' in index
    view = re.search(r'<div class="view" id="view-table-overview-monthly-papers".*?</table>', index, re.S).group(0)
    assert "Change from 2020 to 2025" in view   # 2019 and 2021 have low-coverage months, 2026 is open and '<table class="sortable">' in view
    assert view.count('<button type="button" class="sort">') == 5
    rows = re.findall(r"<tr><td><a[^>]*>([^<]+)</a></td>(.*?)</tr>", view)
    assert len(rows) == 16
    data = list(csv.DictReader((built_site.out / "data" / "overview-change-table.csv").open(encoding="utf-8")))
    assert len(data) == 16 and {"relative", "relative_low", "relative_high", "trend"} <= set(data[0])
    steady = {r["topic"] for r in data if r["trend"] == "steady"}
    for name, cells in rows:
        assert 'data-value="' in cells and ("(+" in cells or "(−" in cells), name
    muted = [name for name, cells in rows if 'class="muted"' in cells]
    assert len(muted) == len(steady) > 0
    for r in data:   # the interval holds the estimate
        assert float(r["relative_low"]) < float(r["relative"]) < float(r["relative_high"])


def test_every_chart_has_a_description_from_its_data(built_site: BuiltSite) -> None:
    for page in built_site.out.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        for label in re.findall(r'<div class="chart[^"]*" id="[^"]+" data-figure="[^"]+"[^>]*aria-label="([^"]+)"', html):
            assert re.search(r"\d", label), (page.name, label)
        assert 'role="img"' not in html   # a chart holds Plotly's controls: a figure, not an image
    index = unescape(_html(built_site, "index.html"))
    assert re.search(r"From 2020 to 2025, \d+ topics grew and \d+ shrank beyond their 90% intervals\. Largest gains:",
                     index)


def test_representative_papers_show_why_they_are_here(built_site: BuiltSite) -> None:
    page = _html(built_site, "topic-language_model.html")
    blocks = re.findall(r'<details class="evidence">(.*?)</details>', page, re.S)
    assert len(blocks) == 9   # the fixture's language-model papers
    first = blocks[0]
    assert "Score for Language Model</dt><dd>0.99 (combined)" in first
    assert re.findall(r"<mark>([^<]+)</mark>", first) == ["instruction tuning", "large language models"]
    terms = re.search(r"Strongest terms</dt><dd>([^<]+)</dd>", first).group(1)
    assert terms != "–" and ("language" in terms or "instruction" in terms or "tuning" in terms)
    # a paper's other topics link to their pages
    digest = _html(built_site, "topic-dialogue.html")
    assert "Why is this paper here?" in digest


def test_evidence_without_a_model_file_keeps_the_rules_and_says_why(synthetic_wh, tmp_path: Path) -> None:
    (synthetic_wh.settings.models_dir / "v-test" / "classifier.joblib").unlink()
    build_site(synthetic_wh, out_dir=tmp_path / "site", generated_at=GENERATED_AT)
    page = _html(tmp_path / "site", "topic-language_model.html")
    first = re.findall(r'<details class="evidence">(.*?)</details>', page, re.S)[0]
    assert "<mark>instruction tuning</mark>" in first and "Strongest terms</dt><dd>–</dd>" in first
    assert "classifier.joblib is missing" in first


def test_whats_new_lists_the_last_week_by_topic(built_site: BuiltSite) -> None:
    page = unescape(_html(built_site, "whats-new.html"))
    sections = dict(re.findall(r'<section class="card" id="whats-new-([a-z_-]+)">\s*<h2>[^<]+\((\d+)\)</h2>', page))
    assert sections == {"language_model": "2", "dialogue": "2", "protein": "1", "no-topic": "2"}
    language = re.search(r'id="whats-new-language_model">(.*?)</section>', page, re.S).group(1)
    titles = re.findall(r'class="title"[^>]*>([^<]+)</a>', language)
    assert titles == [DIGEST[0][0], DIGEST[1][0]]   # best score first
    assert "also: Dialogue" in language
    assert "14 Nov 2026 – 20 Nov 2026" in page
    index = _html(built_site, "index.html")
    assert 'href="whats-new.html"' in index and "7 papers" in index


def test_without_estimates_the_site_shows_plain_numbers(tmp_path: Path) -> None:
    wh = write_synthetic_warehouse(tmp_path / "home", estimates=False)
    summary = build_site(wh, out_dir=tmp_path / "site", generated_at=GENERATED_AT)
    assert summary.pages == 19
    index = unescape(_html(tmp_path / "site", "index.html"))
    block = re.search(r'<section class="findings".*?</section>', index, re.S).group(0)
    assert "Largest changes in 2026" in block and "no change is tested" in block and "90%" not in block
    figure = _figure(_html(tmp_path / "site", "index.html"), "overview-growth-heatmap")
    assert len(figure["data"]) == 1   # no grey layer: nothing was tested
    panel = _figure(_html(tmp_path / "site", "index.html"), "overview-monthly-papers-1")
    assert [t["name"] for t in panel["data"]] == ["Data", "open month so far (partial)"]
    topic = _figure(_html(tmp_path / "site", "topic-data.html"), "topic-data-monthly")
    assert "corrected estimate" not in {t["name"] for t in topic["data"]}
    coverage = _html(tmp_path / "site", "coverage.html")
    assert "No intervals yet." in coverage


def test_change_between_combines_the_two_years_conservatively() -> None:
    years = pl.DataFrame({"topic": ["a", "a", "b", "b"], "year": [2020, 2021] * 2,
                          "est": [100.0, 150.0, 10.0, 30.0], "low": [90.0, 135.0, 5.0, 20.0],
                          "high": [110.0, 165.0, 15.0, 40.0]})
    change = estimates.change_between(years, 2020, 2021).to_dicts()
    a, b = change
    assert a["change"] == 50 and a["change_low"] < 50 < a["change_high"] and a["trend"] == "growing"
    half = ((10 / 1.6448536) ** 2 + (15 / 1.6448536) ** 2) ** 0.5 * 1.6448536
    assert a["change_low"] == pytest.approx(50 - half) and a["relative"] == pytest.approx(0.5)
    assert a["relative_low"] < 0.5 < a["relative_high"]
    assert b["relative"] is None and b["change"] == 20   # a base under 20 papers gives no percentage


def test_wording_of_growth() -> None:
    assert growth_phrase(0.38, 0.3, 0.47, "growing") == "grew 38% (90%: 30–47%)"
    assert growth_phrase(-0.12, -0.19, -0.05, "shrinking") == "fell 12% (90%: 5.0–19%)"
    assert growth_phrase(0.04, -0.03, 0.11, "steady") == "held steady (+4.0%, 90%: −3.0% to +11%)"
    assert growth_phrase(0.04, None, None, None) == "changed +4.0% (no interval)"
    assert pct(-0.5, signed=True) == "−50%" and pct(0.123) == "12%"
