"""Getting arXiv data in and keeping it: sources, Parquet tables, the read API.

The names below load on first use (PEP 562), so importing a light submodule (``warehouse.errors``,
``warehouse.settings``) does not pay for polars and the table store: the CLI's ``--help`` stays instant.
"""

from importlib import import_module

_EXPORTS = {"Settings": "warehouse.settings", "Warehouse": "warehouse.api", "open_warehouse": "warehouse.api"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'warehouse' has no attribute {name!r}")
