"""The combined topic classifier, its saved versions, evaluation against gold labels, and the warehouse run.

Names are imported on first use: ``analytics.classify.quality`` and ``evaluation`` (numpy only) are read by the
metrics, which must not pay for scikit-learn's import.
"""

from importlib import import_module

_WHERE = {"Evaluation": "evaluation", "evaluate": "evaluation", "read_gold": "evaluation", "PaperBatch": "model",
          "TopicClassifier": "model", "ClassifierBundle": "store", "ModelMissing": "store"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"analytics.classify.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'analytics.classify' has no attribute {name!r}")
