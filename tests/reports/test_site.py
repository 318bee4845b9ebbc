"""The site as files: pages, links, offline assets, CSVs, escaping, reproducibility and the atomic swap."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports import ReportError, build_site
from tests.reports.conftest import GENERATED_AT, BuiltSite
from tests.reports.synthetic import HOSTILE_AUTHOR, HOSTILE_LABEL, HOSTILE_TITLES, TOPICS, write_synthetic_warehouse
from warehouse.state import last_runs


class _Refs(HTMLParser):
    """Collects every href/src and inline script of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.refs.append(value)
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")
        if tag == "script":
            self.scripts.append(dict(attrs))


def _parse(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_page_exists_and_links_to_every_other(built_site: BuiltSite) -> None:
    pages = sorted(p.name for p in built_site.out.glob("*.html"))
    expected = sorted(["index.html", "coverage.html", "whats-new.html", *(f"topic-{t}.html" for t in TOPICS)])
    assert pages == expected
    assert built_site.summary.pages == len(expected)
    for page in pages:
        local = {r.split("#")[0] for r in _parse(built_site.out / page).refs if "://" not in r}
        assert set(expected) - {page} <= local, f"{page} misses links"
        for ref in local - {""}:
            assert (built_site.out / ref).is_file(), f"{page} links to missing {ref}"


def test_site_is_offline_with_one_shared_plotly(built_site: BuiltSite) -> None:
    copies = [p for p in built_site.out.rglob("*.js") if "plotly" in p.name]
    assert [p.relative_to(built_site.out).as_posix() for p in copies] == ["assets/plotly.min.js"]
    for page in built_site.out.glob("*.html"):
        parsed = _parse(page)
        remote = [r for r in parsed.refs if "://" in r and not r.startswith("https://arxiv.org/abs/")]
        assert remote == [], f"{page.name} loads {remote}"
        sources = [s.get("src") for s in parsed.scripts if s.get("src")]
        charts = 'data-figure="' in page.read_text(encoding="utf-8")
        tables = 'class="sortable"' in page.read_text(encoding="utf-8")
        assert sources == (["assets/plotly.min.js", "assets/report.js"] if charts else
                           ["assets/report.js"] if tables else []), page.name
        inline = [s for s in parsed.scripts if not s.get("src")]
        assert all(s.get("type") == "application/json" for s in inline), "only data blocks may be inline"
        assert parsed.handlers == []
    css = (built_site.out / "assets" / "report.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css


def test_every_chart_and_table_has_its_csv(built_site: BuiltSite) -> None:
    linked = set()
    for page in built_site.out.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        sections = re.findall(r'<section class="card" id="([^"]+)"', html)
        for figure in re.findall(r'data-figure="fig-([^"]+)"', html):   # a chart, or a panel of small multiples
            assert figure in sections or re.sub(r"-\d+$", "", figure) in sections, (page.name, figure)
        for key in sections:
            assert f'href="data/{key}.csv"' in html
        for name in re.findall(r'href="data/([^"]+\.csv)"', html):
            with (built_site.out / "data" / name).open(encoding="utf-8", newline="") as fh:
                assert next(csv.reader(fh)), f"{name} has no header"
            linked.add(name)
    assert linked == {p.name for p in (built_site.out / "data").glob("*.csv")}
    assert built_site.summary.csv_files == len(linked)


def test_topic_monthly_csv_holds_the_metrics(built_site: BuiltSite) -> None:
    rows = list(csv.DictReader((built_site.out / "data" / "topic-protein-monthly.csv").open(encoding="utf-8")))
    expected = built_site.wh.topic_monthly().query("topic == 'protein'")
    assert len(rows) == len(expected)
    assert [int(r["papers"]) for r in rows] == expected.sort_values("month")["papers"].tolist()
    assert {r["partial"] for r in rows} == {"true", "false"}


def test_hostile_text_is_escaped_everywhere(built_site: BuiltSite) -> None:
    page = (built_site.out / "topic-language_model.html").read_text(encoding="utf-8")
    for title in HOSTILE_TITLES:
        assert title not in page
    assert "&lt;script&gt;window.__xss = 1; alert(1)&lt;/script&gt;" in page
    assert "Closing tags &lt;/div&gt;&lt;/td&gt;&lt;/table&gt; in a title" in page
    assert "LaTeX $\\mathcal{O}(n^2)$ attention &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert HOSTILE_AUTHOR not in page and "&lt;svg onload=" in page
    # Chart JSON may not contain a literal "<" (it could close the script block); labels are entity-escaped.
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, flags=re.S):
        assert "<" not in block and ">" not in block
    assert "\\u0026lt;script\\u0026gt;window.__xss=4\\u0026lt;\\u002fscript\\u0026gt; \\u0026#36;x\\u0026#36;" in page
    assert HOSTILE_LABEL not in (built_site.out / "index.html").read_text(encoding="utf-8")


def test_csv_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    import polars as pl

    from reports.charts import write_csv
    write_csv(pl.DataFrame({"title": ["=HYPERLINK(\"x\")", "@SUM(1)", "plain", None], "n": [-1, 2, 3, 4],
                            "kw": [["a", "b"], [], ["+c"], None]}), tmp_path / "x.csv")
    rows = list(csv.DictReader((tmp_path / "x.csv").open(encoding="utf-8")))
    assert [r["title"] for r in rows] == ["'=HYPERLINK(\"x\")", "'@SUM(1)", "plain", ""]
    assert [r["n"] for r in rows] == ["-1", "2", "3", "4"]
    assert [r["kw"] for r in rows] == ["a; b", "", "'+c", ""]


def test_same_metrics_give_byte_identical_site(built_site: BuiltSite, tmp_path: Path) -> None:
    again = build_site(built_site.wh, out_dir=tmp_path / "again", generated_at=GENERATED_AT)
    assert _digest(tmp_path / "again") == _digest(built_site.out)
    assert again.total_bytes == built_site.summary.total_bytes


def test_another_process_builds_the_same_bytes(built_site: BuiltSite, tmp_path: Path) -> None:
    script = ("import sys; from warehouse import open_warehouse; from reports import build_site; "
              "build_site(open_warehouse(sys.argv[1]), out_dir=sys.argv[2], generated_at=sys.argv[3])")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "POLARS_MAX_THREADS": "1"}
    subprocess.run([sys.executable, "-c", script, str(built_site.wh.settings.home), str(tmp_path / "other"),
                    GENERATED_AT], check=True, env=env, cwd=Path(__file__).resolve().parents[2])
    assert _digest(tmp_path / "other") == _digest(built_site.out)


