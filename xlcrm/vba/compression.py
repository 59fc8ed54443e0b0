"""MS-OVBA 2.4.1 compression: the run-length/LZ77 scheme every VBA stream but PROJECT uses.

A CompressedContainer is a signature byte 0x01 followed by chunks; each chunk holds at most 4096
decompressed bytes behind a 2-byte header (size − 3 in bits 0–11, 0b011 in bits 12–14, bit 15 set
when the chunk is compressed). Inside a chunk, a flag byte announces 8 tokens: a literal byte (bit
0) or a 2-byte copy token (bit 1) whose offset/length split depends on how far into the chunk the
decompressor is. `decompress` exists so tests can check every compressed stream round-trips.
"""

from __future__ import annotations

import struct

CHUNK = 4096
_SIGNATURE = 0x01
_MIN_MATCH = 3


def _copy_token_help(difference: int) -> tuple[int, int, int]:
    """(bit_count, length_mask, maximum_length) for a position `difference` bytes into a chunk."""
    bit_count = 4
    while (1 << bit_count) < difference:
        bit_count += 1
    length_mask = 0xFFFF >> bit_count
    return bit_count, length_mask, length_mask + 3


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """The token sequences of one chunk (without its header)."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}  # 3-byte prefix → earlier positions in this chunk
    pos = start
    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            bit_count, _, max_len = _copy_token_help(pos - start)
            best_len, best_off = 0, 0
            limit = min(max_len, end - pos)
            # a match never crosses the chunk's end (the key must lie inside the chunk too)
            candidates = heads.get(data[pos:pos + _MIN_MATCH], ()) if limit >= _MIN_MATCH else ()
            max_offset = 1 << bit_count
            for cand in reversed(candidates):  # nearest first, so equal lengths prefer small offsets
                offset = pos - cand
                if offset > max_offset:
                    break
                length = _MIN_MATCH
                while length < limit and data[cand + length] == data[pos + length]:
                    length += 1
                if length > best_len:
                    best_len, best_off = length, offset
                    if length == limit:
                        break
            if best_len >= _MIN_MATCH:
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - _MIN_MATCH)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(data[pos])
                step = 1
            for p in range(pos, pos + step):
                if p + _MIN_MATCH <= end:
                    heads.setdefault(data[p:p + _MIN_MATCH], []).append(p)
            pos += step
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """Compress `data` into an MS-OVBA CompressedContainer."""
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK):
        end = min(start + CHUNK, len(data))
        body = _compress_chunk(data, start, end)
        if len(body) <= CHUNK:
            header = 0x8000 | 0x3000 | (len(body) + 2 - 3)
            out += struct.pack("<H", header) + body
        else:  # incompressible: a raw chunk is always 4096 bytes, padded with zeros (2.4.1.3.10)
            raw = data[start:end].ljust(CHUNK, b"\x00")
            out += struct.pack("<H", 0x3000 | (CHUNK + 2 - 3)) + raw
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer (raises ValueError when it is malformed)."""
    if not container or container[0] != _SIGNATURE:
        raise ValueError("not an MS-OVBA compressed container (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise ValueError(f"truncated chunk header at byte {pos}")
        (header,) = struct.unpack_from("<H", container, pos)
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0x7 != 0b011:
            raise ValueError(f"bad chunk signature at byte {pos}")
        chunk_end = min(pos + size, len(container))
        pos += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += container[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(container[pos])
                    pos += 1
                    continue
                (token,) = struct.unpack_from("<H", container, pos)
                pos += 2
                bit_count, length_mask, _ = _copy_token_help(len(out) - chunk_start)
                length = (token & length_mask) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > len(out) - chunk_start:
                    raise ValueError("copy token points before the start of its chunk")
                src = len(out) - offset
                for i in range(length):  # byte by byte: a copy may overlap its own output
                    out.append(out[src + i])
    return bytes(out)
