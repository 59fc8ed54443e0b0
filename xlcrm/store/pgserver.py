"""A PostgreSQL server for a team (or a test) in one command: initdb + pg_ctl in a folder.

`xlcrm server start DIR` (and the tests) use it. The server binaries are found in
/usr/lib/postgresql/*/bin (Debian/Ubuntu `postgresql`) or on PATH. Run as root, the cluster is made
and run by the `postgres` user (PostgreSQL refuses root). Connections: the unix socket in DIR, and TCP
on `listen` (localhost by default). Local connections are trusted — for a server other machines reach,
set a password and edit pg_hba.conf (docs/team.md).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    user: str | None  # run as this OS user (root cannot run PostgreSQL), or None: as ourselves

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.root}&port={self.port}"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def stop(self, remove: bool = True) -> None:
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate" if remove else "fast", "stop")
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def start(port: int = 55432, root: Path | None = None, *, listen: str = "", durable: bool = False,
          ) -> tuple[PgServer | None, str]:
    """Start a server in `root` (a new temporary folder when None; an existing cluster there is reused);
    (server, "") or (None, why not). `durable=False` (tests) turns fsync off."""
    bindir = find_bindir()
    if bindir is None:
        return None, "PostgreSQL is not installed (apt-get install postgresql)"
    user = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return None, "running as root without runuser"
        user = "postgres"
    temporary = root is None
    root = Path(tempfile.mkdtemp(prefix="xlcrm-pg-")) if root is None else Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o777 if temporary else 0o755)
    if user:
        shutil.chown(root, user)
    server = PgServer(bindir, root, port + os.getpid() % 1000 if temporary else port, user)
    if not (server.data / "PG_VERSION").exists():
        init = server._run(bindir / "initdb", "-D", server.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                           "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--no-locale")
        if init.returncode != 0:
            if temporary:
                shutil.rmtree(root, ignore_errors=True)
            return None, f"initdb failed: {init.stderr.strip()[-300:]}"
    opts = f"-k {root} -p {server.port} -c listen_addresses='{listen}' -c max_connections=100"
    if not durable:
        opts += " -c fsync=off"
    run = server._run(bindir / "pg_ctl", "-D", server.data, "-o", opts, "-l", root / "log", "-w", "start")
    if run.returncode != 0:
        log = (root / "log").read_text(errors="replace")[-300:] if (root / "log").exists() else run.stderr
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        return None, f"pg_ctl start failed: {log.strip()}"
    return server, ""


def stop(root: Path) -> tuple[bool, str]:
    """Stop the server whose cluster is in `root` (started by `start`), keeping its data."""
    bindir = find_bindir()
    if bindir is None:
        return False, "PostgreSQL is not installed"
    root = Path(root).resolve()
    user = "postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    done = PgServer(bindir, root, 0, user)._run(bindir / "pg_ctl", "-D", root / "data", "-m", "fast", "stop")
    return done.returncode == 0, (done.stderr or done.stdout).strip()


def fresh_database(server: PgServer, name: str) -> str:
    """A new, empty database on the server; its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.url.replace("@/postgres?", f"@/{name}?")
