"""Hand-labelled papers: shipped with the package, extendable with the user's own label files."""

from analytics.labels.labelled import FUZZY_TOPICS, LabelledPapers, combine, read_labels, shipped_labels

__all__ = ["FUZZY_TOPICS", "LabelledPapers", "combine", "read_labels", "shipped_labels"]
