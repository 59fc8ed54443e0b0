"""Deflate/inflate/CRC-32 for zip members: ISA-L (`isal`, 3–5× faster) when installed, else zlib.

Both produce standard raw deflate streams; which one made a part cannot be told from the file.
"""

from __future__ import annotations

import zlib

try:  # optional speed-up: `pip install isal`
    from isal import isal_zlib as _fast
except ImportError:  # pragma: no cover - depends on the environment
    _fast = None

DEFLATE_LEVEL = 1  # fast; edited sheets are re-deflated on every write


def deflate_raw(data: bytes) -> bytes:
    mod = _fast or zlib
    comp = mod.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def deflate_chunks(pieces) -> tuple[int, bytes]:
    """(CRC-32, raw deflate) of the concatenation of `pieces`, fed piece by piece (never joined).

    Small pieces (rewritten rows) are gathered into ~1 MB batches so each compress call has work.
    """
    mod = _fast or zlib
    comp = mod.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    out: list[bytes] = []
    crc = 0
    batch: list = []
    batched = 0

    def feed(buf) -> None:
        nonlocal crc
        crc = mod.crc32(buf, crc)
        out.append(comp.compress(buf))

    pieces = list(pieces)
    total = sum(map(len, pieces))
    if pieces and total // len(pieces) < 1 << 16:
        # Many small pieces (a sheet with 100k rewritten rows): join runs of them in C, so this
        # thread spends next to no time holding the GIL the editing thread needs.
        step = max(1, (1 << 20) // max(total // len(pieces), 1))
        for i in range(0, len(pieces), step):
            feed(b"".join(pieces[i : i + step]))
        out.append(comp.flush())
        return crc & 0xFFFFFFFF, b"".join(out)
    for piece in pieces:
        if len(piece) >= 1 << 18:
            if batch:
                feed(b"".join(batch))
                batch, batched = [], 0
            feed(piece)
        else:
            batch.append(piece)
            batched += len(piece)
            if batched >= 1 << 20:
                feed(b"".join(batch))
                batch, batched = [], 0
    if batch:
        feed(b"".join(batch))
    out.append(comp.flush())
    return crc & 0xFFFFFFFF, b"".join(out)


def inflate_raw(payload: bytes | memoryview, limit: int | None = None) -> bytes:
    """Inflate a raw deflate stream; with `limit`, stop one byte past it (a zip bomb's output is
    never held: the caller sees a wrong length and refuses the part)."""
    mod = _fast or zlib
    if limit is None:
        return mod.decompress(payload, -15)
    return mod.decompressobj(-15).decompress(payload, limit + 1)


def crc32(data: bytes | memoryview, value: int = 0) -> int:
    return (_fast or zlib).crc32(data, value)


def backend() -> str:
    return "isal" if _fast else "zlib"
