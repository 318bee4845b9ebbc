"""Growth metrics: ``aggregate(wh)`` recomputes the ``metrics/*`` tables from papers and classifications."""

from analytics.metrics.aggregate import AggregateSummary, aggregate

__all__ = ["AggregateSummary", "aggregate"]
