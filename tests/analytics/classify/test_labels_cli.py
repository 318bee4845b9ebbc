"""The user's labels through the CLI: a custom taxonomy's new topic gets a supervised model from ``--labels``;
``label-sample`` writes a file that, filled in, goes back into ``--labels``; ``evaluate`` prints count bias and eras."""

from __future__ import annotations

import json

import orjson
import pytest
import yaml
from click.testing import CliRunner

import analytics.embeddings
from analytics.eras import ERA_NAMES
from analytics.taxonomy.model import DEFAULT_PATH
from flows.cli import cli
from tests.analytics.classify.conftest import HashEmbedder, synthetic_records, write_jsonl

NEW_TOPIC = {"id": "condensed_matter", "name": "Condensed matter", "part": "Custom",
             "description": "Phonons, superconductivity and magnetic order in crystals.",
             "include": [{"pattern": r"\bphonons?\b", "weight": 1.0}]}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A warehouse of synthetic papers classified with the built-in topics plus ``condensed_matter``, learned from
    the shipped labels and a user file labelling 60 of the papers."""
    root = tmp_path_factory.mktemp("labels")
    records = synthetic_records(250, seed=5)
    write_jsonl(root / "papers.jsonl", records)
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    doc["topics"].append(NEW_TOPIC)
    (root / "taxonomy.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    # the user's labels: ids only (texts come from the warehouse), every topic judged
    (root / "mine.jsonl").write_bytes(b"".join(
        orjson.dumps({"id": r["id"], "topics": ["condensed_matter"] if r["x_kind"] is None else
                      [r["x_kind"]]}) + b"\n" for r in records[:60]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(analytics.embeddings, "get_embedder", lambda name, settings=None: HashEmbedder())
        runner = CliRunner()
        base = ["--home", str(root / "home")]
        assert runner.invoke(cli, [*base, "backfill", str(root / "papers.jsonl")]).exit_code == 0
        result = runner.invoke(cli, [*base, "classify", "--taxonomy", str(root / "taxonomy.yaml"),
                                     "--labels", str(root / "mine.jsonl")])
        assert result.exit_code == 0, result.output
        yield root, records, runner, base, mp


def _current(root) -> dict:
    return json.loads((root / "home" / "models" / "current.json").read_text())


def test_custom_topic_is_learned_from_the_users_labels(home):
    root, records, runner, base, _ = home
    current = _current(root)
    assert current["labels"]["papers"] == {"dev": 238, "train": 1968, "user": 60}
    meta = json.loads((root / "home" / "models" / current["version"] / "model.json").read_text())
    assert "condensed_matter" in meta["supervised_topics"] and "language_model" in meta["supervised_topics"]
    out = root / "out.jsonl"
    assert runner.invoke(cli, [*base, "classify-file", str(root / "papers.jsonl"), "--out", str(out)]).exit_code == 0
    lines = {x["id"]: x for x in map(json.loads, out.read_text().splitlines())}
    physics = [r["id"] for r in records[60:] if r["x_kind"] is None]
    found = sum("condensed_matter" in lines[pid]["topics"] for pid in physics)
    assert found >= 0.9 * len(physics)
    # the same labels again: nothing to refit
    result = runner.invoke(cli, [*base, "classify", "--taxonomy", str(root / "taxonomy.yaml"),
                                 "--labels", str(root / "mine.jsonl"), "--json"])
    assert result.exit_code == 0 and json.loads(result.output.splitlines()[-1])["fitted"] is False


def test_label_sample_round_trips_into_labels(home):
    root, records, runner, base, _ = home
    sample = root / "sample.jsonl"
    result = runner.invoke(cli, [*base, "label-sample", "--n", "12", "--out", str(sample)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in sample.read_text().splitlines()]
    assert len(rows) == 12 and all(r["topics"] is None and r["title"] and r["era"] in ERA_NAMES for r in rows)
    assert not {r["id"] for r in rows} & {r["id"] for r in records[:60]}  # already labelled papers are not asked for
    kinds = {r["id"]: r["x_kind"] for r in records}
    for row in rows[:10]:  # the labeller fills in ten of the twelve
        row["topics"] = ["condensed_matter"] if kinds[row["id"]] is None else [kinds[row["id"]]]
    sample.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    result = runner.invoke(cli, [*base, "classify", "--taxonomy", str(root / "taxonomy.yaml"), "--labels",
                                 str(root / "mine.jsonl"), "--labels", str(sample)])
    assert result.exit_code == 0, result.output
    labels = _current(root)["labels"]
    assert labels["papers"]["user"] == 70 and labels["not_yet_labelled"] == 2
    bad = root / "bad.jsonl"
    bad.write_text('{"id": "2401.00001", "topics": ["no_such_topic"]}\n', encoding="utf-8")
    result = runner.invoke(cli, [*base, "classify", "--taxonomy", str(root / "taxonomy.yaml"), "--labels", str(bad)])
    assert result.exit_code == 1 and "unknown topic 'no_such_topic'" in result.output and "Traceback" not in result.output


def test_evaluate_prints_count_bias_and_eras(home, tmp_path):
    root, records, runner, base, _ = home
    gold = tmp_path / "gold.jsonl"
    gold.write_bytes(b"".join(orjson.dumps({"id": r["id"], "topics": [r["x_kind"]] if r["x_kind"] else []}) + b"\n"
                              for r in records[100:150]))
    result = runner.invoke(cli, [*base, "evaluate", str(gold), "--by-era"])
    assert result.exit_code == 0, result.output
    assert "count bias" in result.output and "mean |count bias|" in result.output and "era 2020-24" in result.output
    numbers = json.loads(runner.invoke(cli, [*base, "evaluate", str(gold), "--json"]).output)
    assert set(numbers["by_era"]) == {"2020-24"}  # the synthetic papers are all from January 2024
    assert numbers["count_bias"]["protein"] is not None and numbers["count_bias"]["governance"] is None
