"""The write's first sheet inflated while the command is still planning.

`xlcrm run` on the M book plans for ~2.5 s on one core while the other has nothing to do; the write
then starts by inflating Basic Info (135 MB of XML, ~0.5 s) on the main thread. A `WriteAhead`
inflates the sheets the command said it will write into on a thread of its own during the planning
(zlib releases the GIL) and loads polars, which the write joins big blocks with (`ooxml.fastrows`).

The write adopts an inflated part only if the file's bytes it reads are the very bytes the thread
read (same SHA-256): the part is then the same bytes its own inflate would make, CRC-checked alike.
Anything odd — the file changed, a damaged part, no threads — and the write inflates as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import zipfile
from pathlib import Path

from ...ooxml import fastrows
from ...ooxml.package import Package

# Inflated parts held through the planning at most: the L book's Basic Info (1.45 GB) would add to
# the planning's peak, which is the run's; it is inflated by the write, as before.
MAX_BYTES = 512 << 20
POLARS_MIN_BYTES = 8 << 20  # a sheet this big gets blocks polars joins (`fastrows.MIN_CELLS`)


class WriteAhead:
    """Parts of one file, inflated on a daemon thread (see module doc)."""

    def __init__(self, path: Path, parts: list[str]):
        self.path = path
        self.parts = parts
        self.done = threading.Event()
        self.digest: str | None = None  # SHA-256 of the bytes the parts were inflated from
        self.inflated: dict[str, bytes] = {}
        self.dropped = False  # nobody will ask any more: keep nothing

    @classmethod
    def start(cls, path: Path, parts: list[str]) -> WriteAhead | None:
        """Start inflating `parts` of the file at `path` (None where there is nothing to gain)."""
        if not parts:
            return None
        ahead = cls(Path(path), list(dict.fromkeys(parts)))
        try:
            threading.Thread(target=ahead._run, name="xlcrm-write-ahead", daemon=True).start()
        except RuntimeError:  # no threads on this platform (Pyodide)
            return None
        return ahead

    def _run(self) -> None:
        _yield_to_planning()
        try:
            with zipfile.ZipFile(self.path) as zf:  # the directory only: is it worth reading the file?
                sizes = {info.filename: info.file_size for info in zf.infolist()}
            wanted = [p for p in self.parts if p in sizes]
            if wanted and sum(sizes[p] for p in wanted) <= MAX_BYTES:
                blob = self.path.read_bytes()
                pkg = Package(blob, self.path.name)
                digest = hashlib.sha256(blob).hexdigest()
                inflated = {part: pkg.read(part) for part in wanted if part in pkg.infos}
                if not self.dropped:
                    self.inflated, self.digest = inflated, digest
                del pkg, blob
            if max((sizes[p] for p in wanted), default=0) >= POLARS_MIN_BYTES:
                fastrows.installed()  # imported now, not in the middle of the write
        except Exception:  # the write inflates the part itself and reports what is wrong, if anything
            self.inflated, self.digest = {}, None
        finally:
            self.done.set()

    def parts_for(self, digest: str) -> dict[str, bytes]:
        """The inflated parts, if they were made from bytes with this SHA-256 ({} otherwise); once."""
        self.done.wait()
        inflated, self.inflated = self.inflated, {}
        return inflated if digest == self.digest else {}

    def drop(self) -> None:
        """Free what was inflated, now or when the thread is done (the command will not write)."""
        self.dropped = True
        self.inflated = {}


def _yield_to_planning() -> None:
    """Lower this thread's priority (Linux: niceness is per thread) to the lowest.

    The planning keeps both cores busy now (`run` checks in a forked child while it grades); at equal
    priority this thread took a third of them, and the planning lasted 2.0–2.2 s instead of
    1.4–1.6 s on the M book. At the lowest it runs on what the two leave, and once the write waits
    for it nothing competes with it: the write was no slower (4.2–5.0 s, as before)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
