"""What a fit measured about itself: out-of-fold results on the labelled papers, saved beside the model.

``TopicClassifier.cross_validate`` redoes the supervised fit on each training fold and scores the held-out fold, so
every labelled paper gets a prediction from a model that never saw its label. From these come the quality figures
every report and ``status`` show (honest, not in-sample), the error rates that correct trend counts
(``analytics.metrics.estimates``), and the uncertainty that ``label-sample`` ranks papers by.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.classify.evaluation import Evaluation, evaluate_matrices
from analytics.eras import ERA_NAMES

FILE = "labelled_oof.npz"


@dataclass
class LabelledOutcome:
    """Per labelled paper: its set, era, labels, which topics they judge, and the out-of-fold scores and choices."""

    topic_ids: list[str]
    ids: np.ndarray
    sets: np.ndarray  # "train" / "dev" (shipped) / "user"
    era: np.ndarray
    y: np.ndarray  # (papers, topics) bool
    judged: np.ndarray  # (papers, topics) bool
    threshold_rows: np.ndarray  # (papers, topics) bool: the papers whose label style counts for the topic
    scores: np.ndarray  # (papers, topics) out-of-fold scores
    chosen: np.ndarray  # (papers, topics) out-of-fold decisions
    folds: int = 5

    def save(self, folder: Path) -> None:
        np.savez_compressed(folder / FILE, topic_ids=np.array(self.topic_ids), ids=self.ids, sets=self.sets,
                            era=self.era, y=self.y, judged=self.judged, threshold_rows=self.threshold_rows,
                            scores=self.scores.astype(np.float32), chosen=self.chosen, folds=self.folds)

    @classmethod
    def load(cls, folder: Path) -> "LabelledOutcome | None":
        path = folder / FILE
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return cls(topic_ids=[str(t) for t in data["topic_ids"]], ids=data["ids"], sets=data["sets"],
                       era=data["era"], y=data["y"], judged=data["judged"], threshold_rows=data["threshold_rows"],
                       scores=data["scores"].astype(np.float64), chosen=data["chosen"], folds=int(data["folds"]))

    def evaluation(self, rows: np.ndarray | None = None) -> Evaluation:
        """Cross-validated scores (per topic, count bias, by era) over the judged cells of ``rows`` (default all)."""
        rows = np.ones(len(self.ids), dtype=bool) if rows is None else rows
        judged = self.judged[rows]
        return evaluate_matrices(self.y[rows] & judged, self.chosen[rows] & judged, self.topic_ids,
                                 self.era[rows], ERA_NAMES)

    def summary(self) -> dict:
        """The ``evaluation`` and ``quality`` blocks of ``current.json``."""
        result = self.evaluation().as_dict()
        result.pop("missing")
        sets, counts = np.unique(self.sets, return_counts=True)
        method = (f"{self.folds}-fold cross-validation over {len(self.ids)} labelled papers "
                  f"({', '.join(f'{s} {c}' for s, c in zip(sets, counts))}): each paper scored by a model fitted "
                  "without it; intervals: 95% bootstrap over the papers")
        result["method"] = method
        result["sets"] = {}
        for name in sets:
            part = self.evaluation(self.sets == name)
            result["sets"][str(name)] = {k: getattr(part, k) for k in (
                "macro_f1", "macro_f1_ci", "micro_f1", "mean_abs_count_bias", "papers")}
        quality = {k: result[k] for k in ("macro_f1", "macro_f1_ci", "micro_f1", "micro_f1_ci",
                                          "mean_abs_count_bias")}
        quality |= {"labels": len(self.ids), "method": method,
                    "by_era": {era: {"macro_f1": v["macro_f1"], "macro_f1_ci": v["macro_f1_ci"],
                                     "mean_abs_count_bias": v["mean_abs_count_bias"], "papers": v["papers"]}
                               for era, v in result["by_era"].items()}}
        return {"evaluation": result, "quality": quality}
