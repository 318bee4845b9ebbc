""""Why is this paper here?": the evidence shown beside each representative paper of a topic page.

Computed at report time, for the representative papers only (16 topics x 10 papers): the rules and the lexical
model run on those ~160 rows in well under a second, the evidence always matches the model that is current, and
classification (160k papers) neither pays for it nor stores it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analytics.classify.explain import load_classifier, strongest_terms
from analytics.classify.store import read_current
from analytics.rules import RuleEngine
from analytics.taxonomy import load_taxonomy
from warehouse.settings import Settings

TERMS = 5
PHRASES = 6


@dataclass(frozen=True)
class Evidence:
    """What made the classifier give ``topic`` to one paper."""

    score: float | None
    method: str
    phrases: tuple[str, ...]                 # title/abstract text the topic's rules matched
    terms: tuple[str, ...]                   # strongest terms of the topic's lexical model in this paper
    others: tuple[tuple[str, float], ...]    # the paper's other topics and their scores, best first
    note: str = ""                           # why some evidence is missing


def paper_evidence(settings: Settings, papers: pl.DataFrame, classifications: pl.DataFrame
                   ) -> dict[tuple[str, str], Evidence]:
    """Evidence per (id, topic) of ``papers`` (id, topic, title, abstract, categories); ``classifications`` holds
    every topic row (id, topic, score, method, model_version) of those ids."""
    if papers.is_empty():
        return {}
    classifier, why = load_classifier(settings)
    taxonomy = classifier.taxonomy_ if classifier is not None else load_taxonomy()
    current = _current_version(settings)
    texts = papers.unique("id", keep="first", maintain_order=True).select("id", "title", "abstract", "categories")
    row_of = {pid: i for i, pid in enumerate(texts["id"].to_list())}
    rules = RuleEngine(taxonomy).score(texts, keep_text=True)
    pairs = papers.select("id", "topic").rows()
    terms: dict[tuple[str, str], tuple[str, ...]] = {}
    known = [(pid, topic) for pid, topic in pairs if topic in taxonomy.ids]
    if classifier is not None and known:
        rows = texts[[row_of[pid] for pid, _ in known]]
        found = strongest_terms(classifier, rows, [taxonomy.ids.index(t) for _, t in known], k=TERMS)
        terms = {pair: tuple(term for term, _ in top) for pair, top in zip(known, found)}
    by_id: dict[str, list[tuple[str, float, str, str]]] = {}
    for pid, topic, score, method, version in (classifications.sort(["id", "score", "topic"],
                                                                    descending=[False, True, False])
                                               .select("id", "topic", "score", "method", "model_version").rows()):
        by_id.setdefault(pid, []).append((topic, score, method, version))
    out = {}
    for pid, topic in pairs:
        rows = by_id.get(pid, [])
        own = next((r for r in rows if r[0] == topic), (topic, None, "", ""))
        note = why if classifier is None else ""
        if classifier is not None and current and own[3] and own[3] != current:
            note = f"classified by model {own[3]}; the terms come from the current model {current}"
        out[(pid, topic)] = Evidence(
            score=own[1], method=own[2],
            phrases=tuple(rules.matched(row_of[pid]).get(topic, ()))[:PHRASES],
            terms=terms.get((pid, topic), ()),
            others=tuple((t, s) for t, s, _, _ in rows if t != topic), note=note)
    return out


def _current_version(settings: Settings) -> str:
    try:
        return str((read_current(settings) or {}).get("version") or "")
    except ValueError:
        return ""
