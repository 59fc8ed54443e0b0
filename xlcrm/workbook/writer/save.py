"""Atomic save with a backup: the user's file is either the old one or the new one, never half.

Order: write a temp file in the same folder → fsync → verify it → copy the original into the
backup folder → `os.replace(temp, original)` → fsync the folder. A crash at any point leaves the
original in place; a leftover temp file (`.<name>.xlcrm-tmp-<pid>`) is removed by the next run.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

from ...procs import pid_alive

TEMP_MARK = ".xlcrm-tmp-"
PAUSE_ENV = "XLCRM_WRITER_PAUSE"  # test hook: "checkpoint" or "checkpoint:/path/to/flag"


def checkpoint(name: str) -> None:
    """Test hook for crash-safety tests: pause at a named point so a test can SIGKILL us there."""
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    wanted, _, flag = spec.partition(":")
    if wanted != name:
        return
    if flag:
        Path(flag).write_text(name)
    print(f"xlcrm-writer-paused:{name}", file=sys.stderr, flush=True)
    time.sleep(3600)


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}")


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove temp files a killed earlier run left beside `path` (not ones of a live process)."""
    removed = []
    prefix = f".{path.name}{TEMP_MARK}"
    for p in path.parent.glob(f".{glob_escape(path.name)}{TEMP_MARK}*"):
        pid_text = p.name[len(prefix) :]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and pid_alive(int(pid_text)):
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def default_backup_dir(path: Path) -> Path:
    return path.parent / ".xlcrm-backup"


def make_backup(path: Path, backup_dir: Path, keep: int, operation: str = "") -> Path | None:
    """Copy `path` to `backup_dir/<stem>.<timestamp>[.<operation>]<suffix>`; keep the newest `keep`."""
    if keep <= 0:
        return None
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    tag = "".join(c for c in operation if c.isalnum() or c in "-_")
    name = f"{path.stem}.{stamp}{'.' + tag if tag else ''}{path.suffix}"
    target = backup_dir / name
    shutil.copy2(path, target)
    _fsync_file(target)
    prune_backups(path, backup_dir, keep)
    return target


def backups_of(path: Path, backup_dir: Path) -> list[Path]:
    pattern = f"{glob_escape(path.stem)}.[0-9]*{glob_escape(path.suffix)}"
    return sorted(backup_dir.glob(pattern), key=lambda p: p.name)


def prune_backups(path: Path, backup_dir: Path, keep: int) -> None:
    old = backups_of(path, backup_dir)
    for p in old[: max(0, len(old) - keep)]:
        p.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
