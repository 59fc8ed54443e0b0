"""The tests' PostgreSQL server: the same code as `xlcrm server start` (xlcrm/store/pgserver.py)."""

from xlcrm.store.pgserver import PgServer, fresh_database, start

__all__ = ["PgServer", "fresh_database", "start"]
