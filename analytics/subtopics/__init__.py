"""BERTopic subtopics inside the taxonomy topics (zero-shot on the descriptions, clusters for the rest)."""

from analytics.subtopics.model import OTHER, OUTLIER, SubtopicModel

__all__ = ["OTHER", "OUTLIER", "SubtopicModel"]