def test_generation_time_is_the_only_timestamp(built_site: BuiltSite, tmp_path: Path) -> None:
    build_site(built_site.wh, out_dir=tmp_path / "later", generated_at="2027-01-02T03:04:05+01:00")
    before, after = _digest(built_site.out), _digest(tmp_path / "later")
    changed = sorted(k for k in before if before[k] != after[k])
    assert changed == sorted(p.name for p in built_site.out.glob("*.html"))
    old = (built_site.out / "index.html").read_text(encoding="utf-8")
    new = (tmp_path / "later" / "index.html").read_text(encoding="utf-8")
    assert "Generated 2026-11-23 06:00 UTC" in old and "Generated 2027-01-02 02:04 UTC" in new
    assert old.replace("2026-11-23 06:00 UTC", "2027-01-02 02:04 UTC") == new


def test_headlines_and_notes_on_a_full_warehouse(built_site: BuiltSite) -> None:
    index = (built_site.out / "index.html").read_text(encoding="utf-8")
    assert "Papers tracked" in index and "What moved in 2025" in index
    assert "Jan 2019 – Nov 2026" in index and "data through 20 Nov 2026" in index
    assert "Not available yet" not in index
    coverage = (built_site.out / "coverage.html").read_text(encoding="utf-8")
    assert "v-test" in coverage and "macro f1 0.610 (95% CI 0.550–0.670)" in coverage and "2026-11-20" in coverage
    assert "Flagged months (8)" in coverage   # six low-coverage months in 2019, one in 2021, one partial
    assert ('<td>2019-01</td><td>2019-06</td><td class="num" data-value="6.0">6</td><td>low coverage</td>'
            in coverage)
    assert "low_coverage_months: 7 items; months: 95; notes: &lt;b&gt;no&lt;/b&gt; subtopics" in coverage
    assert "recent window is May 2026 – Oct 2026 and the one before Nov 2025 – Apr 2026" in index


