"""An advisory lock beside the workbook, so two xlcrm processes never interleave read → write.

`.~xlcrm-<name>.lock` is created with O_EXCL and holds who made it (pid, host, time). A second
xlcrm waits a little for it, then refuses with a bilingual message naming the holder. A lock
whose process is gone (same host, pid not alive) is stale and taken over. Within one process the
lock is re-entrant per thread: the file adapter holds it from its read to its write, and the
writer's own acquisition inside that span just counts up.

It is advisory: Excel does not know it. Excel's own lock files are checked in `guard`, and a
change made anyway between read and write is caught by the fingerprint (`guard.Fingerprint`).
"""

from __future__ import annotations

import atexit
import datetime as dt
import errno
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import FileRefused
from ..procs import host_name, pid_alive
from .guard import translate_os_error

LOCK_PREFIX = ".~xlcrm-"
WAIT_ENV = "XLCRM_LOCK_WAIT"  # seconds a second xlcrm waits for the lock (default WAIT_SECONDS)
WAIT_SECONDS = 15.0  # a full run on a large (80 MB) book takes ~10 s
POLL_SECONDS = 0.1
UNWRITTEN_GRACE = 5.0  # an empty lock file younger than this is being written by its owner
OTHER_HOST_STALE = 6 * 3600.0  # a lock from another machine (pid not checkable) expires after this
NO_LOCK_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}  # a read-only folder: nobody can write here


def lock_path(target: Path) -> Path:
    return target.with_name(f"{LOCK_PREFIX}{target.name}.lock")


@dataclass
class _Held:
    thread: int
    count: int
    token: str  # the content this process wrote, so it only ever removes its own file


_held: dict[str, _Held] = {}
_registry = threading.RLock()  # re-entrant: an adapter's finalizer may release during an acquire


def wait_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, WAIT_SECONDS)))
    except ValueError:
        return WAIT_SECONDS


class WorkbookLock:
    """`with WorkbookLock(target):` holds the lock (see module doc); `held` says whether it did.

    In a folder where no file can be created (read-only) nothing can write the workbook either:
    the lock is then skipped (`held` False) and reading goes on.
    """

    def __init__(self, target: Path, wait: float | None = None):
        self.target = Path(target)
        self.path = lock_path(self.target)
        self.wait = wait_seconds() if wait is None else wait
        self.held = False

    def acquire(self) -> bool:
        if self.held:
            return True
        key = str(self.path)
        me = threading.get_ident()
        deadline = time.monotonic() + self.wait
        while True:
            with _registry:
                mine = _held.get(key)
                if mine is not None and mine.thread == me:
                    mine.count += 1
                    self.held = True
                    return True
                if mine is None:
                    token = self._try_create()
                    if token is None:  # no lock possible here (read-only folder)
                        return False
                    if token:
                        _held[key] = _Held(me, 1, token)
                        self.held = True
                        return True
            if time.monotonic() >= deadline:
                raise self._busy()
            time.sleep(POLL_SECONDS)

    def _try_create(self) -> str | None:
        """Create the lock file: its token, "" if another holds it, None if no file can be made here."""
        token = json.dumps(
            {"pid": os.getpid(), "host": host_name(), "time": dt.datetime.now().isoformat(timespec="seconds")},
            ensure_ascii=False,
        )
        for _attempt in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if not self._take_over_stale():
                    return ""
                continue
            except OSError as exc:
                if exc.errno in NO_LOCK_ERRNOS:
                    return None
                raise translate_os_error(exc, self.target) from exc
            try:
                os.write(fd, token.encode("utf-8"))
            except OSError as exc:  # a full disk can still create the empty file
                os.close(fd)
                self.path.unlink(missing_ok=True)
                raise translate_os_error(exc, self.target) from exc
            os.close(fd)
            return token
        return ""

    def _holder(self) -> tuple[dict, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
            info = json.loads(text)
            return (info if isinstance(info, dict) else {}), text
        except (OSError, ValueError):
            return {}, ""

    def _is_stale(self, info: dict) -> bool:
        try:
            age = time.time() - self.path.stat().st_mtime
        except OSError:
            return False  # gone already: just retry the create
        if not info:
            return age > UNWRITTEN_GRACE
        pid = info.get("pid")
        if not isinstance(pid, int):
            return True
        if info.get("host") != host_name():
            return age > OTHER_HOST_STALE
        if pid == os.getpid():
            return str(self.path) not in _held  # our pid, but not held by us: left by a dead namesake
        return not pid_alive(pid)

    def _take_over_stale(self) -> bool:
        """Remove a stale lock; True if the create may be retried. The lock is moved aside (atomic, so
        of two takers one wins) and, if what was moved is a fresh lock made after we looked, put back."""
        info, text = self._holder()
        if not self._is_stale(info):
            return False
        aside = self.path.with_name(f"{self.path.name}.stale-{os.getpid()}-{threading.get_ident()}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        try:
            moved = aside.read_text(encoding="utf-8")
        except OSError:
            moved = text
        if moved != text:  # someone created a fresh lock after we looked: put it back
            try:
                os.link(aside, self.path)
            except OSError:
                pass
        aside.unlink(missing_ok=True)
        return True

    def _busy(self) -> FileRefused:
        info, _ = self._holder()
        return FileRefused(
            "“{name}”正被另一个 xlcrm 使用（进程 {pid}，计算机 {host}，开始于 {since}）。请等它完成后再试；"
            "如果确定没有 xlcrm 在运行，可删除锁文件 {lock}。",
            "'{name}' is in use by another xlcrm (process {pid} on {host}, since {since}). Try again when it has "
            "finished; if you are sure no xlcrm is running, delete the lock file {lock}.",
            name=self.target.name,
            pid=info.get("pid", "?"),
            host=info.get("host") or "?",
            since=info.get("time") or "?",
            lock=self.path,
        )

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        key = str(self.path)
        with _registry:
            mine = _held.get(key)
            if mine is None:
                return
            mine.count -= 1
            if mine.count > 0:
                return
            del _held[key]
            _remove_if_ours(self.path, mine.token)

    def __enter__(self) -> WorkbookLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _remove_if_ours(path: Path, token: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == token:
            path.unlink()
    except OSError:
        pass


@atexit.register
def _release_all() -> None:
    """A process that exits while holding locks (an unclosed adapter) leaves none behind."""
    with _registry:
        for key, held in list(_held.items()):
            _remove_if_ours(Path(key), held.token)
        _held.clear()
