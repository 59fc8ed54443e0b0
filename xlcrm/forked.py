"""Pure work on the other core: `Forked(fn)` computes `fn()` in a forked child while the caller goes
on, and `result()` hands its value back.

Why a process: the daily run's planning is pandas and Arrow work that holds the GIL, so a thread
gains nothing (measured: Basic Info's phone checks on a thread of their own ran no faster). A
forked child sees the book the parent read copy-on-write, so nothing is pickled on the way in, and
it sends back only its result (the M book's check: 8,013 problems, under 1 MB). On the M book the
check then runs beside the grading: 1.6–1.8 s for both instead of 2.2–2.5 s. The price is memory:
the pages either process writes to are copied (the M book: +170–250 MB while both run).
The write uses it too: a run's tool sheets are built in a child while the parent edits the
user's sheets (`workbook.writer.toolahead`), and the big sheets that only get marks are streamed by
children (`workbook.writer.streamed`), whose bytes come back raw (`raw=True`: no pickle, one copy).

Safe by construction:
- The child runs one pure function, writes nothing but its pickled result to a pipe and leaves with
  `os._exit`: no atexit handler runs there (the workbook's lock stays the parent's), no buffered
  output is flushed twice, no file is touched.
- Anything odd gives the parent's own computation of `fn()` instead, with its own errors: the child
  raised, died, sent something unreadable, or made no progress for `STALL_SECONDS` (a library lock
  held by another thread at the fork would hang the child, never the parent).
- A child is forked only on Linux (fork is unsafe with macOS's system libraries and absent on
  Windows), with two usable cores, memory to spare, work the caller says is big enough, and not
  when XLCRM_FORK=0 (XLCRM_FORK=1: fork whenever possible, whatever the size — for tests).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import pickle
import select
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

FORK_ENV = "XLCRM_FORK"
STALL_SECONDS = 5.0  # a child whose CPU time has not moved for this long is taken for hung
POLL_SECONDS = 0.25
PIPE_BYTES = 1 << 20  # the pipe's buffer (Linux lets any process have up to 1 MB)
# Free memory asked for, as a share of the parent's resident size: the child writes to pages it
# touches (reference counts), so they are copied. The M book's check copied 15 % (164 of 1,120 MB).
SPARE_MEMORY_SHARE = 0.5


def fork_wanted(worth_it: bool) -> bool:
    """Fork for this work? XLCRM_FORK=0 never, =1 whenever this machine can, else when `worth_it`."""
    setting = os.environ.get(FORK_ENV, "").strip()
    if setting == "0" or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if len(os.sched_getaffinity(0)) < 2 or _cpu_ticks(os.getpid()) is None:  # no /proc: a hung child could not be told
        return False
    if setting == "1":
        return True
    return worth_it and _memory_to_spare()


class Forked(Generic[T]):
    """`fn()` computed in a forked child (see the module doc), or by `result()` itself.

    `raw=True`: `fn` returns bytes or a list of bytes-like pieces, and `result()` is their
    concatenation (a bytearray from the child: read straight into place, never pickled — a
    deflated sheet of 60 MB is not held three times over)."""

    def __init__(self, fn: Callable[[], T], *, worth_it: bool = True, raw: bool = False, nice: int = 0):
        self.fn = fn
        self.raw = raw
        self.nice = nice  # added to the child's niceness: work needed later yields to work needed now
        self.pid: int | None = None  # the child, while it is ours to reap
        self._fd: int | None = None  # the pipe's reading end
        if fork_wanted(worth_it):
            self._start()

    @property
    def forked(self) -> bool:
        """Is a child computing it (until `result` or `close` has reaped it)?"""
        return self.pid is not None

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        with contextlib.suppress(OSError, AttributeError):  # fewer, bigger reads for a big result (Linux)
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        try:
            with warnings.catch_warnings():  # Python 3.12+ warns about forking a process with threads
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:  # no memory or process slots to spare: computed in the parent
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:
            os.close(read_fd)
            _child(self.fn, write_fd, self.raw, self.nice)  # never returns
        os.close(write_fd)
        self.pid, self._fd = pid, read_fd

    def result(self) -> T:
        """The child's value; the parent's own `fn()` if there is no child or it failed. Once."""
        if self.pid is not None:
            data = self._receive()
            status = self._reap(kill=data is None)
            if data is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                if self.raw:
                    return data
                try:
                    return pickle.loads(data)
                except Exception:  # noqa: BLE001 — an unreadable result: computed here instead
                    pass
        value = self.fn()
        if self.raw and isinstance(value, (list, tuple)):
            return b"".join(value)
        return value

    def close(self) -> None:
        """Stop and reap the child if its result is not wanted (an error in the parent)."""
        if self.pid is not None:
            self._reap(kill=True)

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _receive(self) -> bytes | bytearray | None:
        """Everything the child wrote, once it closed the pipe; None if it stopped making progress
        (or, raw, sent another length than it announced)."""
        assert self._fd is not None and self.pid is not None
        sink = _RawSink() if self.raw else _Chunks()
        cpu, quiet_since = None, time.monotonic()
        poll = select.poll()  # not select(): no limit on the descriptor's number in a process with many files open
        poll.register(self._fd, select.POLLIN)
        while True:
            ready = poll.poll(POLL_SECONDS * 1000)
            now = time.monotonic()
            if ready:
                if not sink.read(self._fd):
                    return sink.value()
                quiet_since = now
                continue
            ticks = _cpu_ticks(self.pid)
            if ticks != cpu:
                cpu, quiet_since = ticks, now
            elif now - quiet_since > STALL_SECONDS:
                return None

    def _reap(self, *, kill: bool) -> int:
        pid, self.pid = self.pid, None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            return os.waitpid(pid, 0)[1]  # (EINTR is retried by Python itself)
        except ChildProcessError:  # reaped elsewhere (a SIGCHLD handler): no status to trust
            return -1  # not WIFEXITED


class _Chunks:
    """A pickled result as it arrives."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def read(self, fd: int) -> int:
        chunk = os.read(fd, 1 << 20)
        self.chunks.append(chunk)
        return len(chunk)

    def value(self) -> bytes:
        return b"".join(self.chunks)


