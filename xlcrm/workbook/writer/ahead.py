"""The write's first sheet inflated while the command is still planning.

The write of `xlcrm run` on the M book starts by inflating Basic Info (135 MB of XML, ~0.5 s) on the
main thread. A `WriteAhead` inflates the sheets the command said it will write into on a thread of
its own while the command plans (zlib releases the GIL), at the lowest priority — the planning has
both cores (`run` checks in a forked child) —, and loads polars, which the write joins big blocks
with (`ooxml.fastrows`). It reads the file once, hashing it and keeping only those sheets' stored
bytes, so what it holds through the planning is what it inflates, not the whole file.

The write adopts an inflated part only if the file's bytes it reads are the very bytes the thread
hashed (same SHA-256): the part is then the same bytes its own inflate would make, CRC-checked alike.
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
from ...ooxml.package import LOCAL_HEADER_MAX, inflate_member, stored_bytes

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
            with open(self.path, "rb") as fh:
                with zipfile.ZipFile(fh) as zf:  # the directory only: is it worth reading the file?
                    listed = zf.infolist()
                    infos = {info.filename: info for info in listed}
                    start_dir = zf.start_dir
                if len(infos) != len(listed) or any(info.flag_bits & 0x1 for info in listed):
                    raise ValueError("duplicate or encrypted members: the write refuses the file")
                wanted = [infos[p] for p in self.parts if p in infos]
                if wanted and sum(info.file_size for info in wanted) <= MAX_BYTES:
                    inflated, digest = _inflate_while_hashing(fh, wanted, start_dir)
                    if not self.dropped:
                        self.inflated, self.digest = inflated, digest
            if max((info.file_size for info in wanted), default=0) >= POLARS_MIN_BYTES:
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


CHUNK = 1 << 20


def _inflate_while_hashing(fh, wanted: list[zipfile.ZipInfo], start_dir: int) -> tuple[dict[str, bytes], str]:
    """The wanted members inflated and the SHA-256 of the whole file, from one pass over it that keeps
    only those members' stored bytes — not the whole file: this thread runs at the lowest priority,
    so it may hold what it keeps through the planning, the run's peak (M: 79 MB of file → ~15 MB).

    Every byte inflated is a byte hashed: the members are found through the directory read before the
    pass, and that directory must be byte for byte the one at the end of the hashed bytes (a file
    rewritten in place meanwhile gives ValueError). Each member is CRC- and size-checked as
    `Package._inflate` checks it (`ooxml.package.inflate_member`)."""
    size = fh.seek(0, os.SEEK_END)
    fh.seek(start_dir)
    directory = fh.read()
    # From the local header to the end of the data, whatever the lengths of the local name and extra field.
    spans = [(info, info.header_offset, min(size, info.header_offset + LOCAL_HEADER_MAX + info.compress_size))
             for info in wanted]
    kept = {info.filename: bytearray() for info in wanted}
    tail = bytearray()
    digest = hashlib.sha256()
    fh.seek(0)
    pos, buf = 0, bytearray(CHUNK)
    while n := fh.readinto(buf):
        piece = memoryview(buf)[:n]
        digest.update(piece)
        for info, lo, hi in spans:
            if lo < pos + n and hi > pos:
                kept[info.filename] += piece[max(lo - pos, 0):min(hi - pos, n)]
        if pos + n > start_dir:
            tail += piece[max(start_dir - pos, 0):]
        pos += n
    if pos != size or tail != directory:
        raise ValueError("the file changed while it was read")
    return {info.filename: _member(info, kept.pop(info.filename)) for info in wanted}, digest.hexdigest()


def _member(info: zipfile.ZipInfo, stored: bytearray) -> bytes:
    """A deflated member's bytes from its local header onwards, checked as `Package` checks them."""
    if info.compress_type != zipfile.ZIP_DEFLATED:  # (sheets always are) left to the write
        raise ValueError(f"{info.filename}: compression {info.compress_type}")
    payload = stored_bytes(stored, 0, info)
    if len(payload) != info.compress_size:
        raise ValueError(f"{info.filename} is cut short")
    return inflate_member(info, payload)


def _yield_to_planning() -> None:
    """Lower this thread's priority (Linux: niceness is per thread) to the lowest.

    The planning keeps both cores busy now (`run` checks in a forked child while it grades); at equal
    priority this thread took a third of them, and the planning lasted 2.0–2.2 s instead of
    1.4–1.6 s on the M book. At the lowest it runs on what the two leave, and once the write waits
    for it nothing competes with it: the write was no slower (4.2–5.0 s, as before)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
