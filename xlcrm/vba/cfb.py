"""A minimal MS-CFB (compound file, "OLE2") writer: version 3, 512-byte sectors.

Enough for a vbaProject.bin: storages and streams given as paths ("VBA/dir"), streams shorter
than 4096 bytes in the mini stream (64-byte mini sectors), the rest in regular sectors, a FAT
(with DIFAT sectors once more than 109 FAT sectors are needed) and a directory whose sibling
trees are balanced binary search trees coloured all black (MS-CFB 2.6.4 allows it; readers do
not rebalance). Timestamps and CLSIDs are zero, so the same input always gives the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
_IDS_PER_SECTOR = SECTOR // 4
_HEADER_DIFAT = 109

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
DIFSECT = 0xFFFFFFFC
NOSTREAM = 0xFFFFFFFF

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_TYPE_STORAGE, _TYPE_STREAM, _TYPE_ROOT = 1, 2, 5
_BLACK = 1


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _sort_key(name: str) -> tuple[int, str]:
    # MS-CFB 2.6.4: shorter names first, then code-point order of the upper-cased names.
    return (len(name.encode("utf-16-le")), name.upper())


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(count):
        fat[first + i] = first + i + 1 if i < count - 1 else ENDOFCHAIN


def _sectors(n_bytes: int, size: int) -> int:
    return (n_bytes + size - 1) // size


def _build_tree(root: _Entry, order: list[_Entry]) -> None:
    """Number entries depth-first and link each storage's children as a balanced tree."""
    order.append(root)
    root.sid = len(order) - 1
    kids = sorted(root.children.values(), key=lambda e: _sort_key(e.name))
    for kid in kids:
        if kid.kind == _TYPE_STORAGE:
            _build_tree(kid, order)
        else:
            order.append(kid)
            kid.sid = len(order) - 1

    def link(items: list[_Entry]) -> int:
        if not items:
            return NOSTREAM
        mid = len(items) // 2
        node = items[mid]
        node.left = link(items[:mid])
        node.right = link(items[mid + 1:])
        return node.sid

    root.child = link(kids)


def _dir_entry(e: _Entry | None) -> bytes:
    if e is None:  # an unused slot: zeros, but with NOSTREAM links (MS-CFB 2.6.3)
        return bytes(66) + bytes([0, 0]) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + bytes(48)
    raw = e.name.encode("utf-16-le")
    if len(raw) > 62:
        raise ValueError(f"compound-file name longer than 31 characters: {e.name!r}")
    name = raw.ljust(64, b"\x00")
    return (
        name
        + struct.pack("<HBB", len(raw) + 2, e.kind, _BLACK)
        + struct.pack("<III", e.left, e.right, e.child)
        + bytes(16)  # CLSID
        + bytes(4)  # state bits
        + bytes(16)  # creation and modification times
        + struct.pack("<IQ", e.start if e.kind != _TYPE_STORAGE else 0, e.size)
    )


