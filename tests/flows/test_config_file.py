"""arxiv-trends.toml: where it is found, what overrides it, its one-line errors, and the commands that read it."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import cli
from flows.config import BY_NAME, CONFIG_ENV, load_config, template
from flows.deployments import DEPLOYMENTS
from tests.reports.synthetic import write_synthetic_warehouse
from tests.warehouse.harvest.fake_arxiv import FakeArxiv, synthetic_records

TAXONOMY = Path(__file__).resolve().parents[2] / "analytics" / "taxonomy" / "topics.yaml"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """No setting of the person running the tests leaks in."""
    for key in BY_NAME.values():
        monkeypatch.delenv(key.env, raising=False)
    monkeypatch.delenv(CONFIG_ENV, raising=False)


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def settings_json(*args: str, env: dict | None = None) -> dict:
    result = invoke(*args, "config", "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_without_a_file_every_key_is_its_default(tmp_path):
    out = settings_json("--home", str(tmp_path / "h"))
    assert out["file"] is None
    assert out["settings"]["home"] == {"value": str((tmp_path / "h").resolve()), "source": "flag --home"}
    assert {name: v["source"] for name, v in out["settings"].items() if name != "home"} == \
        dict.fromkeys([n for n in BY_NAME if n != "home"], "default")
    assert out["settings"]["harvest.sets"]["value"] == ["cs", "stat", "q-bio"]
    assert out["settings"]["schedule.daily"]["value"] == next(s.cron for s in DEPLOYMENTS if s.name == "daily")


def test_the_data_roots_file_then_the_environment_then_flags(tmp_path):
    home = tmp_path / "h"
    write(home / "labels" / "mine.jsonl", "")
    write(home / "arxiv-trends.toml", f"""
[harvest]
sets = ["cs"]
categories = ["cs.CL", "cs.LG"]
contact = "ops@uni.example.edu"

[classify]
embedder = "accurate"
taxonomy = "{TAXONOMY}"
labels = ["labels/mine.jsonl"]

[report]
title = "Big-model trends"

