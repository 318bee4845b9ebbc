"""The topic taxonomy as data: the 16 topics of TOPICS.md, or a user's own file (``--taxonomy FILE``)."""

from analytics.taxonomy.model import Pattern, Taxonomy, TaxonomyError, Topic, load_taxonomy

__all__ = ["Pattern", "Taxonomy", "TaxonomyError", "Topic", "load_taxonomy"]
