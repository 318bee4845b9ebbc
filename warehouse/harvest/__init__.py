"""Getting new papers from arXiv: incremental OAI-PMH harvests and ad hoc API (Atom) queries."""

from warehouse.harvest.api_query import DEFAULT_API_ENDPOINT, QueryOptions, harvest_query
from warehouse.harvest.errors import HarvestError, OAIProtocolError
from warehouse.harvest.http import RetryPolicy
from warehouse.harvest.oai_harvest import (DEFAULT_OAI_ENDPOINT, DEFAULT_SETS, HarvestOptions, HarvestSummary,
                                           harvest_oai)

__all__ = ["DEFAULT_API_ENDPOINT", "DEFAULT_OAI_ENDPOINT", "DEFAULT_SETS", "HarvestError", "HarvestOptions",
           "HarvestSummary", "OAIProtocolError", "QueryOptions", "RetryPolicy", "harvest_oai", "harvest_query"]
