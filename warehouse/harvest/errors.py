"""Harvest failures a user can act on; the CLI prints them on one line."""

from __future__ import annotations

from warehouse.errors import ArxivTrendsError


class HarvestError(ArxivTrendsError):
    """A harvest stopped; the message says where and how to resume."""


class RetryableError(Exception):
    """A response that may be fine next time (a cut page, a proxy's error page): retried under the budget."""


class GaveUp(HarvestError):
    """The retry budget is spent (network down, server overloaded)."""


class HostUnknown(HarvestError):
    """The endpoint's host name does not resolve on the first request: no network (or no DNS) here.

    Retrying for the whole budget would only hang a run; the next scheduled run re-harvests the missed days
    (the trailing re-harvest window), so failing at once loses nothing.
    """


class OAIProtocolError(HarvestError):
    """The OAI-PMH server refused the request (badArgument, cannotDisseminateFormat, ...)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"OAI-PMH error {code}: {message}" if message else f"OAI-PMH error {code}")


class BadResumptionToken(Exception):
    """The server no longer knows the resumptionToken (expired): the window restarts from its first page."""
