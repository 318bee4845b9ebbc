"""`arxiv-trends run` and `serve` as a user types them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import cli
from tests.flows.test_concurrency import _hold_lock

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_run_no_harvest_prints_what_each_step_did(classified_copy):
    result = CliRunner().invoke(cli, ["--home", str(classified_copy), "run", "--no-harvest"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["harvest", "skipped:"] for line in lines)
    assert any(line.split()[:2] == ["classify", "done"] for line in lines)
    assert f"report: {(classified_copy / 'reports' / 'index.html').as_uri()}" in lines


def test_run_while_another_process_writes_fails_in_one_line(home_copy):
    holder = _hold_lock(home_copy, 120)
    try:
        result = CliRunner().invoke(cli, ["--home", str(home_copy), "run", "--no-harvest"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "error: the warehouse at" in result.output and "is being written by pid" in result.output


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_PROFILES_PATH"] = str(tmp_path / "profiles.toml")  # no user profile naming a server
    proc = subprocess.run([str(Path(sys.executable).parent / "arxiv-trends"), "--home", str(tmp_path / "h"), "serve"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "prefect server start --host 127.0.0.1" in proc.stderr
    assert "Traceback" not in proc.stderr


HEAVY = ("pandas", "plotly", "prefect", "sklearn", "scipy", "torch", "transformers", "sentence_transformers",
         "bertopic", "umap", "hdbscan", "model2vec")


@pytest.mark.parametrize("args, also_absent", [(["--help"], ("polars",)), (["status"], ()), (["report", "--help"], ())])
def test_light_commands_import_nothing_heavy(tmp_path, args, also_absent):
    """``--help``, ``status`` and the help of every command start in a fraction of a second: they never import
    the analytics, the models or Prefect."""
    code = ("import sys\nfrom flows.cli import cli\n"
            f"try:\n    cli({['--home', str(tmp_path / 'home'), *args]!r}, prog_name='arxiv-trends')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            f"print(sorted(m for m in {HEAVY + also_absent!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip().splitlines()[-1] == "[]"
