"""Store URL → a migrated SQLAlchemy engine.

The URL comes from `--store` (or the API's `store=`), else `XLCRM_STORE`, else the user's own
config file (`~/.config/xlcrm/config.toml`, `%APPDATA%\\xlcrm\\config.toml` on Windows: `store = "…"`),
else an SQLite file in the user's data folder. Never from a workbook: a received workbook must not be
able to point xlcrm at somebody's server.

SQLite files run in WAL mode with a busy timeout (several processes sync at once); PostgreSQL URLs use
psycopg 3. The schema is brought to the newest Alembic revision on connect, under a lock.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from ..errors import XlcrmError
from . import tables

HEAD = "0002"
_MIGRATED: dict[str, Engine] = {}


class StoreUnavailable(XlcrmError):
    """The store cannot be reached or opened; nothing was written anywhere."""

    exit_code = 3


def config_dir() -> Path:
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "xlcrm"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "xlcrm"


def default_sqlite() -> Path:
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "xlcrm" / "team.sqlite"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "xlcrm" / "team.sqlite"


def resolve_store_url(explicit: str | None = None) -> str:
    """The store URL: explicit → XLCRM_STORE → the user's config file → the default SQLite file."""
    if explicit:
        return normalise_url(explicit)
    if os.environ.get("XLCRM_STORE"):
        return normalise_url(os.environ["XLCRM_STORE"])
    cfg = config_dir() / "config.toml"
    if cfg.is_file():
        url = _config_store(cfg)
        if url:
            return normalise_url(str(url))
    return normalise_url(str(default_sqlite()))


def _config_store(cfg: Path) -> str | None:
    try:
        text_ = cfg.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreUnavailable("配置文件 {path} 无法读取：{why}", "The config file {path} cannot be read: {why}",
                               path=str(cfg), why=str(exc)) from None
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # 3.10: the one line xlcrm needs
        found = re.search(r'^\s*store\s*=\s*"([^"]*)"', text_, re.M)
        return found.group(1) if found else None
    try:
        data = tomllib.loads(text_)
    except tomllib.TOMLDecodeError as exc:
        raise StoreUnavailable("配置文件 {path} 无法读取：{why}", "The config file {path} cannot be read: {why}",
                               path=str(cfg), why=str(exc)) from None
    return data.get("store") or (data.get("team") or {}).get("store")


def normalise_url(url: str) -> str:
    """A plain path is an SQLite file; postgres:// and postgresql:// use psycopg 3."""
    if "://" not in url:
        return "sqlite:///" + str(Path(url).expanduser().resolve())
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN instead, so two
        # syncs never deadlock upgrading a read lock.
        event.listen(engine, "connect", lambda conn, rec: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def open_store(url: str | None = None) -> Engine:
    """A migrated engine for the store at `url` (resolved as above); a clear bilingual error when the
    store cannot be reached."""
    url = resolve_store_url(url)
    if url in _MIGRATED:
        return _MIGRATED[url]
    try:
        engine = make_engine(url)
        migrate(engine)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise StoreUnavailable(
            "无法连接团队数据库 {url}：{why}。没有写入任何内容。请检查 --store 或配置文件中的地址，以及数据库是否已启动。",
            "Cannot reach the team store {url}: {why}. Nothing was written. Check --store or the config file, "
            "and that the database is running.",
            url=shown_url(url), why=str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__,
        ) from None
    _MIGRATED[url] = engine
    return engine


def close_stores() -> None:
    """Dispose every engine this process opened (tests, long-running add-in sessions)."""
    for engine in _MIGRATED.values():
        engine.dispose()
    _MIGRATED.clear()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic), one process at a time."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(20261206)"))
        current = None
        if inspect(conn).has_table("alembic_version"):
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if current != HEAD:
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        add_new_fields(conn)


def add_new_fields(conn) -> None:
    """A field added to schema.py after the last revision gets its text column (additive only)."""
    insp = inspect(conn)
    for name in tables.RECORDS:
        have = {c["name"] for c in insp.get_columns(name)}
        for key in tables.field_keys(name):
            if key not in have:
                quoted = conn.dialect.identifier_preparer.quote(key)
                conn.execute(text(f"ALTER TABLE {name} ADD COLUMN {quoted} TEXT"))
