"""A throw-away PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, unix socket only.

Found in /usr/lib/postgresql/*/bin (Debian's `postgresql` package; `.ci/run` installs it). Running as
root, the cluster is made and run by the `postgres` user (PostgreSQL refuses root). `start()` returns
None when no server can be found or started — the tests that need one then skip, saying why.
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

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        self._run(self.bindir / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def start(port: int = 55432) -> tuple[PgServer | None, str]:
    """Start a server; (server, "") or (None, why not)."""
    bindir = find_bindir()
    if bindir is None:
        return None, "PostgreSQL is not installed (apt-get install postgresql)"
    user = None
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return None, "running as root without runuser"
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="xlcrm-pg-"))
    os.chmod(root, 0o777)
    if user:
        shutil.chown(root, user)
    server = PgServer(bindir, root, port + os.getpid() % 1000, user)
    init = server._run(bindir / "initdb", "-D", root / "data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                       "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--no-locale")
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        return None, f"initdb failed: {init.stderr.strip()[-300:]}"
    opts = f"-k {root} -p {server.port} -c listen_addresses='' -c fsync=off -c max_connections=60"
    run = server._run(bindir / "pg_ctl", "-D", root / "data", "-o", opts, "-l", root / "log", "-w", "start")
    if run.returncode != 0:
        log = (root / "log").read_text(errors="replace")[-300:] if (root / "log").exists() else run.stderr
        shutil.rmtree(root, ignore_errors=True)
        return None, f"pg_ctl start failed: {log.strip()}"
    return server, ""


def fresh_database(server: PgServer, name: str) -> str:
    """A new, empty database on the server; its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.url.replace("@/postgres?", f"@/{name}?")