def test_missing_optional_tables_render_notes(tmp_path: Path) -> None:
    wh = write_synthetic_warehouse(tmp_path / "home", optional=False, model=False)
    summary = build_site(wh, out_dir=tmp_path / "site", generated_at=GENERATED_AT)
    assert "metrics/topic_cooccurrence" in summary.missing_tables
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "Not available yet: the table metrics/topic_cooccurrence has not been built" in index
    assert "Not available yet: the table metrics/emerging_subtopics" in index
    topic = (tmp_path / "site" / "topic-data.html").read_text(encoding="utf-8")
    assert "Not available yet: the table metrics/subtopic_monthly" in topic
    assert "Not available yet: the table metrics/topic_categories" in topic
    coverage = (tmp_path / "site" / "coverage.html").read_text(encoding="utf-8")
    assert "no evaluation in models/current.json" in coverage
    assert "Flagged months (8)" in coverage   # taken from topic_monthly when coverage_monthly is absent


def test_without_period_keywords_the_hover_uses_overall_keywords(synthetic_wh, tmp_path: Path) -> None:
    (synthetic_wh.settings.warehouse_dir / "subtopic_periods").unlink()   # the table's link: as if never built
    build_site(synthetic_wh, out_dir=tmp_path / "site", generated_at=GENERATED_AT)
    page = (tmp_path / "site" / "topic-language_model.html").read_text(encoding="utf-8")
    assert "per-year keywords are not available yet" in page
    rows = list(csv.DictReader((tmp_path / "site" / "data" / "topic-language_model-subtopics.csv").open()))
    assert {r["keywords"] for r in rows if r["label"] == "llm agents"} == {"agent, tool, planning"}


def test_no_metrics_is_a_clear_error(tmp_path: Path) -> None:
    from warehouse import open_warehouse
    with pytest.raises(ReportError, match="run `arxiv-trends aggregate` first"):
        build_site(open_warehouse(tmp_path / "empty"), out_dir=tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_empty_metrics_are_a_clear_error(synthetic_wh, tmp_path: Path) -> None:
    empty = synthetic_wh.scan("metrics/topic_monthly").head(0).collect()
    synthetic_wh.write_table("metrics/topic_monthly", empty)
    with pytest.raises(ReportError, match="no classified papers"):
        build_site(synthetic_wh, out_dir=tmp_path / "site")


def test_rebuild_replaces_the_old_site_and_records_the_run(synthetic_wh, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(synthetic_wh, out_dir=out, generated_at=GENERATED_AT)
    (out / "stale.html").write_text("old", encoding="utf-8")
    summary = build_site(synthetic_wh, out_dir=out, generated_at=GENERATED_AT)
    assert not (out / "stale.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "site"], "no build or backup folder left"
    run = last_runs(synthetic_wh.settings)["report"]
    assert run["out_dir"] == str(out) and run["pages"] == summary.pages == 19


def test_default_out_dir_is_home_reports(synthetic_wh) -> None:
    summary = build_site(synthetic_wh, generated_at=GENERATED_AT)
    assert Path(summary.out_dir) == synthetic_wh.settings.home / "reports"
    assert (synthetic_wh.settings.home / "reports" / "index.html").is_file()


def test_refuses_to_replace_a_foreign_folder(synthetic_wh, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(ReportError, match="not written by `arxiv-trends report`"):
        build_site(synthetic_wh, out_dir=precious)
    assert (precious / "thesis.tex").read_text(encoding="utf-8") == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "precious"]


def test_failed_build_leaves_the_previous_site(synthetic_wh, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "site"
    build_site(synthetic_wh, out_dir=out, generated_at=GENERATED_AT)
    before = _digest(out)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr("reports.site.write_csv", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_site(synthetic_wh, out_dir=out, generated_at="2030-01-01")
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "site"]


def test_leftovers_of_a_killed_build_are_swept(synthetic_wh, tmp_path: Path) -> None:
    stale = tmp_path / ".site.build-killed"
    stale.mkdir()
    (stale / ".arxiv-trends-report").write_text("", encoding="utf-8")
    unrelated = tmp_path / ".site.build-notes"   # not ours: no marker, so it stays
    unrelated.mkdir()
    build_site(synthetic_wh, out_dir=tmp_path / "site", generated_at=GENERATED_AT)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.build-notes", "home", "site"]


def test_generated_at_must_be_iso(synthetic_wh, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="not an ISO date"):
        build_site(synthetic_wh, out_dir=tmp_path / "site", generated_at="yesterday")
