"""The README's quick start and five-minute tour run as written (``tests/docs/conftest.py`` runs them)."""

from __future__ import annotations

import re

from tests.docs.conftest import SECTIONS, readme_blocks


def test_every_quick_start_block_runs_and_does_what_the_readme_says(tour):
    commands = [command for command, _ in tour.ran]
    assert any(c.startswith("make -o .venv/.installed run") for c in commands)
    assert "make -o .venv/.installed -n test" in commands
    output = dict(tour.ran)
    run = next(out for c, out in tour.ran if c.startswith("make -o .venv/.installed run"))
    assert "empty warehouse: importing the sample corpus" in run and "running offline with --no-harvest" in run
    assert (tour.home / "reports" / "index.html").is_file()
    assert (tour.home / "warehouse" / "metrics" / "topic_monthly").exists()
    # every command and Python block of the two sections ran, none skipped
    blocks = readme_blocks(*SECTIONS)
    shown = [line for _, lang, code in blocks if lang not in ("python", "toml")
             for line in code.splitlines() if line.split("  #")[0].strip() and not line.startswith("#")]
    assert len([c for c in commands if "\n" not in c]) == len(shown)
    whole = [code for _, lang, code in blocks if lang in ("python", "toml")]
    assert whole and all(output[code].strip() for code in whole), "each Python block prints, each file is read"
    shown_file = next(output[code] for _, lang, code in blocks if lang == "toml")
    assert re.search(r"^report\.title +Language and learning on arXiv +file$", shown_file, flags=re.M)


def test_the_tour_leaves_a_warehouse_status_describes(tour):
    status = next(out for c, out in tour.ran if c.endswith("arxiv-trends status"))
    assert "papers: 3,000 submitted" in status and "classifier: " in status
    config = next(out for c, out in tour.ran if c.endswith("arxiv-trends config"))
    assert f"config file: {tour.home / 'arxiv-trends.toml'}" in config
