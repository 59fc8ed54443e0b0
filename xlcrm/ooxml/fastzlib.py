"""Deflate/inflate/CRC-32 for zip members: ISA-L (`isal`, 3–5× faster) when installed, else zlib.

Both produce standard raw deflate streams; which one made a part cannot be told from the file.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from .pieces import joined_batches

try:  # optional speed-up: `pip install isal`
    from isal import isal_zlib as _fast
except ImportError:  # pragma: no cover - depends on the environment
    _fast = None

DEFLATE_LEVEL = 1  # fast; edited sheets are re-deflated on every write
BATCH_BYTES = 16 << 20


def deflate_raw(data: bytes) -> bytes:
    mod = _fast or zlib
    comp = mod.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def deflate_chunks(pieces) -> tuple[int, bytes]:
    """(CRC-32, raw deflate) of the concatenation of `pieces`, fed in batches of about
    `BATCH_BYTES` (runs of pieces joined in C; the whole is never joined).

    This runs on a worker thread while the main thread edits: each compress call must win the GIL
    back (up to the 5 ms switch interval), so few big calls finish far sooner than many small ones
    (a sheet of 500 MB in 16k pieces took seconds in 1 MB batches, 0.5 s in 16 MB ones).
    """
    mod = _fast or zlib
    comp = mod.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    out: list[bytes] = []
    crc = 0
    for buf in joined_batches(pieces, BATCH_BYTES):
        crc = mod.crc32(buf, crc)
        out.append(comp.compress(buf))
    out.append(comp.flush())
    return crc & 0xFFFFFFFF, b"".join(out)


def inflate_raw(payload: bytes | memoryview, limit: int | None = None) -> bytes:
    """Inflate a raw deflate stream; with `limit`, stop one byte past it (a zip bomb's output is
    never held: the caller sees a wrong length and refuses the part)."""
    mod = _fast or zlib
    if limit is None:
        return mod.decompress(payload, -15)
    return mod.decompressobj(-15).decompress(payload, limit + 1)


def inflate_chunks(payload: bytes | memoryview, size: int, feed: int = 4 << 20):
    """Inflate a raw deflate stream into pieces of at most `size` bytes, a slice of input at a time
    (the whole is never held; ISA-L and zlib let other threads run meanwhile)."""
    view = memoryview(payload)
    return inflate_pieces((view[at : at + feed] for at in range(0, len(view), feed)), size)


def inflate_pieces(inputs: Iterable[bytes | memoryview], size: int):
    """Inflate a raw deflate stream given in pieces (read from a file as it goes, say) into pieces
    of at most `size` bytes. Stops at the stream's end."""
    mod = _fast or zlib
    d = mod.decompressobj(-15)
    inputs = iter(inputs)
    while not d.eof:
        if d.unconsumed_tail:
            piece = d.decompress(d.unconsumed_tail, size)
        else:
            more = next(inputs, None)
            if more is None:
                piece = d.flush()
                if piece:
                    yield piece
                return
            piece = d.decompress(more, size)
        if piece:
            yield piece


def crc32(data: bytes | memoryview, value: int = 0) -> int:
    return (_fast or zlib).crc32(data, value)


