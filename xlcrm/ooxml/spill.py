"""A huge part's inflated XML kept in a temporary file mapped into memory, not in the process's heap.

The write edits Basic Info's XML in place — the L book's is 1.45 GB — and, held as `bytes`, that
whole input sat in memory from the first edit to the render, on top of the plan and the output
(the write's peak). Spilled, the part is inflated a piece at a time into an unlinked temporary file
(its CRC-32 and size checked as `package.inflate_member` checks them) and mapped read-only: every
reader of `bytes` (find, slices, regular expressions, memoryviews) works on the mapping as it is,
and only the pages being read are resident. Those can be handed back at any time
(`procs.drop_pages`): read again, they come back from the file (the OS's page cache, which it may
reclaim), so the long scans over the part drop the pages behind them (`find`, `RowIndex.index_rows`)
and the render drops what it has deflated (`drop`, through `procs.drop_pages`).

Only on Linux, where the temporary folder (or /var/tmp, when /tmp is a tmpfs: a file there would be
memory all the same) is on a disk with room; else None, and the part is inflated into memory as
before. The file has no name from the start (or at once), so nothing is left behind.
"""

from __future__ import annotations

import mmap
import os
import shutil
import sys
import tempfile
import zipfile

from .fastzlib import crc32, inflate_chunks

SPILL_BYTES = 512 << 20  # parts with more inflated XML than this are spilled
SCAN_STEP = 64 << 20  # long scans over a spilled part hand its pages back this often
_PIECE = 16 << 20


class SpillMismatch(Exception):
    """The member's inflated bytes are not what the zip directory says (size or CRC-32)."""

    def __init__(self, too_big: bool):
        super().__init__("too big" if too_big else "bad CRC")
        self.too_big = too_big


def worth_it(size: int) -> bool:
    return size > SPILL_BYTES and sys.platform.startswith("linux") and os.environ.get("XLCRM_SPILL", "") != "0"


def inflate_to_map(info: zipfile.ZipInfo, payload) -> mmap.mmap | None:
    """Member `info`'s bytes (its raw deflate `payload`) as a read-only mapping of a temporary file;
    None when the file cannot be made (no room, no temporary folder). SpillMismatch for a member
    whose bytes do not match its size or CRC-32."""
    folder = spill_folder()
    if folder is None:
        return None
    try:
        if shutil.disk_usage(folder).free < info.file_size + (256 << 20):
            return None
        fh = tempfile.TemporaryFile(prefix="xlcrm-part-", dir=folder)
    except OSError:
        return None
    with fh:
        crc = size = 0
        try:
            for piece in inflate_chunks(payload, _PIECE):
                size += len(piece)
                if size > info.file_size:
                    raise SpillMismatch(too_big=True)
                crc = crc32(piece, crc)
                fh.write(piece)
            fh.flush()
        except OSError:  # the disk filled meanwhile: inflated into memory instead
            return None
        except SpillMismatch:
            raise
        except Exception as exc:  # noqa: BLE001 — zlib's or ISA-L's error: a stream that does not inflate
            raise SpillMismatch(too_big=False) from exc
        if size != info.file_size or crc != info.CRC:
            raise SpillMismatch(too_big=False)
        if size == 0:
            return None
        return mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ)  # outlives the descriptor


MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})  # a file there is memory: spilling would gain nothing


def spill_folder() -> str | None:
    """Where to spill: the temporary folder, or /var/tmp when that is held in memory (a tmpfs /tmp,
    as on many Linux systems); None when both are."""
    for folder in (tempfile.gettempdir(), "/var/tmp"):
        if os.path.isdir(folder) and filesystem_of(folder) not in MEMORY_FILESYSTEMS:
            return folder
    return None


def filesystem_of(folder: str) -> str:
    """The type of the filesystem `folder` is on, from /proc/self/mounts (the longest mount point
    that holds it); "" when unknown."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split()[1:3] for line in fh if len(line.split()) >= 3]
    except OSError:
        return ""
    real = os.path.realpath(folder)
    best, kind = "", ""
    for point, fstype in mounts:
        point = point.replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fstype
    return kind


def is_spilled(data) -> bool:
    return isinstance(data, mmap.mmap)


def find(data, needle: bytes, start: int, end: int) -> int:
    """`data.find(needle, start, end)`; over a spilled part, a step at a time, each step's pages
    handed back once looked through (a scan of the whole part would map all of it)."""
    if not is_spilled(data) or end - start <= SCAN_STEP:
        return data.find(needle, start, end)
    at = start
    while at < end:
        stop = min(at + SCAN_STEP, end)
        found = data.find(needle, at, min(stop + len(needle) - 1, end))
        drop(data, at, stop)
        if found >= 0:
            return found
        at = stop
    return -1


def drop(buf: mmap.mmap, start: int, end: int) -> int:
    """Hand back the whole pages of a spilled part inside `buf[start:end]` (`madvise(MADV_DONTNEED)`;
    read again, they come back from the file). Returns where the dropped pages end (`start` if none)."""
    page = mmap.PAGESIZE  # a mapping starts on a page: its offsets are aligned as they are
    lo, hi = -(-start // page) * page, end // page * page
    if not 0 <= lo < hi <= len(buf) or not hasattr(mmap, "MADV_DONTNEED"):
        return start
    try:
        buf.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (OSError, ValueError):
        return start
    return hi
