"""A disk that fills up, for the tests of what a failed write leaves behind."""

from __future__ import annotations

import errno
import os


def enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FillingFile:
    """A file whose writes after the first `writes_ok` find the disk full (a partly written file)."""

    def __init__(self, fh, writes_ok: int = 1):
        self.fh, self.writes, self.writes_ok = fh, 0, writes_ok

    def write(self, data):
        self.writes += 1
        if self.writes > self.writes_ok:
            enospc()
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()
