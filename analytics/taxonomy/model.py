"""Load and validate a taxonomy file, so a broken user file fails early with a message that names the spot."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from warehouse.errors import ArxivTrendsError

DEFAULT_PATH = Path(__file__).with_name("topics.yaml")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# "other" is the parent of subtopics that match no topic; "id" and "model_version" are columns of topic_scores
_RESERVED_IDS = {"other", "id", "model_version"}


class TaxonomyError(ArxivTrendsError):
    """A taxonomy file is missing, unparsable or violates the schema."""


@dataclass(frozen=True)
class Pattern:
    """A weighted regular expression; ``title_only`` patterns look at the title alone."""

    pattern: str
    weight: float
    title_only: bool = False


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    part: str
    description: str
    include: tuple[Pattern, ...] = ()
    exclude: tuple[Pattern, ...] = ()
    categories: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    source: str

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.topics]

    def descriptions(self) -> dict[str, str]:
        """``{id: description}``: the zero-shot topic list for embeddings and BERTopic."""
        return {t.id: t.description for t in self.topics}

    def __getitem__(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def digest(self) -> str:
        """A short content hash: part of the model version, so a changed taxonomy means a new model."""
        canon = json.dumps([_topic_dict(t) for t in self.topics], sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()[:10]


def _topic_dict(t: Topic) -> dict[str, Any]:
    pats = lambda ps: [[p.pattern, p.weight, p.title_only] for p in ps]  # noqa: E731
    return {"id": t.id, "name": t.name, "part": t.part, "description": t.description,
            "include": pats(t.include), "exclude": pats(t.exclude), "categories": t.categories}


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy YAML file (default: the built-in 16 topics)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if not path.is_file():
        raise TaxonomyError(f"taxonomy file not found: {path}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("topics"), list) or not doc["topics"]:
        raise TaxonomyError(f"{path}: expected a mapping with a non-empty list under 'topics'")
    topics = tuple(_parse_topic(raw, i, path) for i, raw in enumerate(doc["topics"]))
    seen: set[str] = set()
    for topic in topics:
        if topic.id in seen:
            raise TaxonomyError(f"{path}: duplicate topic id {topic.id!r}")
        seen.add(topic.id)
    return Taxonomy(topics=topics, source=str(path))


def _parse_topic(raw: Any, index: int, path: Path) -> Topic:
    where = f"{path}: topic #{index + 1}"
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = set(raw) - {"id", "name", "part", "description", "include", "exclude", "categories"}
    if unknown:
        raise TaxonomyError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key in ("id", "name", "part", "description"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise TaxonomyError(f"{where}: field {key!r} must be a non-empty string")
    topic_id = raw["id"]
    where = f"{path}: topic {topic_id!r}"
    if not _ID.match(topic_id) or topic_id in _RESERVED_IDS:
        raise TaxonomyError(f"{where}: id must be lower-case letters, digits and '_' (and not 'other')")
    categories = raw.get("categories") or {}
    if not isinstance(categories, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in categories.items()
    ):
        raise TaxonomyError(f"{where}: 'categories' must map category names to numbers")
    return Topic(
        id=topic_id,
        name=raw["name"].strip(),
        part=raw["part"].strip(),
        description=" ".join(raw["description"].split()),
        include=_parse_patterns(raw.get("include"), f"{where}: include"),
        exclude=_parse_patterns(raw.get("exclude"), f"{where}: exclude"),
        categories={k: float(v) for k, v in categories.items()},
    )


def _parse_patterns(raw: Any, where: str) -> tuple[Pattern, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise TaxonomyError(f"{where}: expected a list of {{pattern, weight}} entries")
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            item = {"pattern": item}
        if not isinstance(item, dict) or not isinstance(item.get("pattern"), str) or not item["pattern"]:
            raise TaxonomyError(f"{where} #{i + 1}: needs a non-empty 'pattern' string")
        unknown = set(item) - {"pattern", "weight", "title_only"}
        if unknown:
            raise TaxonomyError(f"{where} #{i + 1}: unknown field(s) {sorted(unknown)}")
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 10:
            raise TaxonomyError(f"{where} #{i + 1}: 'weight' must be a number in (0, 10]")
        try:
            re.compile(item["pattern"], re.IGNORECASE)
        except re.error as exc:
            raise TaxonomyError(f"{where} #{i + 1}: invalid regular expression {item['pattern']!r}: {exc}") from None
        out.append(Pattern(item["pattern"], float(weight), bool(item.get("title_only", False))))
    return tuple(out)
