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


def inflate_raw(payload: bytes | memoryview) -> bytes:
    return (_fast or zlib).decompress(payload, -15)


def crc32(data: bytes | memoryview) -> int:
    return (_fast or zlib).crc32(data)


def backend() -> str:
    return "isal" if _fast else "zlib"