[schedule]
daily = "30 4 * * 1-5"
timezone = "Europe/Berlin"
""")
    out = settings_json("--home", str(home))
    assert out["file"] == str((home / "arxiv-trends.toml").resolve())
    got = {name: v["value"] for name, v in out["settings"].items()}
    assert got["classify.labels"] == [str((home / "labels" / "mine.jsonl").resolve())]  # relative to the file
    assert (got["harvest.sets"], got["classify.embedder"], got["report.title"]) == (["cs"], "accurate",
                                                                                   "Big-model trends")
    assert out["settings"]["schedule.daily"]["source"] == "file"
    assert out["settings"]["schedule.weekly_report"]["source"] == "default"

    env = {"ARXIV_TRENDS_SETS": "math, physics", "ARXIV_TRENDS_EMBEDDER": "fast",
           "ARXIV_TRENDS_CONTACT": "me@example.org"}
    out = settings_json("--home", str(home), env=env)
    assert out["settings"]["harvest.sets"] == {"value": ["math", "physics"], "source": "env ARXIV_TRENDS_SETS"}
    assert out["settings"]["classify.embedder"]["value"] == "fast"
    assert out["settings"]["harvest.categories"]["source"] == "file"  # what the environment leaves alone
    assert load_config(home).settings.contact == "ops@uni.example.edu"  # the harvester's User-Agent address

    human = invoke("--home", str(home), "config", env=env)
    assert human.exit_code == 0
    line = next(line for line in human.stdout.splitlines() if line.startswith("harvest.sets"))
    assert line.split() == ["harvest.sets", "math,", "physics", "env", "ARXIV_TRENDS_SETS"]


def test_a_named_file_can_set_the_data_root_and_the_environment_and_flags_win(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    named = write(tmp_path / "etc" / "arxiv-trends.toml", 'home = "../data-root"\n[report]\ntitle = "Ops"\n')
    out = settings_json("--config", str(named))
    assert out["settings"]["home"] == {"value": str(tmp_path / "data-root"), "source": "file"}
    out = settings_json(env={CONFIG_ENV: str(named)})
    assert out["settings"]["report.title"]["value"] == "Ops"
    out = settings_json("--config", str(named), env={"ARXIV_TRENDS_HOME": str(tmp_path / "elsewhere")})
    assert out["settings"]["home"]["source"] == "env ARXIV_TRENDS_HOME"
    out = settings_json("--home", str(tmp_path / "third"), "--config", str(named))
    assert out["settings"]["home"] == {"value": str(tmp_path / "third"), "source": "flag --home"}
    # a named file is the only one read: the data root's own file is then ignored
    write(tmp_path / "third" / "arxiv-trends.toml", '[report]\ntitle = "Root"\n')
    assert settings_json("--home", str(tmp_path / "third"), "--config", str(named))["settings"]["report.title"][
        "value"] == "Ops"


@pytest.mark.parametrize("text, expected", [
    ('[harvest]\nsets = "cs"\n', r"harvest\.sets must be a list of strings .* not the string 'cs'"),
    ('[harvest]\nsetz = ["cs"]\n', r"unknown key harvest\.setz \(\[harvest\] takes sets, categories, contact"),
    ('[harvst]\nsets = ["cs"]\n', r"unknown key harvst \(the file takes home and the sections \[harvest\]"),
    ("harvest = 3\n", r"harvest must be a table \(\[harvest\]\), not an integer 3"),
    ('[harvest]\ncontact = "nobody"\n', r"harvest\.contact must be an e-mail address, not 'nobody'"),
    ('[harvest]\nendpoint = "ftp://x"\n', r"harvest\.endpoint must be an http:// or https:// URL"),
    ('[classify]\nembedder = "medium"\n', r"classify\.embedder must be one of fast, accurate, not 'medium'"),
    ('[classify]\ntaxonomy = "missing.yaml"\n', r"classify\.taxonomy names .*missing\.yaml, which is not a file"),
    ('[classify]\nlabels = "a.jsonl"\n', r"classify\.labels must be a list of file paths"),
    ('[report]\ntitle = 7\n', r"report\.title must be a non-empty string, not an integer 7"),
    ('[schedule]\ndaily = "every day"\n', r"schedule\.daily must be a cron expression of 5 fields"),
    ('[schedule]\ntimezone = "Mars/Olympus"\n', r"schedule\.timezone must be an IANA time zone"),
    ('home = "/elsewhere"\n', r"home cannot be set in the data root's own file"),
    ("[harvest\n", r"not valid TOML: "),
])
def test_a_wrong_key_type_or_value_is_one_line_naming_the_key(tmp_path, text, expected):
    home = tmp_path / "h"
    config = write(home / "arxiv-trends.toml", text)
    result = invoke("--home", str(home), "status")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"error: {config.resolve()}: ")
    assert re.search(expected, result.stderr), result.stderr


def test_errors_from_the_environment_and_a_missing_named_file_are_one_line_too(tmp_path):
    result = invoke("--home", str(tmp_path), "config", env={"ARXIV_TRENDS_SCHEDULE_TIMEZONE": "Nowhere"})
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: env ARXIV_TRENDS_SCHEDULE_TIMEZONE: schedule.timezone must be")
    result = invoke("--config", str(tmp_path / "nope.toml"), "config")
    assert result.exit_code == 1
    assert result.stderr == f"error: config file {tmp_path / 'nope.toml'} not found (flag --config)\n"


def test_the_template_is_valid_toml_and_uncommented_gives_the_defaults(tmp_path):
    text = invoke("config", "--template").stdout
    assert text == template()
    assert tomllib.loads(text) == {"harvest": {}, "classify": {}, "report": {}, "schedule": {}}
    # every key is documented in it; uncommenting the keys that have defaults changes nothing
    for name in BY_NAME:
        assert f"# {name.split('.')[-1]} = " in text
    with_defaults = {n for n, k in BY_NAME.items() if k.default not in (None, []) and n != "home"}
    lines = [line[2:] if any(line.startswith(f"# {n.split('.')[1]} = ") for n in with_defaults) else line
             for line in text.splitlines()]
    write(tmp_path / "h" / "arxiv-trends.toml", "\n".join(lines))
    config = load_config(tmp_path / "h")
    assert {n for n, s in config.sources.items() if s == "file"} == with_defaults
    assert all(config[n] == BY_NAME[n].default for n in with_defaults)


def test_harvest_takes_sets_categories_endpoint_and_contact_from_the_file_and_flags_win(tmp_path):
    home = tmp_path / "h"
    with FakeArxiv(synthetic_records(20, category="cs.CL"), page_size=10) as srv:
        write(home / "arxiv-trends.toml", f'[harvest]\nsets = ["cs"]\ncategories = ["cs.LG"]\n'
                                          f'endpoint = "{srv.oai_url}"\ncontact = "ops@uni.example.edu"\n')
        days = ("--from", "2025-01-01", "--until", "2025-01-02", "--delay", "0", "--json")
        result = invoke("--home", str(home), "harvest", *days)
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert (summary["inserted"], summary["filtered_out"], summary["sets"]) == (0, 20, ["cs"])
        assert {entry["params"].get("set") for entry in srv.log} == {"cs", None}  # None: resumptionToken pages
        assert srv.user_agents and all("mailto:ops@uni.example.edu" in agent for agent in srv.user_agents)
        result = invoke("--home", str(home), "harvest", *days, "--category", "cs.CL")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["inserted"] == 20


def test_report_title_from_the_file_and_the_flag(tmp_path):
    wh = write_synthetic_warehouse(tmp_path / "h")
    write(tmp_path / "h" / "arxiv-trends.toml", '[report]\ntitle = "Big-model <trends>"\n')
    result = invoke("--home", str(tmp_path / "h"), "report", "--generated-at", "2026-11-23T06:00:00Z")
    assert result.exit_code == 0, result.output
    index = (wh.settings.reports_dir / "index.html").read_text(encoding="utf-8")
    assert "· Big-model &lt;trends&gt;</title>" in index and 'class="brand" href="index.html">Big-model' in index
    result = invoke("--home", str(tmp_path / "h"), "report", "--title", "Other")
    assert result.exit_code == 0, result.output
    assert "· Other</title>" in (wh.settings.reports_dir / "whats-new.html").read_text(encoding="utf-8")


def test_deployments_take_their_schedules_and_the_named_file_from_the_config(tmp_path):
    from flows.deployments import runner_deployments

    named = write(tmp_path / "ops.toml", f'home = "{tmp_path / "h"}"\n[schedule]\nweekly_report = "0 5 * * 6"\n'
                                         'timezone = "America/New_York"\n')
    config = load_config(file=named)
    deployments = {d.name: d for d in runner_deployments(config, module_entrypoints=True)}
    weekly = deployments["weekly-report"]
    assert weekly.schedules[0].schedule.cron == "0 5 * * 6"
    assert weekly.schedules[0].schedule.timezone == "America/New_York"
    assert weekly.parameters == {"wait_lock": 1800, "home": str(tmp_path / "h"), "config": str(named)}
    assert weekly.entrypoint == "flows.pipeline.report_flow"
    daily = deployments["daily"]
    assert daily.schedules[0].schedule.cron == next(s.cron for s in DEPLOYMENTS if s.name == "daily")
    # a data root's own file is found again by the run itself: it is not handed on
    write(tmp_path / "h" / "arxiv-trends.toml", '[report]\ntitle = "x"\n')
    assert "config" not in runner_deployments(load_config(tmp_path / "h"))[0].parameters
