"""User-facing errors: the CLI prints their message on one line, without a traceback."""


class ArxivTrendsError(Exception):
    """Base class for errors caused by input, configuration or environment, not by a bug."""


class InputError(ArxivTrendsError):
    """An input file is unreadable, of an unknown format, or otherwise unusable."""


class WarehouseLocked(ArxivTrendsError):
    """Another process holds the warehouse writer lock."""
