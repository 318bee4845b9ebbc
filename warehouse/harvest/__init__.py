"""Getting new papers from arXiv: incremental OAI-PMH harvests and ad hoc API (Atom) queries.

The names below load on first use (PEP 562): the CLI reads the defaults for its help text without
importing the HTTP client and the harvesters.
"""

from importlib import import_module

_EXPORTS = {
    "DEFAULT_API_ENDPOINT": "warehouse.harvest.defaults", "QueryOptions": "warehouse.harvest.api_query",
    "harvest_query": "warehouse.harvest.api_query",
    "HarvestError": "warehouse.harvest.errors", "OAIProtocolError": "warehouse.harvest.errors",
    "RetryPolicy": "warehouse.harvest.http",
    "DEFAULT_OAI_ENDPOINT": "warehouse.harvest.defaults", "DEFAULT_SETS": "warehouse.harvest.defaults",
    "HarvestOptions": "warehouse.harvest.oai_harvest", "HarvestSummary": "warehouse.harvest.oai_harvest",
    "harvest_oai": "warehouse.harvest.oai_harvest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'warehouse.harvest' has no attribute {name!r}")
