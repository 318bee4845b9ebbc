"""Saved models: ``<home>/models/<version>/`` plus ``<home>/models/current.json`` naming the current one."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib

from analytics.classify.model import CLASSIFIER_RECIPE, TopicClassifier
from analytics.classify.quality import LabelledOutcome
from analytics.rules.engine import RULES_VERSION
from warehouse.errors import ArxivTrendsError
from warehouse.settings import Settings
from warehouse.state import write_json_atomic

CLASSIFIER_FILE = "classifier.joblib"
SUBTOPICS_DIR = "subtopics"
META_FILE = "model.json"
CURRENT_FILE = "current.json"


class ModelMissing(ArxivTrendsError):
    """No classifier has been fitted under this data root yet."""


@dataclass
class ClassifierBundle:
    """A fitted classifier, its BERTopic subtopics, and the embedder both were fitted on."""

    version: str
    embedder_name: str
    embedder_version: str
    classifier: TopicClassifier
    subtopics: Any | None  # analytics.subtopics.SubtopicModel
    settings: Settings
    outcome: LabelledOutcome | None = None  # out-of-fold results on the labelled papers
    labels: dict | None = None  # what the supervised stage learned from: digest, files, papers per set
    _embedder: Any = field(default=None, repr=False)

    def embedder(self):
        """The embedder, loaded on first use (a worker that gets precomputed vectors never loads it)."""
        if self._embedder is None:
            from analytics.embeddings import get_embedder

            self._embedder = get_embedder(self.embedder_name, self.settings)
            if self._embedder.version != self.embedder_version:
                raise ArxivTrendsError(f"model {self.version} was fitted on {self.embedder_version} vectors but "
                                       f"the {self.embedder_name} embedder is now {self._embedder.version}; "
                                       "run `arxiv-trends classify --refit`")
        return self._embedder


def new_version(embedder_name: str, taxonomy_digest: str, models_dir: Path | None = None,
                now: datetime | None = None) -> str:
    """``<UTC time>-<embedder>-<taxonomy digest>``, with ``-2``, ``-3``... when two fits share a second."""
    now = now or datetime.now(timezone.utc)
    base = version = f"{now:%Y%m%dT%H%M%S}-{embedder_name}-{taxonomy_digest}"
    n = 2
    while models_dir is not None and (models_dir / version).exists():
        version, n = f"{base}-{n}", n + 1
    return version


def read_current(settings: Settings) -> dict | None:
    path = settings.models_dir / CURRENT_FILE
    if not path.exists():
        return None
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(current.get("version"), str):
            raise ValueError("no model version in it")
    except (ValueError, AttributeError) as exc:
        raise ArxivTrendsError(f"{path} is unreadable ({exc}); `arxiv-trends repair` moves it aside, then "
                               "`arxiv-trends classify` fits a new model") from None
    return current


def save_bundle(bundle: ClassifierBundle, taxonomy_source: str) -> Path:
    """Write the model folder (staged, then renamed into place); ``current.json`` is written separately."""
    target = bundle.settings.models_dir / bundle.version
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{bundle.version}."))
    try:
        joblib.dump(bundle.classifier, staging / CLASSIFIER_FILE)
        if bundle.subtopics is not None:
            bundle.subtopics.save(staging / SUBTOPICS_DIR)
        if bundle.outcome is not None:
            bundle.outcome.save(staging)
        shutil.copyfile(taxonomy_source, staging / "taxonomy.yaml")
        (staging / META_FILE).write_text(json.dumps({
            "version": bundle.version, "embedder": bundle.embedder_name, "embedder_version": bundle.embedder_version,
            "taxonomy": bundle.classifier.taxonomy_.digest(), "params": bundle.classifier.get_params(),
            "weak_positives": bundle.classifier.n_weak_positives_, "labels": bundle.labels,
            "supervised_topics": bundle.classifier.supervised_topics_,
            "thresholds": dict(zip(bundle.classifier.topic_ids_, bundle.classifier.thresholds_.round(3).tolist())),
        }, indent=1, default=str), encoding="utf-8")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def set_current(settings: Settings, bundle: ClassifierBundle, **extra: Any) -> None:
    """Make ``bundle`` the current model; ``current.json`` carries its cross-validated quality (``evaluation``,
    ``quality``) when it learned from labels."""
    quality = bundle.outcome.summary() if bundle.outcome is not None else {"evaluation": None, "quality": None}
    write_json_atomic(settings.models_dir / CURRENT_FILE, {
        "version": bundle.version, "embedder": bundle.embedder_name, "embedder_version": bundle.embedder_version,
        "taxonomy": bundle.classifier.taxonomy_.digest(), "rules": RULES_VERSION,
        "classifier_recipe": CLASSIFIER_RECIPE, "labels": bundle.labels,
        "created_at": datetime.now(timezone.utc).isoformat(), **quality, **extra,
    })


def load_bundle(settings: Settings) -> ClassifierBundle:
    """The current model; ``ModelMissing`` with a hint when none was fitted."""
    current = read_current(settings)
    if current is None:
        raise ModelMissing(f"no classifier fitted under {settings.home} yet; run `arxiv-trends classify` first")
    folder = settings.models_dir / current["version"]
    if not (folder / CLASSIFIER_FILE).exists():
        raise ModelMissing(f"{settings.models_dir / CURRENT_FILE} names {current['version']}, "
                           f"but {folder} is missing; run `arxiv-trends classify --refit`")
    subtopics = None
    if (folder / SUBTOPICS_DIR).exists():
        from analytics.subtopics import SubtopicModel

        subtopics = SubtopicModel.load(folder / SUBTOPICS_DIR)
    return ClassifierBundle(version=current["version"], embedder_name=current["embedder"],
                            embedder_version=current["embedder_version"],
                            classifier=joblib.load(folder / CLASSIFIER_FILE), subtopics=subtopics, settings=settings,
                            outcome=LabelledOutcome.load(folder), labels=current.get("labels"))
