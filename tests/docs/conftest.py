"""The README's quick start and tour, run as a new user would, in a project layout of their own on a slice of the
real corpus; the notebook then reads the warehouse they built."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# the README's sample corpus, cut to the first lines of two real files (one cs listing of 2025-26, one of
# 2022-24): enough for every step, one model fit of a few minutes on 2 cores
SLICE = {"daily_arxiv_cs_2025_2026-part02.jsonl.gz": 1500, "arxivdaily_api_snapshots_2022_2024.jsonl.gz": 1500}
SECTIONS = ("Quick start", "A five-minute tour")


def readme_blocks(*sections: str) -> list[tuple[str, str, str]]:
    """(section, language, code) of every fenced block under the level-2 headings ``sections``, in order."""
    out, section = [], None
    for part in re.split(r"^(## .*)$", README.read_text(encoding="utf-8"), flags=re.M):
        if part.startswith("## "):
            section = part[3:].strip()
        elif section in sections:
            out += [(section, lang, code) for lang, code in re.findall(r"^```(\w*)\n(.*?)^```", part, flags=re.M | re.S)]
    return out


@dataclass
class Tour:
    project: Path             # the new user's clone: .venv, Makefile, data/ ...
    home: Path                # its data root (./data)
    ran: list[tuple[str, str]] = field(default_factory=list)   # (command, output) in order


def _project(tmp: Path) -> Path:
    """A clone as the README assumes it: the project with ../shared/data/arxiv beside it (here: the slice)."""
    arxiv = tmp / "shared" / "data" / "arxiv"
    arxiv.mkdir(parents=True)
    for name, lines in SLICE.items():
        with gzip.open(shared_path("data", "arxiv", name), "rt", encoding="utf-8") as src, \
                gzip.open(arxiv / name, "wt", encoding="utf-8") as dst:
            dst.writelines(line for _, line in zip(range(lines), src))
    project = tmp / "project"
    project.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements", "examples"):
        (project / name).symlink_to(ROOT / name)
    (project / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the venv running these tests
    return project


def _shell(command: str, project: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(["bash", "-c", f"set -euo pipefail\n{command}"], cwd=project, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
    assert proc.returncode == 0, f"README command failed ({proc.returncode}): {command}\n{proc.stdout[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="session")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Tour:
    """Every code block of the README's quick start and tour, in order, in a fresh project layout.

    Run as written, except: ``make test`` is the command running this test, so it is only dry-run (``make -n``);
    ``make`` never reinstalls (``-o .venv/.installed``: the venv is the one running the tests); arXiv's host is
    made unresolvable (``ARXIV_HOST``), so ``make run`` takes its documented offline path instead of harvesting;
    ``xdg-open`` is replaced by a check that the file exists; a config file shown is checked by ``arxiv-trends
    config --config`` reading it.
    """
    project = _project(tmp_path_factory.mktemp("readme"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARXIV_TRENDS_", "PREFECT_"))}
    env.update({"ARXIV_HOST": "arxiv-host.invalid", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "PATH": f"{project / '.venv' / 'bin'}:{env.get('PATH', '')}"})
    result = Tour(project=project, home=project / "data")
    blocks = readme_blocks(*SECTIONS)
    assert {section for section, _, _ in blocks} == set(SECTIONS), "the README lost a quick-start section"
    for _section, lang, code in blocks:
        if lang == "python":
            result.ran.append((code, _shell(f".venv/bin/python - <<'PY'\n{code}\nPY", project, env)))
            continue
        if lang == "toml":  # a config file shown: it must be one `arxiv-trends config` accepts
            shown = project / f"shown-{len(result.ran)}.toml"
            shown.write_text(code, encoding="utf-8")
            result.ran.append((code, _shell(f".venv/bin/arxiv-trends --config {shown} config", project, env)))
            continue
        for line in code.splitlines():
            command = line.split("  #")[0].strip()
            if not command or command.startswith("#"):
                continue
            if command.startswith("xdg-open "):
                target = project / command.split(maxsplit=1)[1]
                assert target.is_file(), f"{command}: {target} is missing"
                result.ran.append((command, ""))
                continue
            if command.startswith("make "):
                command = command.replace("make ", "make -o .venv/.installed ", 1)
            if command == "make -o .venv/.installed test":
                command = "make -o .venv/.installed -n test"
            result.ran.append((command, _shell(command, project, env)))
    return result