class _RawSink:
    """A raw result as it arrives: its 8-byte length, then its bytes, read straight into place."""

    def __init__(self):
        self.head = b""
        self.buf: bytearray | None = None
        self.at = 0
        self.extra = False

    def read(self, fd: int) -> int:
        if self.buf is None:
            got = os.read(fd, 8 - len(self.head))
            self.head += got
            if len(self.head) == 8:
                self.buf = bytearray(struct.unpack("<Q", self.head)[0])
            return len(got)
        if self.at == len(self.buf):  # all there: only the end of the stream may follow
            more = os.read(fd, 1 << 16)
            self.extra |= bool(more)  # more than announced: refused
            return len(more)
        got = os.readv(fd, [memoryview(self.buf)[self.at : self.at + (1 << 20)]])
        self.at += got
        return got

    def value(self) -> bytearray | None:
        return self.buf if self.buf is not None and self.at == len(self.buf) and not self.extra else None


def _child(fn: Callable[[], object], write_fd: int, raw: bool = False, nice: int = 0) -> None:
    """In the forked child: compute, send, and leave without any of the parent's exit work."""
    code = 1
    try:
        gc.disable()  # a collection would touch (and so copy) every tracked object of the parent
        if nice:
            with contextlib.suppress(OSError):
                os.nice(nice)
        if raw:
            value = fn()
            pieces = [memoryview(p).cast("B") for p in (value if isinstance(value, (list, tuple)) else [value])]
            pieces.insert(0, memoryview(struct.pack("<Q", sum(len(p) for p in pieces))))
        else:
            pieces = [memoryview(pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL))]
        for view in pieces:
            while view:
                view = view[os.write(write_fd, view):]
        code = 0
    except BaseException:  # noqa: BLE001 — the parent computes it again and raises the error there
        pass
    finally:
        os._exit(code)


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU ticks of a process so far (None if /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def _memory_to_spare() -> bool:
    """Is MemAvailable at least SPARE_MEMORY_SHARE of this process's resident size?"""
    try:
        with open("/proc/meminfo") as f:
            available = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
        with open("/proc/self/status") as f:
            resident = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return False
    return available >= resident * SPARE_MEMORY_SHARE
