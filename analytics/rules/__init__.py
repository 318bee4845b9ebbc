"""The rule layer: fast, high-precision regular expressions and category priors, one score per topic."""

from analytics.rules.engine import RuleEngine, RuleResult

__all__ = ["RuleEngine", "RuleResult"]
