"""The combined topic classifier, its saved versions, evaluation against gold labels, and the warehouse run."""

from analytics.classify.evaluation import Evaluation, evaluate, read_gold
from analytics.classify.model import PaperBatch, TopicClassifier
from analytics.classify.store import ClassifierBundle, ModelMissing

__all__ = ["ClassifierBundle", "Evaluation", "ModelMissing", "PaperBatch", "TopicClassifier", "evaluate", "read_gold"]
