"""Fixtures for the flow tests: Prefect's test harness, a small real corpus, a backfilled warehouse."""

from __future__ import annotations

import atexit
import gzip
import shutil
import tempfile
from pathlib import Path

import pytest

from flows import prefect_env
from tests.conftest import shared_path
from warehouse.settings import Settings

# Prefect reads its settings at import: point PREFECT_HOME (results, caches) at a throw-away folder first.
_PREFECT_ROOT = tempfile.mkdtemp(prefix="arxiv-trends-prefect-")
prefect_env.configure(Settings.from_home(_PREFECT_ROOT))
atexit.register(shutil.rmtree, _PREFECT_ROOT, ignore_errors=True)

# First lines of a few real files: cs papers from 2020-2026 plus a mixed 2023 set (2,000 records).
CORPUS = {
    "daily_arxiv_cs_2025_2026-part02.jsonl.gz": 800,
    "arxiver_api_2025-03_on.jsonl.gz": 400,
    "arxivdaily_rss_cs_2020_2021.jsonl.gz": 500,
    "ethan_povlot_2023.jsonl.gz": 300,
}


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole session (its start-up costs 15-25 s on 2 cores)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Small gzip JSON-lines files cut from ../shared/data/arxiv (one per source file)."""
    folder = tmp_path_factory.mktemp("corpus")
    out = []
    for name, lines in CORPUS.items():
        target = folder / name
        with gzip.open(shared_path("data", "arxiv", name), "rt", encoding="utf-8") as src, \
                gzip.open(target, "wt", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= lines:
                    break
                dst.write(line)
        out.append(target)
    return out


@pytest.fixture(scope="session")
def backfilled(tmp_path_factory: pytest.TempPathFactory, corpus: list[Path]) -> Path:
    """A data root holding the corpus (backfilled with the plain library, no Prefect); copy before writing."""
    from warehouse import open_warehouse
    from warehouse.backfill import backfill_paths

    home = tmp_path_factory.mktemp("backfilled") / "home"
    backfill_paths(open_warehouse(home), corpus, progress=False)
    return home


@pytest.fixture(scope="session")
def extra_papers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 real records from a file the corpus does not use: new papers for a classified warehouse."""
    target = tmp_path_factory.mktemp("extra") / "extra.jsonl.gz"
    with gzip.open(shared_path("data", "arxiv", "arxiv_daily_reporter_2024-12_2025-02.jsonl.gz"), "rt",
                   encoding="utf-8") as src, gzip.open(target, "wt", encoding="utf-8") as dst:
        dst.writelines(line for _, line in zip(range(100), src))
    return target


@pytest.fixture(scope="session")
def classified(prefect_harness, backfilled: Path, tmp_path_factory: pytest.TempPathFactory,
               pytestconfig: pytest.Config):
    """``classify_flow`` run once on a copy of the backfilled corpus: it fits the model (the costly part of
    the session: minutes on 2 cores), so the other tests start from a copy of its result."""
    from flows import steps
    from flows.pipeline import classify_flow
    from tests.flows.helpers import run_flow

    reason = steps.missing("classify", "load_model", "predict_frame")
    if reason:
        pytest.skip(f"library entry point missing: {reason}")
    home = copy_home(backfilled, tmp_path_factory.mktemp("classified") / "home")
    embedder = _cached_fast_embedder(pytestconfig, Settings.from_home(home))
    result, run_id = run_flow(classify_flow, home=str(home))
    embedder()
    return home, result, run_id


@pytest.fixture(scope="session")
def aggregated(classified, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The classified corpus with its metrics too: every kind of table there is (copy before writing)."""
    from analytics.metrics import aggregate
    from warehouse import open_warehouse

    home = copy_home(classified[0], tmp_path_factory.mktemp("aggregated") / "home")
    aggregate(open_warehouse(home))
    return home


def _cached_fast_embedder(config: pytest.Config, settings: Settings):
    """Reuse the distilled fast embedder between sessions (pytest's cache): distilling it takes from 20 s
    to minutes on a busy 2-core machine. Its folder name is its version (model and recipe), so a changed
    recipe is a different folder. Returns the function that stores a newly distilled one."""
    from analytics.embeddings.registry import fast_model_dir

    folder = fast_model_dir(settings)
    cached = config.cache.mkdir("arxiv-trends-embedders") / folder.name
    if (cached / "model.safetensors").exists():
        shutil.copytree(cached, folder)

    def store() -> None:
        if (folder / "model.safetensors").exists() and not cached.exists():
            shutil.copytree(folder, cached)

    return store


def copy_home(source: Path, target: Path) -> Path:
    """A private copy of a data root (table links are relative, so they keep pointing inside the copy)."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("prefect"))
    return target


@pytest.fixture
def home_copy(backfilled: Path, tmp_path: Path) -> Path:
    """A backfilled data root, not classified."""
    return copy_home(backfilled, tmp_path / "home")


@pytest.fixture
def classified_copy(classified, tmp_path: Path) -> Path:
    """A backfilled and classified data root (model fitted)."""
    return copy_home(classified[0], tmp_path / "home")
