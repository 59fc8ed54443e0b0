"""A part's bytes held as pieces (slices of the input and new bytes, see `package.Rope`), handed to
C code — deflate, CRC, the XML check — in batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def joined_batches(pieces: Iterable, size: int) -> Iterator[bytes | memoryview]:
    """Runs of `pieces` joined into buffers of about `size` bytes (a run of one piece as it is): a
    few big calls into C rather than one per piece, and the whole never joined at once."""
    batch: list = []
    batched = 0
    for piece in pieces:
        batch.append(piece)
        batched += len(piece)
        if batched >= size:
            yield batch[0] if len(batch) == 1 else b"".join(batch)
            batch, batched = [], 0
    if batch:
        yield batch[0] if len(batch) == 1 else b"".join(batch)
