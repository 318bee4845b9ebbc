"""Assembling the static site: render every page into a fresh folder next to the target, then swap it in.

A reader (or a web server) therefore sees the old site or the new one, never a half-written mixture.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import plotly
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from reports.charts import Link, Num, write_csv
from reports.inputs import ReportError, load_inputs
from reports.pages import Page, all_pages, topic_filename
from warehouse.api import Warehouse
from warehouse.state import record_run

MARKER = ".arxiv-trends-report"  # only a folder holding this file is ever replaced by a new build
ASSETS = ("report.css", "report.js")
_RENAME_EXCHANGE = 2


@dataclass
class ReportSummary:
    """What a build produced (for ``--json``, ``state/runs.json`` and the Prefect artifact)."""

    out_dir: str
    generated_at: str
    pages: int
    charts: int
    csv_files: int
    files: int
    total_bytes: int
    seconds: float
    missing_tables: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cell(value: str | Link | Num) -> Markup | str:
    if isinstance(value, Link):
        return Markup('<a href="{}">{}</a>').format(value.href, value.text)
    if isinstance(value, Num):
        return Markup('<span class="muted">{}</span>').format(value.text) if value.muted else value.text
    return value


def _cell_attrs(value: str | Link | Num) -> Markup:
    """A sortable cell's value for the table sorter (``data-value``); text cells sort by their text."""
    if isinstance(value, Num) and value.value is not None:
        return Markup(' data-value="{}"').format(repr(float(value.value)))
    return Markup("")


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=True, undefined=StrictUndefined,
                      keep_trailing_newline=True)
    env.globals["cell"] = _cell
    env.globals["cell_attrs"] = _cell_attrs
    return env


def parse_generated_at(value: str | datetime | None) -> str:
    """The footer's generation time as ``YYYY-MM-DD HH:MM UTC`` (now when not given; naive means UTC)."""
    if value is None:
        moment = datetime.now(timezone.utc)
    elif isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ReportError(f"--generated-at {value!r} is not an ISO date/time (e.g. 2026-11-23T06:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _prepare_target(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier report (``--out ~`` must not wipe a home)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ReportError(f"{out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ReportError(f"{out} is not empty and was not written by `arxiv-trends report`; "
                          "choose another --out or empty it first")


def _sweep_stale(out: Path) -> None:
    """Remove build or backup folders a killed earlier run left next to ``out`` (we hold the lock: none is live)."""
    for pattern in (f".{out.name}.build-*", f".{out.name}.old-*"):
        for stale in out.parent.glob(pattern):
            if stale.is_dir() and (stale / MARKER).exists():
                shutil.rmtree(stale, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _swap_in(build: Path, out: Path) -> None:
    """Put ``build`` at ``out``; the old site (if any) is removed only once the new one is in place."""
    if not out.exists():
        os.rename(build, out)
        return
    if _exchange(build, out):
        shutil.rmtree(build)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)
    os.rename(build, out)
    shutil.rmtree(old)


def _write_assets(folder: Path) -> None:
    assets = folder / "assets"
    assets.mkdir()
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", assets / "plotly.min.js")
    for name in ASSETS:
        (assets / name).write_bytes(resources.files("reports").joinpath("assets", name).read_bytes())


def _render(folder: Path, pages: list[Page], topics: list[tuple[str, str]], generated_at: str) -> None:
    template = _environment().get_template("base.html.j2")
    topic_links = [Link(name, topic_filename(tid)) for tid, name in topics]
    for page in pages:
        html = template.render(page=page, topic_links=topic_links, generated_at=generated_at)
        (folder / page.filename).write_text(html, encoding="utf-8")
        for item in [*page.downloads, *(c.table for c in page.charts if c.table)]:
            write_csv(item.data, folder / item.csv_name)


def build_site(wh: Warehouse, out_dir: str | os.PathLike | None = None,
               generated_at: str | datetime | None = None) -> ReportSummary:
    """Render the whole site from the metrics into ``out_dir`` (default ``<home>/reports``), atomically."""
    started = time.perf_counter()
    out = Path(out_dir).expanduser().resolve() if out_dir is not None else wh.settings.reports_dir
    stamp = parse_generated_at(generated_at)
    with wh.lock(wait=30):
        _prepare_target(out)
        inputs = load_inputs(wh)
        pages = all_pages(inputs)
        out.parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale(out)
        build = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
        try:
            (build / MARKER).write_text("built by arxiv-trends report\n", encoding="utf-8")
            _write_assets(build)
            _render(build, pages, [(t, inputs.name(t)) for t in inputs.topics], stamp)
            build.chmod(0o755)  # mkdtemp makes it private; a site is meant to be read
            files = [p for p in build.rglob("*") if p.is_file()]
            summary = ReportSummary(
                out_dir=str(out), generated_at=stamp, pages=len(pages),
                charts=sum(p.figure_count for p in pages),
                csv_files=sum(1 for p in files if p.suffix == ".csv"), files=len(files),
                total_bytes=sum(p.stat().st_size for p in files), seconds=0.0,
                missing_tables=inputs.missing)
            _swap_in(build, out)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        summary.seconds = round(time.perf_counter() - started, 2)
        record_run(wh.settings, "report", out_dir=summary.out_dir, pages=summary.pages, charts=summary.charts,
                   total_bytes=summary.total_bytes, seconds=summary.seconds)
    return summary