def write_compound_file(streams: dict[str, bytes]) -> bytes:
    """A compound file holding `streams` (paths like "VBA/dir"; storages are made as needed)."""
    root = _Entry("Root Entry", _TYPE_ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for part in parts[:-1]:
            node = node.children.setdefault(part, _Entry(part, _TYPE_STORAGE))
            if node.kind != _TYPE_STORAGE:
                raise ValueError(f"{path}: {part!r} is a stream, not a storage")
        if parts[-1] in node.children:
            raise ValueError(f"duplicate stream {path!r}")
        node.children[parts[-1]] = _Entry(parts[-1], _TYPE_STREAM, bytes(data), size=len(data))

    order: list[_Entry] = []
    _build_tree(root, order)
    stream_entries = [e for e in order if e.kind == _TYPE_STREAM]
    small = [e for e in stream_entries if e.size < MINI_CUTOFF]
    large = [e for e in stream_entries if e.size >= MINI_CUTOFF]

    # Mini stream: every small stream in 64-byte mini sectors, chained in the mini FAT.
    minifat: list[int] = []
    ministream = bytearray()
    for e in small:
        if e.size == 0:
            e.start = ENDOFCHAIN
            continue
        n = _sectors(e.size, MINI_SECTOR)
        e.start = len(minifat)
        minifat.extend([0] * n)
        _chain(minifat, e.start, n)
        ministream += e.data.ljust(n * MINI_SECTOR, b"\x00")

    n_dir = _sectors(len(order) * 128, SECTOR)
    n_minifat = _sectors(len(minifat) * 4, SECTOR)
    n_mini = _sectors(len(ministream), SECTOR)
    n_large = [_sectors(e.size, SECTOR) for e in large]
    n_data = n_dir + n_minifat + n_mini + sum(n_large)

    # The FAT must also describe its own sectors and the DIFAT sectors: grow until it fits.
    n_fat, n_difat = 1, 0
    while True:
        total = n_data + n_fat + n_difat
        need_fat = _sectors(total, _IDS_PER_SECTOR)
        need_difat = 0 if need_fat <= _HEADER_DIFAT else _sectors(need_fat - _HEADER_DIFAT, _IDS_PER_SECTOR - 1)
        if (need_fat, need_difat) == (n_fat, n_difat):
            break
        n_fat, n_difat = need_fat, need_difat

    # Layout: FAT, DIFAT, directory, mini FAT, mini stream, large streams.
    fat = [FREESECT] * (n_fat * _IDS_PER_SECTOR)
    fat_start = 0
    difat_start = fat_start + n_fat
    dir_start = difat_start + n_difat
    minifat_start = dir_start + n_dir
    mini_start = minifat_start + n_minifat
    for i in range(n_fat):
        fat[fat_start + i] = FATSECT
    for i in range(n_difat):
        fat[difat_start + i] = DIFSECT
    _chain(fat, dir_start, n_dir)
    if n_minifat:
        _chain(fat, minifat_start, n_minifat)
    if n_mini:
        _chain(fat, mini_start, n_mini)
    root.start, root.size = (mini_start, len(ministream)) if n_mini else (ENDOFCHAIN, 0)
    next_sector = mini_start + n_mini
    for e, n in zip(large, n_large):
        e.start = next_sector
        _chain(fat, next_sector, n)
        next_sector += n

    fat_ids = list(range(fat_start, fat_start + n_fat))
    header_difat = fat_ids[:_HEADER_DIFAT] + [FREESECT] * (_HEADER_DIFAT - min(n_fat, _HEADER_DIFAT))
    header = (
        _SIGNATURE
        + bytes(16)
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIII", 0, n_fat, dir_start, 0)
        + struct.pack("<IIIII", MINI_CUTOFF, minifat_start if n_minifat else ENDOFCHAIN, n_minifat,
                      difat_start if n_difat else ENDOFCHAIN, n_difat)
        + struct.pack(f"<{_HEADER_DIFAT}I", *header_difat)
    )
    assert len(header) == SECTOR

    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    rest = fat_ids[_HEADER_DIFAT:]
    for i in range(n_difat):  # each DIFAT sector: 127 FAT sector ids, then the next DIFAT sector
        ids = rest[i * 127:(i + 1) * 127]
        ids += [FREESECT] * (127 - len(ids))
        nxt = difat_start + i + 1 if i < n_difat - 1 else ENDOFCHAIN
        out += struct.pack("<128I", *ids, nxt)
    directory = b"".join(_dir_entry(e) for e in order)
    slots = n_dir * (SECTOR // 128) - len(order)
    out += directory + b"".join(_dir_entry(None) for _ in range(slots))
    out += struct.pack(f"<{len(minifat)}I", *minifat).ljust(n_minifat * SECTOR, b"\xff")
    out += bytes(ministream).ljust(n_mini * SECTOR, b"\x00")
    for e, n in zip(large, n_large):
        out += e.data.ljust(n * SECTOR, b"\x00")
    assert len(out) == SECTOR * (1 + n_fat + n_difat + n_data)
    return bytes(out)
