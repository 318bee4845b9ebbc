"""No traceback anywhere a user can reach: every command over a damaged data root ends with one clear line.

Damage: each table truncated, emptied, given a wrong schema, deleted (a file of its current version);
``models/current.json`` corrupted; the model folder missing; the data root read-only (the real console script
run as an unprivileged user when the tests run as root, since root writes through file modes); a write
failing half-way with ENOSPC (the Nth Parquet write of the command goes to ``/dev/full``, so the error is
the kernel's own, through polars' writer). A command that reads damaged data exits with 1 and one line,
and leaves every table as it was; a command that does not read it may succeed.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from flows.cli import cli
from tests.conftest import shared_path
from tests.flows.conftest import copy_home
from tests.warehouse.harvest.fake_arxiv import FakeArxiv, synthetic_records
from tests.warehouse.test_integrity import delete, empty, truncate, wrong_schema
from warehouse import open_warehouse
from warehouse.errors import TableDamaged

pytestmark = pytest.mark.usefixtures("prefect_harness")

BIN = Path(sys.executable).parent / "arxiv-trends"
KINDS = {"truncated": truncate, "emptied": empty, "wrong schema": wrong_schema, "deleted": delete}
# The commands that read each table, so must fail on its damage (``classify --all`` reads the embeddings cache);
# the read API (``wh.read``) is checked for every table.
READERS = {
    "papers": ["aggregate", "report", "classify", "evaluate", "backfill"],
    "embeddings": ["classify --all"],
    "classifications": ["aggregate", "report", "classify"],
    "paper_subtopics": ["aggregate", "classify"],
    "subtopics": ["aggregate", "report"],
    "subtopic_periods": ["report"],
    "metrics/topic_monthly": ["report"],
    "metrics/topic_yearly": [],  # read by the read API only (wh.topic_yearly()), checked for every table below
    "metrics/subtopic_monthly": ["report"],
    "metrics/emerging_subtopics": ["report"],
    "metrics/topic_cooccurrence": ["report"],
    "metrics/topic_categories": ["report"],
    "metrics/coverage_monthly": ["report"],
}


@pytest.fixture(scope="module")
def inputs(corpus, tmp_path_factory) -> dict[str, str]:
    """Files the commands take: records to backfill and classify, and the dev gold set."""
    folder = tmp_path_factory.mktemp("inputs")
    gold = folder / "gold.jsonl"
    shutil.copy(shared_path("gold", "dev.jsonl"), gold)
    return {"records": str(corpus[0]), "gold": str(gold), "out": str(folder / "out.jsonl")}


def command(name: str, inputs: dict[str, str], endpoint: str | None = None) -> list[str]:
    return {
        "status": ["status"], "verify": ["verify"], "repair": ["repair"], "aggregate": ["aggregate"],
        "report": ["report"], "classify": ["classify"], "classify --all": ["classify", "--all"],
        "classify-file": ["classify-file", inputs["records"], "--out", inputs["out"]],
        "evaluate": ["evaluate", inputs["gold"]], "backfill": ["backfill", "--quiet", inputs["records"]],
        "harvest": ["harvest", "--endpoint", endpoint or "http://127.0.0.1:9/oai", "--from", "2025-01-01",
                    "--until", "2025-01-03", "--set", "cs"],
        "run": ["run", "--no-harvest"], "serve": ["serve"],
    }[name]


def versions(home: Path) -> dict[str, str | None]:
    """What every table's current version is (unchanged by a command that failed)."""
    wh = open_warehouse(home)
    out = {}
    for name in wh.tables.names():
        try:
            out[name] = wh.tables.version_id(name)
        except Exception as exc:  # a table whose version itself is damaged: its damage is its identity
            out[name] = f"damaged: {exc}"
    return out


def check_one_line(result, what: str) -> str:
    """No traceback, exit 0 or 1, and on failure one ``error:`` line last on stderr; returns that line."""
    text = result.output
    assert "Traceback" not in text, f"{what}: traceback\n{text[-3000:]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), f"{what}: {result.exception!r}"
    assert result.exit_code in (0, 1), f"{what}: exit {result.exit_code}\n{text[-2000:]}"
    if result.exit_code == 0:
        return ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and len(last) < 1500, f"{what}: {last}"
    return last


