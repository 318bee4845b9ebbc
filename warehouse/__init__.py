"""Getting arXiv data in and keeping it: sources, Parquet tables, the read API."""

from warehouse.api import Warehouse, open_warehouse
from warehouse.settings import Settings

__all__ = ["Settings", "Warehouse", "open_warehouse"]
