"""The team store: one relational schema (SQLAlchemy Core) behind every salesperson's workbook.

SQLite file by default (embedded, WAL), PostgreSQL for a team server — the URL decides, the code is
the same. `tables` defines the schema, `engine` turns a URL into a migrated engine, `repository`
reads and writes rows with optimistic version checks and an append-only change log.
"""

from .engine import StoreUnavailable, open_store, resolve_store_url

__all__ = ["StoreUnavailable", "open_store", "resolve_store_url"]