def invoke(home: Path, args: list[str]):
    return CliRunner().invoke(cli, ["--home", str(home), *args])


@pytest.mark.parametrize("kind", KINDS)
def test_each_damaged_table_is_a_one_line_error_for_every_command_that_reads_it(kind, aggregated, inputs,
                                                                               tmp_path):
    for table, readers in READERS.items():
        home = copy_home(aggregated, tmp_path / kind.replace(" ", "-") / table.replace("/", "-"))
        version = open_warehouse(home).tables.current(table)
        target = sorted(version.parquet)[0]
        KINDS[kind](Path(version.files[target]))
        before = versions(home)
        for name in ["status", "verify", *readers]:
            what = f"{name} over {table} {kind}"
            result = invoke(home, command(name, inputs))
            line = check_one_line(result, what)
            assert result.exit_code == 1, f"{what}: should have failed\n{result.output[-2000:]}"
            if name == "status":  # the whole status, the damage among it, then the error line
                assert f"DAMAGED: table {table}, file {target}" in result.stdout, what
                assert "arxiv-trends repair" in line, f"{what}: {line}"
            elif name == "verify":  # one line per damaged file, then the error line naming the tables
                assert f"damaged: {table}: file {target}" in result.stdout, what
                assert f"1 damaged file(s) in {table}" in line and "arxiv-trends repair" in line, f"{what}: {line}"
            else:
                assert table in line and target in line and "arxiv-trends repair" in line, f"{what}: {line}"
            assert versions(home) == before, f"{what}: the tables changed"
        with pytest.raises(TableDamaged, match=re.escape(f"table '{table}' is damaged: file {target}")):
            open_warehouse(home).read(table)


