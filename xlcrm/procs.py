"""Is a process still running? Shared by every lock xlcrm keeps (workbook locks, the add-in's lock).

`os.kill(pid, 0)` is a liveness probe only on POSIX: on Windows it *terminates* the process
(signal 0 is CTRL_C_EVENT there), so Windows asks the kernel through OpenProcess instead.
"""

from __future__ import annotations

import os
import socket

_STILL_ACTIVE = 259  # GetExitCodeProcess: the process has not exited


def pid_alive(pid: int) -> bool:
    """True if a process with this id exists (one we may not signal counts as alive)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True


def _windows_pid_alive(pid: int) -> bool:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    query_limited = 0x1000  # PROCESS_QUERY_LIMITED_INFORMATION
    handle = kernel32.OpenProcess(query_limited, False, pid)
    if not handle:
        # ERROR_ACCESS_DENIED: it exists but belongs to someone else; anything else: gone.
        return ctypes.get_last_error() == 5
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def host_name() -> str:
    """This machine's name, to tell a lock held here (pid checkable) from one held elsewhere."""
    try:
        return socket.gethostname()
    except OSError:
        return ""
