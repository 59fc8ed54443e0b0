"""Is a process still running? One answer for every OS (the click lock and the temp cleanup ask it).

`os.kill(pid, 0)` is a liveness probe on POSIX only: on Windows signal 0 is CTRL_C_EVENT, so
it sends Ctrl+C to the process (group) instead of asking about it. On Windows we open the
process with the least right that allows it and ask for its exit code instead.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import sys

_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_STILL_ACTIVE = 259
_ERROR_ACCESS_DENIED = 5


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (ours, or another user's we may not signal)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _pid_alive_windows(pid)
    return _pid_alive_posix(pid)


def _pid_alive_posix(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: error checking only, nothing is delivered
    except ProcessLookupError:
        return False
    except PermissionError:  # EPERM: it exists, it is just not ours
        return True
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def _pid_alive_windows(pid: int, kernel32=None, last_error=None) -> bool:
    """OpenProcess + GetExitCodeProcess (`kernel32` / `last_error` are given by tests)."""
    import ctypes
    from ctypes import wintypes

    k32 = kernel32 or ctypes.WinDLL("kernel32", use_last_error=True)
    last_error = last_error or ctypes.get_last_error
    handle = k32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        # Access denied means the process exists (a service or another user's); anything else
        # (ERROR_INVALID_PARAMETER) means no such process.
        return last_error() == _ERROR_ACCESS_DENIED
    try:
        code = wintypes.DWORD()
        if not k32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True  # it exists; we just could not read its state
        return code.value == _STILL_ACTIVE
    finally:
        k32.CloseHandle(handle)


def host_name() -> str:
    """This machine's name, to tell a lock held here (pid checkable) from one held elsewhere."""
    try:
        return socket.gethostname()
    except OSError:
        return ""


def os_user() -> str:
    """The login name this process runs under, for the Change Log ("" where there is none:
    some containers, services and service accounts). The CLI, the API and the add-in all ask here."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return ""


def return_free_memory() -> None:
    """Hand back to the OS the memory kept after big frames are freed, so a memory-hungry step that
    follows starts lower: Arrow's own allocator keeps what the read's text columns used (about
    0.16 GB after reading the M workbook), glibc its heap (about 0.3 GB after checking it)."""
    arrow = sys.modules.get("pyarrow")  # only if the read loaded it; never imported just for this
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    libc = _glibc()
    if libc is not None:
        try:
            libc.malloc_trim(0)
        except AttributeError:  # a libc without malloc_trim: nothing kept to hand back
            pass


@functools.cache
def _glibc():
    """glibc through ctypes, loaded once (None where there is none: not Linux, or musl)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


def drop_pages(buf, start: int, end: int) -> int:
    """Hand back to the OS the whole memory pages inside `buf[start:end]`: a stretch of a big `bytes`
    its holder will never read again (`madvise(MADV_DONTNEED)`: reading them would give zeros, so
    only the one who knows that may call this), or of a file mapped by `ooxml.spill` (always safe:
    pages read again come back from the file). Returns where the dropped pages end (`start` when
    nothing was dropped: not Linux, neither, less than a page, or madvise refused)."""
    import mmap

    if isinstance(buf, mmap.mmap):
        from .ooxml.spill import drop

        return drop(buf, start, end)
    libc = _glibc()
    if libc is None or type(buf) is not bytes or not 0 <= start < end <= len(buf):
        return start
    import ctypes

    page = mmap.PAGESIZE
    base = ctypes.cast(ctypes.c_char_p(buf), ctypes.c_void_p).value  # the bytes' own buffer, not a copy
    lo = -(-(base + start) // page) * page  # first whole page at or after `start`
    hi = (base + end) // page * page  # last whole page ends at or before `end`
    if hi <= lo:
        return start
    try:
        if libc.madvise(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), mmap.MADV_DONTNEED) != 0:
            return start
    except AttributeError:
        return start
    return hi - base
