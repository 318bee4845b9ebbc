"""Shared test helpers: where ../shared/data is, and how its absence is reported."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import fsspec
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED = Path(os.environ.get("ARXIV_TRENDS_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path under ../shared; skips the test when it is absent, fails under ARXIV_TRENDS_REQUIRE_SHARED=1."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"real data not found at {path} (tests expect ../shared beside the project)"
        if os.environ.get("ARXIV_TRENDS_REQUIRE_SHARED") == "1":
            pytest.fail(reason + "; ARXIV_TRENDS_REQUIRE_SHARED=1 makes this an error")
        pytest.skip(reason)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh, empty data root."""
    return tmp_path / "home"


@pytest.fixture
def local_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The local working folder of URL data roots in this test."""
    monkeypatch.setenv("ARXIV_TRENDS_LOCAL_HOME", str(tmp_path / "local"))
    return tmp_path / "local"


@pytest.fixture
def memory_url(local_home: Path):
    """A fresh ``memory://`` data root (removed afterwards: the memory filesystem is process-global)."""
    name = f"arxiv-trends-test-{uuid.uuid4().hex[:12]}"
    yield f"memory://{name}"
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{name}"):
        fs.rm(f"/{name}", recursive=True)
