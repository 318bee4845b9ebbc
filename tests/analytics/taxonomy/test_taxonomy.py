"""The built-in taxonomy matches TOPICS.md, and broken user files fail with messages that name the problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from analytics.taxonomy import TaxonomyError, load_taxonomy
from analytics.taxonomy.model import DEFAULT_PATH
from flows.cli import cli
from tests.conftest import shared_path

EXPECTED_IDS = ["data", "knowledge", "computing_system", "parallel_training", "language_model", "vision_model",
                "multimodal_model", "theory_interpretability", "commonsense_reasoning", "reliability_security",
                "governance", "evaluation", "machine_translation", "text_generation", "dialogue", "protein"]


def test_builtin_taxonomy_has_the_16_topics_in_order():
    tax = load_taxonomy()
    assert tax.ids == EXPECTED_IDS
    for topic in tax.topics:
        assert topic.name and topic.part in {"Resource", "Models", "Key technologies", "Application"}
        assert len(topic.description.split()) >= 10
        assert topic.include, topic.id


def test_builtin_ids_match_topics_md():
    text = shared_path("taxonomy", "TOPICS.md").read_text(encoding="utf-8")
    ids = re.findall(r"^\| ([a-z_]+) \|", text, flags=re.MULTILINE)
    assert [i for i in ids if i != "id"] == load_taxonomy().ids


def test_digest_changes_with_content(tmp_path: Path):
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    doc["topics"][0]["description"] = "Something else entirely, described in a dozen words or so for this test."
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert load_taxonomy(path).digest() != load_taxonomy().digest()
    assert load_taxonomy(path).ids == EXPECTED_IDS


def _write(tmp_path: Path, topics) -> Path:
    path = tmp_path / "tax.yaml"
    path.write_text(yaml.safe_dump({"topics": topics}), encoding="utf-8")
    return path


GOOD = {"id": "quantum_ml", "name": "Quantum ML", "part": "Custom", "description": "Quantum machine learning.",
        "include": [{"pattern": r"\bquantum machine learning\b", "weight": 1.0}], "categories": {"quant-ph": 0.5}}


def test_user_file_loads(tmp_path: Path):
    tax = load_taxonomy(_write(tmp_path, [GOOD]))
    assert tax.ids == ["quantum_ml"]
    assert tax["quantum_ml"].categories == {"quant-ph": 0.5}
    assert tax.descriptions() == {"quantum_ml": "Quantum machine learning."}


@pytest.mark.parametrize("change, message", [
    ({"pattern_list": [{"pattern": "(unclosed", "weight": 1}]}, "invalid regular expression"),
    ({"pattern_list": [{"pattern": "ok", "weight": -1}]}, "'weight' must be a number"),
    ({"pattern_list": [{"pattern": "ok", "wieght": 1}]}, "unknown field"),
    ({"id": "Bad Id"}, "id must be lower-case"),
    ({"id": "other"}, "id must be lower-case"),
    ({"description": ""}, "'description' must be a non-empty string"),
    ({"categories": {"cs.CL": "high"}}, "'categories' must map"),
    ({"colour": "red"}, "unknown field"),
])
def test_invalid_topics_are_rejected_with_a_clear_message(tmp_path: Path, change, message):
    topic = dict(GOOD)
    if "pattern_list" in change:
        topic["include"] = change["pattern_list"]
    else:
        topic.update(change)
    with pytest.raises(TaxonomyError, match=re.escape(message)):
        load_taxonomy(_write(tmp_path, [topic]))


def test_duplicate_ids_missing_and_unparsable_files(tmp_path: Path):
    with pytest.raises(TaxonomyError, match="duplicate topic id 'quantum_ml'"):
        load_taxonomy(_write(tmp_path, [GOOD, GOOD]))
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("topics: [unclosed", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("topics: []\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="non-empty list under 'topics'"):
        load_taxonomy(empty)


def test_cli_reports_a_bad_taxonomy_on_one_line(tmp_path: Path):
    topic = dict(GOOD, include=[{"pattern": "(unclosed", "weight": 1}])
    path = _write(tmp_path, [topic])
    home = tmp_path / "home"
    result = CliRunner().invoke(cli, ["--home", str(home), "classify", "--taxonomy", str(path)])
    assert result.exit_code == 1
    assert "invalid regular expression" in result.output and "Traceback" not in result.output
