"""User-facing errors: the CLI prints their message on one line, without a traceback."""


class ArxivTrendsError(Exception):
    """Base class for errors caused by input, configuration or environment, not by a bug."""


class InputError(ArxivTrendsError):
    """An input file is unreadable, of an unknown format, or otherwise unusable."""


class WarehouseLocked(ArxivTrendsError):
    """Another process holds the warehouse writer lock."""


class TableDamaged(ArxivTrendsError):
    """A table file is missing, truncated, replaced or corrupt: found by a read or by ``verify``.

    ``damage`` lists what was found (``warehouse.tables.Damage``); the message names the first file and
    says how to recover, on one line.
    """

    def __init__(self, damage: list):
        self.damage = list(damage)
        first = self.damage[0]
        tables = list(dict.fromkeys(d.table for d in self.damage))
        if len(tables) > 1:
            more = f" (and {len(self.damage) - 1} more damaged file(s), in tables {', '.join(tables)})"
        else:
            more = f" (and {len(self.damage) - 1} more damaged file(s))" if len(self.damage) > 1 else ""
        super().__init__(f"{first.describe()}{more}; run `arxiv-trends verify` to list all damage and "
                         "`arxiv-trends repair` to restore it")
