"""The site in a real browser: headless Chromium opens every page from file://, as a reader would.

Skips with the reason when Playwright or a Chromium binary is missing (``make test`` installs Debian's
``chromium``; set ``ARXIV_TRENDS_CHROMIUM`` to use another binary).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.reports.conftest import BuiltSite
from tests.reports.synthetic import HOSTILE_AUTHOR, HOSTILE_LABEL, HOSTILE_TITLES

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> tuple[str | None, str]:
    """The browser binary, or None and why there is none."""
    explicit = os.environ.get("ARXIV_TRENDS_CHROMIUM")
    if explicit:
        return (explicit, "") if Path(explicit).is_file() else (None, f"ARXIV_TRENDS_CHROMIUM={explicit} is not a file")
    found = next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)
    return found, "" if found else "no Chromium found (apt-get install -y chromium, or set ARXIV_TRENDS_CHROMIUM)"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    executable, why = _chromium()
    if executable is None:
        pytest.skip(why)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        yield chromium
        chromium.close()


def _watched_page(browser, problems: list[str]):
    """A tab that records console errors and warnings, page errors, dialogs and any non-file request.

    Tests navigate one tab from page to page: Chromium then reuses its compiled plotly.js.
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else problems.append(f"request: {r.url}"))
    return page


def _goto(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_function('Array.from(document.querySelectorAll("div.chart")).every(d => d.dataset.rendered)',
                           timeout=30_000)


_CHART_STATE = """() => Array.from(document.querySelectorAll("div.chart")).map(div => ({
    id: div.id,
    rendered: div.getAttribute("data-rendered") === "true",
    traces: JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent).data.length,
    plotted: (div._fullData || []).length,
    drawn: div.querySelectorAll("g.trace, g.hm").length,
    marks: div.querySelectorAll("g.trace path, g.hm image").length,
    height: div.getBoundingClientRect().height,
}))"""


def test_every_page_renders_every_chart_without_errors(browser, built_site: BuiltSite) -> None:
    pages = sorted(built_site.out.glob("*.html"))
    assert len(pages) == 18
    total, problems = 0, []
    page = _watched_page(browser, problems)
    for path in pages:
        _goto(page, path)
        charts = page.evaluate(_CHART_STATE)
        assert charts, f"{path.name} has no chart"
        for chart in charts:
            assert chart["rendered"] and chart["traces"] > 0, (path.name, chart)
            assert chart["plotted"] == chart["traces"] == chart["drawn"], (path.name, chart)
            assert chart["marks"] > 0 and chart["height"] >= 300, (path.name, chart)
        total += len(charts)
        if path.name == "index.html":
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
        assert problems == [], f"{path.name}: {problems}"
    page.close()
    assert total == built_site.summary.charts
    assert (ARTIFACTS / "overview.png").stat().st_size > 50_000


def test_links_between_pages_work_from_file_urls(browser, built_site: BuiltSite) -> None:
    problems: list[str] = []
    page = _watched_page(browser, problems)
    _goto(page, built_site.out / "index.html")
    page.click("nav.topics >> text=Protein Research")
    page.wait_for_load_state("load")
    assert page.url.endswith("/topic-protein.html") and page.locator("h1").inner_text() == "Protein Research"
    page.click("header >> text=Data coverage")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "How far to trust the curves"
    page.close()
    assert problems == []


@pytest.mark.parametrize("strip_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_hostile_titles_render_as_text_and_run_no_script(browser, built_site: BuiltSite, tmp_path: Path,
                                                         strip_csp: bool) -> None:
    source = built_site.out / "topic-language_model.html"
    target = source
    if strip_csp:  # the page's CSP is a second line of defence; escaping must hold on its own
        html = source.read_text(encoding="utf-8")
        start = html.index('<meta http-equiv="Content-Security-Policy"')
        target = built_site.out / "no-csp-test.html"
        target.write_text(html[:start] + html[html.index(">", start) + 1:], encoding="utf-8")
    problems: list[str] = []
    try:
        page = _watched_page(browser, problems)
        _goto(page, target)
        page.hover("ol.papers a.title >> nth=0")
        assert page.evaluate("typeof window.__xss") == "undefined"
        titles = page.locator("ol.papers a.title").all_inner_texts()
        assert titles[:len(HOSTILE_TITLES)] == HOSTILE_TITLES
        assert HOSTILE_AUTHOR in page.locator("ol.papers .meta >> nth=0").inner_text()
        legend = page.locator("#chart-topic-language_model-subtopics .legendtext").all_text_contents()
        assert HOSTILE_LABEL in legend
        page.evaluate("""() => {
            const gd = document.getElementById("chart-topic-language_model-subtopics");
            const curve = gd.data.findIndex(trace => trace.name.includes("xss=4"));
            Plotly.Fx.hover(gd, [{curveNumber: curve, pointNumber: 2}]);
        }""")
        hover = page.locator("#chart-topic-language_model-subtopics .hoverlayer").text_content()
        assert HOSTILE_LABEL in hover and 'keywords: <b>kw</b>-2021, "quoted", &amp;' in hover
        assert page.locator("ol.papers script, ol.papers img, ol.papers svg, main b").count() == 0
        page.close()
    finally:
        if strip_csp:
            target.unlink()
    assert problems == []