def test_every_command_over_a_root_where_every_table_is_damaged(aggregated, inputs, tmp_path):
    home = copy_home(aggregated, tmp_path / "home")
    wh = open_warehouse(home)
    for i, table in enumerate(wh.tables.names()):
        version = wh.tables.current(table)
        list(KINDS.values())[i % len(KINDS)](Path(version.files[sorted(version.parquet)[0]]))
    before = versions(home)
    with FakeArxiv(synthetic_records(30, start="2025-01-01"), page_size=10) as srv:
        for name in ["status", "verify", "aggregate", "report", "classify", "classify --all", "classify-file",
                     "evaluate", "backfill", "harvest", "run"]:
            result = invoke(home, command(name, inputs, srv.oai_url))
            line = check_one_line(result, name)
            if name != "classify-file":  # it reads the model and its input file, no table
                assert result.exit_code == 1, f"{name} should have failed\n{result.output[-2000:]}"
                assert "damaged" in line and "arxiv-trends repair" in line, f"{name}: {line}"
            assert versions(home) == before, f"{name}: the tables changed"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_PROFILES_PATH"] = str(tmp_path / "profiles.toml")  # no user profile naming a server
    serve = subprocess.run([str(BIN), "--home", str(home), "serve"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert serve.returncode == 1 and "Traceback" not in serve.stderr
    assert serve.stderr.strip().splitlines()[-1].startswith("error: serve needs a Prefect server")
    repair = invoke(home, ["repair"])
    check_one_line(repair, "repair")
    assert open_warehouse(home).verify().ok


@pytest.mark.parametrize("damage", ["current.json corrupted", "model folder missing"])
def test_every_command_over_a_damaged_model(damage, aggregated, inputs, tmp_path):
    home = copy_home(aggregated, tmp_path / "home")
    models = home / "models"
    if damage == "current.json corrupted":
        (models / "current.json").write_text('{"version": "2026')
    else:
        version = __import__("json").loads((models / "current.json").read_text())["version"]
        shutil.rmtree(models / version)
    before = versions(home)
    for name in ["status", "verify", "classify", "classify-file", "evaluate", "report"]:
        result = invoke(home, command(name, inputs))
        line = check_one_line(result, f"{name} with the {damage}")
        if name in ("classify", "classify-file", "evaluate", "verify"):
            assert result.exit_code == 1, f"{name}: {result.output[-2000:]}"
            assert "current.json" in line or "missing" in line or "damaged model" in line, f"{name}: {line}"
        assert versions(home) == before
    repair = invoke(home, ["repair"])
    check_one_line(repair, "repair")
    if damage == "current.json corrupted":
        assert repair.exit_code == 0 and not (models / "current.json").exists()
    else:
        assert repair.exit_code == 1 and "classify --refit" in repair.stdout


def _unprivileged(args: list[str], home: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real console script, as a user that cannot write the data root (root writes through file modes)."""
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run([*prefix, str(BIN), "--home", str(home), *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_every_command_over_a_read_only_data_root(aggregated, inputs, tmp_path):
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only data root cannot be made here")
    base = Path(tempfile.mkdtemp(prefix="arxiv-trends-ro-"))  # outside pytest's private (0700) folder
    try:
        home = copy_home(aggregated, base / "home")
        for path in [base, *base.rglob("*")]:
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod((mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (
                    stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0)) & ~(
                    stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        readable = [str(p) for p in (inputs["records"], inputs["gold"])]
        for path in readable:
            os.chmod(path, 0o644)
            for parent in Path(path).parents:
                if parent != Path("/") and not parent.stat().st_mode & stat.S_IXOTH:
                    parent.chmod(parent.stat().st_mode | stat.S_IXOTH)
        env = {**os.environ, "HOME": str(base), "HF_HUB_OFFLINE": "1", "PREFECT_API_URL": ""}
        env.pop("PREFECT_HOME", None)
        before = versions(home)
        for name in ["status", "verify", "backfill", "classify", "aggregate", "report", "repair", "run"]:
            proc = _unprivileged(command(name, inputs), home, env)
            assert "Traceback" not in proc.stderr + proc.stdout, f"{name}\n{proc.stderr[-3000:]}"
            if name in ("status", "verify"):
                assert proc.returncode == 0, f"{name}: {proc.stderr[-2000:]}"  # reading needs no writing
                continue
            assert proc.returncode == 1, f"{name}: {proc.returncode}\n{proc.stderr[-2000:]}"
            last = proc.stderr.strip().splitlines()[-1]
            assert last.startswith("error: cannot write") and "(permission denied)" in last, f"{name}: {last}"
        assert versions(home) == before
    finally:
        for path in [base, *base.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(base, ignore_errors=True)


def _fill_the_disk_half_way(path: Path, data: bytes) -> None:
    """What a full disk does to a write: part of the file, then ENOSPC."""
    Path(path).write_bytes(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


@pytest.mark.parametrize("name,nth,replaced", [("backfill", 1, 0), ("aggregate", 3, 2), ("classify --all", 2, 1),
                                               ("report", 1, 0)])
def test_a_write_failing_half_way_with_no_space_left(name, nth, replaced, aggregated, inputs, extra_papers, tmp_path,
                                                     monkeypatch):
    """The ``nth`` Parquet file (the first HTML page for ``report``) is cut half way by ENOSPC; the tables written
    before it (``replaced``) are whole new versions, the one being written and all others are as they were."""
    home = copy_home(aggregated, tmp_path / "home")
    write_parquet, write_text = pl.DataFrame.write_parquet, Path.write_text
    calls = [0]

    def parquet(self, file, *args, **kwargs):
        calls[0] += 1
        if calls[0] != nth:
            return write_parquet(self, file, *args, **kwargs)
        write_parquet(self, file, *args, **kwargs)
        _fill_the_disk_half_way(file, Path(file).read_bytes())

    def page(self, text, *args, **kwargs):
        if self.suffix != ".html":
            return write_text(self, text, *args, **kwargs)
        _fill_the_disk_half_way(self, text.encode())

    monkeypatch.setattr(pl.DataFrame, "write_parquet", parquet)
    monkeypatch.setattr(Path, "write_text", page)
    before = versions(home)
    args = ["backfill", "--quiet", str(extra_papers)] if name == "backfill" else command(name, inputs)
    result = invoke(home, args)
    line = check_one_line(result, f"{name} with the disk full")
    assert result.exit_code == 1 and line.startswith("error: no space left on device while writing"), line
    after = versions(home)
    changed = [t for t in before if after[t] != before[t]]
    assert len(changed) == replaced, f"{name}: {changed}"
    monkeypatch.undo()
    assert open_warehouse(home).verify().ok  # nothing half-written is visible