def can_splice() -> bool:
    """Deflate streams can be made in independent pieces and their CRCs joined (ISA-L: zlib's
    Python module has no crc32_combine)."""
    return _fast is not None and hasattr(_fast, "crc32_combine")


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of a + b from crc(a), crc(b) and len(b) (ISA-L; see `can_splice`)."""
    return _fast.crc32_combine(crc1, crc2, length2)


class PieceDeflater:
    """Raw deflate in independent pieces: each `cut` ends a piece with a full flush (byte-aligned,
    the history cleared), so pieces made here and elsewhere can be laid end to end as one stream —
    a final piece (`finish=True`) last. Each piece: (CRC-32, length, deflated bytes)."""

    def __init__(self):
        mod = _fast or zlib
        self._mod = mod
        self._comp = mod.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        self._out: list[bytes] = []
        self.crc = self.size = 0

    def feed(self, data: bytes | memoryview) -> None:
        if len(data):
            self.crc, self.size = self._mod.crc32(data, self.crc), self.size + len(data)
            self._out.append(self._comp.compress(data))

    def cut(self, finish: bool = False) -> tuple[int, int, bytes]:
        self._out.append(self._comp.flush(zlib.Z_FINISH if finish else zlib.Z_FULL_FLUSH))
        piece = (self.crc & 0xFFFFFFFF, self.size, b"".join(self._out))
        self._out, self.crc, self.size = [], 0, 0
        if finish:
            self._comp = self._mod.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        return piece


def laid_end_to_end(first: bytes, pieces: Iterable[tuple[int, int, bytes | memoryview]], last: bytes
                    ) -> tuple[int, int, bytes]:
    """One raw deflate stream from independent pieces (each (CRC-32, length, full-flushed deflate),
    see `PieceDeflater`) with `first` and `last` deflated here around them: (CRC-32, length, bytes)
    of the whole, the CRCs joined with `crc32_combine` (so: ISA-L, see `can_splice`)."""
    deflater = PieceDeflater()
    deflater.feed(first)
    crc, size, deflated = deflater.cut()
    out = [deflated]
    for piece_crc, length, deflated in pieces:
        crc, size = crc32_combine(crc, piece_crc, length), size + length
        out.append(deflated)
    deflater.feed(last)
    piece_crc, length, deflated = deflater.cut(finish=True)
    out.append(deflated)
    return crc32_combine(crc, piece_crc, length) & 0xFFFFFFFF, size + length, b"".join(out)


def backend() -> str:
    return "isal" if _fast else "zlib"


class DeflateAlongside:
    """A `PieceDeflater` fed on a thread of its own, in the order fed, while the caller goes on
    making the next bytes (ISA-L and zlib release the GIL while they deflate). The caller hands
    over each batch of pieces and drops its own references, so what is fed is freed as soon as it
    is deflated; `cut` waits for everything fed and ends the piece with a full flush."""

    def __init__(self, ahead: int | None = None):
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        self._deflater = PieceDeflater()
        self._jobs: list = []
        # `ahead`: batches fed but not yet deflated at most; `feed` waits for the oldest beyond that
        # (the render outruns the deflate: its blocks, held until deflated, were the L book's peak).
        self._ahead = ahead
        self._fed: deque = deque()
        try:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlcrm-deflate")
        except RuntimeError:  # pragma: no cover - no threads on this platform: deflate as fed
            self._pool = None

    def feed(self, pieces: list) -> None:
        if not pieces:
            return
        if self._pool is not None:
            if self._ahead is not None:
                while len(self._fed) >= self._ahead:
                    self._fed.popleft().result()
            try:  # one worker: the batches are deflated in the order fed
                self._jobs.append(self._pool.submit(self._feed, pieces))
                if self._ahead is not None:
                    self._fed.append(self._jobs[-1])
                return
            except RuntimeError:  # pragma: no cover - threads unavailable after all
                self._pool = None
        self._feed(pieces)

    def _feed(self, pieces: list) -> None:
        for buf in joined_batches(pieces, BATCH_BYTES):
            self._deflater.feed(buf)
        pieces.clear()  # the caller kept no reference: the memoryviews and new rows go now

    def also(self, work, *args) -> None:
        """Run `work(*args)` on the same thread, after what was fed so far (`cut` waits for it too)."""
        if self._pool is not None:
            try:
                self._jobs.append(self._pool.submit(work, *args))
                return
            except RuntimeError:  # pragma: no cover - threads unavailable after all
                self._pool = None
        work(*args)

    def cut(self) -> tuple[int, int, bytes]:
        """(CRC-32, length, deflated bytes) of everything fed, full-flushed (see PieceDeflater)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # everything fed is deflated, in order
            self._pool = None
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            job.result()  # a failed batch fails the piece: its bytes would be missing
        return self._deflater.cut()

    def close(self) -> None:
        """Stop the thread, dropping what is not deflated yet (the caller gave up; after `cut`: nothing)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
