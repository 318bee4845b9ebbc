"""The site in a real browser: headless Chromium opens every page from file://, as a reader would, on a desktop
and on a 390 px phone, and axe-core checks it for accessibility.

Skips with the reason when Playwright, axe (``axe-playwright-python``) or a Chromium binary is missing (``make test``
installs Debian's ``chromium``; set ``ARXIV_TRENDS_CHROMIUM`` to use another binary). Every run checks the site built
from the synthetic warehouse; ``ARXIV_TRENDS_REPORT_SITE=DIR`` adds a site built elsewhere (e.g. from the real
corpus) to the same checks. Screenshots go to ``tests/artifacts/<site>/`` (the README's come from the real site).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.reports.conftest import BuiltSite
from tests.reports.synthetic import HOSTILE_AUTHOR, HOSTILE_LABEL, HOSTILE_TITLES

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")


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


@dataclass(frozen=True)
class Site:
    name: str
    out: Path
    charts: int | None = None   # how many figures the build reported


@pytest.fixture(params=["synthetic", "given"])
def site(request, built_site: BuiltSite) -> Site:
    """The synthetic site, and the one named by ARXIV_TRENDS_REPORT_SITE (skipped when unset)."""
    if request.param == "synthetic":
        return Site("synthetic", built_site.out, built_site.summary.charts)
    given = os.environ.get("ARXIV_TRENDS_REPORT_SITE")
    if not given:
        pytest.skip("ARXIV_TRENDS_REPORT_SITE is not set (a site built from the real corpus, for its screenshots)")
    if not (Path(given) / "index.html").is_file():
        pytest.fail(f"ARXIV_TRENDS_REPORT_SITE={given} holds no index.html")
    return Site("real", Path(given))


def _watched_page(browser, problems: list[str], viewport: dict[str, int] = DESKTOP):
    """A tab that records console errors and warnings, page errors, dialogs and any non-file request.

    Tests navigate one tab from page to page: Chromium then reuses its compiled plotly.js.
    """
    page = browser.new_page(viewport=viewport)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else problems.append(f"request: {r.url}"))
    return page


def _goto(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_function('Array.from(document.querySelectorAll("div.chart")).every(d => d.dataset.rendered)',
                           timeout=60_000)


_CHART_STATE = """() => Array.from(document.querySelectorAll("div.chart")).map(div => ({
    id: div.id,
    rendered: div.getAttribute("data-rendered") === "true",
    traces: JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent).data.length,
    plotted: (div._fullData || []).length,
    drawn: div.querySelectorAll("g.trace, g.hm").length,
    marks: div.querySelectorAll("g.trace path, g.hm image").length,
    height: div.getBoundingClientRect().height,
    label: div.getAttribute("aria-label") || "",
}))"""

# Wider than the screen: the page scrolls sideways, or an element sticks out of the viewport (wide tables and the
# topic strip scroll sideways inside their own box on a phone).
_OVERFLOW = """() => ({
    scroll: document.documentElement.scrollWidth - window.innerWidth,
    wide: Array.from(document.querySelectorAll("main *, header *")).filter(el => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.right > window.innerWidth + 1 && !el.closest(".table-wrap, nav.topics");
    }).slice(0, 5).map(el => el.tagName + "." + el.className),
})"""

SHOTS = {"index.html": "overview", "topic-language_model.html": "topic"}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_renders_every_chart_without_errors(browser, site: Site, viewport) -> None:
    pages = sorted(site.out.glob("*.html"))
    assert len(pages) == 19
    total, problems = 0, []
    page = _watched_page(browser, problems, viewport)
    shots = ARTIFACTS / site.name
    shots.mkdir(parents=True, exist_ok=True)
    for path in pages:
        _goto(page, path)
        charts = page.evaluate(_CHART_STATE)
        for chart in charts:
            assert chart["rendered"] and chart["traces"] > 0, (path.name, chart)
            assert chart["plotted"] == chart["traces"] == chart["drawn"], (path.name, chart)
            assert chart["marks"] > 0 and chart["height"] >= 140, (path.name, chart)
            assert any(ch.isdigit() for ch in chart["label"]), (path.name, chart["id"], "no data in its description")
        total += len(charts)
        overflow = page.evaluate(_OVERFLOW)
        assert overflow["scroll"] <= 0 and overflow["wide"] == [], (path.name, viewport, overflow)
        if path.name in SHOTS:
            suffix = "" if viewport is DESKTOP else "-phone"
            page.evaluate("() => { const d = document.querySelector('details.evidence'); if (d) d.open = true; }")
            page.screenshot(path=str(shots / f"{SHOTS[path.name]}{suffix}.png"), full_page=True)
        assert problems == [], f"{path.name}: {problems}"
    page.close()
    if site.charts is not None:
        assert total == site.charts
    assert (shots / ("overview.png" if viewport is DESKTOP else "overview-phone.png")).stat().st_size > 30_000


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violations(browser, site: Site, viewport) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="axe-playwright-python is not installed (pip install -e .[dev])")
    axe = axe_module.Axe()
    problems: list[str] = []
    page = _watched_page(browser, problems, viewport)
    names = sorted(p.name for p in site.out.glob("*.html"))
    if viewport is PHONE:   # the phone layout differs by page kind, not by topic
        names = [n for n in names if not n.startswith("topic-")] + ["topic-language_model.html"]
    found = []
    for name in names:
        _goto(page, site.out / name)
        for tab in page.locator("[role=tab]").all():   # check the table views too
            tab.click()
            found += _serious(axe.run(page).response, name)
        if not page.locator("[role=tab]").count():
            found += _serious(axe.run(page).response, name)
    page.close()
    # axe fetches the stylesheets itself, which the CSP refuses and logs (console errors of axe's, not the site's:
    # the rendering test above holds the site to a clean console); page errors and requests still count
    problems = [p for p in problems if not p.startswith("console ")]
    assert found == [] and problems == [], "\n".join(found + problems)


def _serious(response: dict, page: str) -> list[str]:
    return [f"{page}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in response["violations"] if v.get("impact") in SERIOUS]


def test_keyboard_reaches_tabs_sorting_and_axis_switch(browser, built_site: BuiltSite) -> None:
    problems: list[str] = []
    page = _watched_page(browser, problems)
    _goto(page, built_site.out / "index.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Chart/Table tabs: arrow keys switch, the table view shows, the chart view hides.
    page.focus("#tab-chart-overview-monthly-papers")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-table-overview-monthly-papers"
    assert page.locator("#view-table-overview-monthly-papers").is_visible()
    assert not page.locator("#view-chart-overview-monthly-papers").is_visible()
    # Sorting by a column from the keyboard: "papers" of the last year, descending on the second press.
    table = "#view-table-overview-monthly-papers table"
    button = page.locator(f"{table} th >> nth=2").locator("button")
    button.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.locator(f"{table} th >> nth=2").get_attribute("aria-sort") == "descending"
    values = [float(v) for v in page.locator(f"{table} tbody td:nth-child(3)").evaluate_all(
        "cells => cells.map(c => c.getAttribute('data-value'))")]
    assert values == sorted(values, reverse=True) and len(values) == 16
    # The y-axis switch: "each its own" lets every small chart scale to its own data.
    page.keyboard.press("ArrowLeft")   # no effect on a table button; go back to the chart with the tabs
    page.focus("#tab-table-overview-monthly-papers")
    page.keyboard.press("Home")
    shared = page.evaluate("document.getElementById('chart-overview-monthly-papers-1').layout.yaxis.range[1]")
    page.focus("#overview-monthly-papers .controls button >> nth=1")
    page.locator("#overview-monthly-papers .controls button >> nth=1").press("Enter")
    page.wait_for_function("document.getElementById('chart-overview-monthly-papers-1').layout.yaxis.autorange")
    own = page.evaluate("document.getElementById('chart-overview-monthly-papers-1').layout.yaxis.range[1]")
    assert own < shared
    assert page.locator("#overview-monthly-papers .controls button >> nth=1").get_attribute("aria-pressed") == "true"
    page.close()
    assert problems == []


def test_links_between_pages_work_from_file_urls(browser, built_site: BuiltSite) -> None:
    problems: list[str] = []
    page = _watched_page(browser, problems)
    _goto(page, built_site.out / "index.html")
    page.click("nav.topics >> text=Protein Research")
    page.wait_for_load_state("load")
    assert page.url.endswith("/topic-protein.html") and page.locator("h1").inner_text() == "Protein Research"
    page.click("header >> text=What's new")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "What's new on arXiv in these topics"
    page.click("header >> text=Data coverage")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "How far to trust the curves"
    page.close()
    assert problems == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("strip_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_hostile_titles_render_as_text_and_run_no_script(browser, built_site: BuiltSite, tmp_path: Path,
                                                         strip_csp: bool, viewport) -> None:
    source = built_site.out / "topic-language_model.html"
    target = source
    if strip_csp:  # the page's CSP is a second line of defence; escaping must hold on its own
        html = source.read_text(encoding="utf-8")
        start = html.index('<meta http-equiv="Content-Security-Policy"')
        target = built_site.out / f"no-csp-test-{viewport['width']}.html"
        target.write_text(html[:start] + html[html.index(">", start) + 1:], encoding="utf-8")
    problems: list[str] = []
    try:
        page = _watched_page(browser, problems, viewport)
        _goto(page, target)
        page.hover("ol.papers a.title >> nth=0")
        for details in page.locator("ol.papers details").all():
            details.evaluate("d => d.open = true")
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
