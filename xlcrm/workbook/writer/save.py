"""Atomic save with a backup: the user's file is either the old one or the new one, never half.

Order: write a temp file in the same folder → fsync → verify it → copy the original into the
backup folder (itself via a temp name, fsync, rename) → `os.replace(temp, original)` → fsync the
folder. A crash at any point leaves the original in place; a leftover temp file
(`.<name>.xlcrm-tmp-<pid>`) is removed by the next run.
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
    """Keep `path` as `backup_dir/<stem>.<timestamp>[.<operation>]<suffix>`; keep the newest `keep`.

    The writer replaces the file with a new one (`os.replace`), never rewrites it in place, so the
    backup can be a second name (hard link) for the file as it is now: no copy, however big the
    book. Where links are not possible (another drive, FAT, some network shares) it is a copy — never
    partial: written to a temporary name, fsynced, renamed; on any failure (a full disk) the
    temporary copy is removed and the error raised.
    """
    if keep <= 0:
        return None
    backup_dir.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(backup_dir / path.name)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    tag = "".join(c for c in operation if c.isalnum() or c in "-_")
    name = f"{path.stem}.{stamp}{'.' + tag if tag else ''}{path.suffix}"
    target = backup_dir / name
    try:
        os.link(path, target)
    except OSError:  # no hard links here: copy
        _copy_backup(path, backup_dir, target)
    fsync_dir(backup_dir)
    prune_backups(path, backup_dir, keep)
    return target


def _copy_backup(path: Path, backup_dir: Path, target: Path) -> None:
    tmp = temp_path(backup_dir / path.name)
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copystat(path, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_temp(tmp: Path, data: bytes, like: os.stat_result) -> None:
    """Write the new package beside the original, fsynced, with the original's mode (and owner)."""
    with open(tmp, "wb") as fh:
        half = len(data) // 2
        view = memoryview(data)
        fh.write(view[:half])
        fh.flush()
        checkpoint("temp_half_written")
        fh.write(view[half:])
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, like.st_mode & 0o7777)
    if hasattr(os, "chown") and (os.stat(tmp).st_uid, os.stat(tmp).st_gid) != (like.st_uid, like.st_gid):
        try:  # root writing a user's file: the file stays the user's
            os.chown(tmp, like.st_uid, like.st_gid)
        except OSError:
            pass


def file_holds(path: Path, data: bytes, chunk: int = 8 << 20) -> bool:
    """Whether the file at `path` holds exactly `data`, read back a chunk at a time (a read of the
    whole file would hold a second copy of a 0.4 GB workbook at the write's peak)."""
    with open(path, "rb") as fh:
        for at in range(0, len(data), chunk):
            if fh.read(chunk) != data[at : at + chunk]:  # bytes, not a memoryview: compared at memcmp speed
                return False
        return fh.read(1) == b""


def backups_of(path: Path, backup_dir: Path) -> list[Path]:
    pattern = f"{glob_escape(path.stem)}.[0-9]*{glob_escape(path.suffix)}"
    return sorted(backup_dir.glob(pattern), key=lambda p: p.name)


def prune_backups(path: Path, backup_dir: Path, keep: int) -> None:
    old = backups_of(path, backup_dir)
    for p in old[: max(0, len(old) - keep)]:
        p.unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
