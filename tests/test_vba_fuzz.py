"""Fuzzing the compound-file writer and the MS-OVBA compression at their edges (issue 14, item 3).

Sizes straddle every boundary the formats have: compression chunks (4096 decompressed bytes, 8
tokens per flag byte, the 3-byte minimum match), the 4096-byte mini-stream cutoff, 64-byte mini
sectors, 512-byte sectors, 4 directory entries per sector, 128 ids per FAT / mini-FAT sector and
the 109 FAT sectors the header can list. Every output is read back by olefile (defects raise) and
oletools' decompressor, and must give back exactly what went in.
"""

from __future__ import annotations

import io
import random

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from xlcrm.vba import VbaModule, build_vba_project, compress, decompress
from xlcrm.vba.cfb import write_compound_file

CHUNK_EDGES = [1, 2, 3, 7, 8, 9, 15, 16, 17, 4093, 4094, 4095, 4096, 4097, 8191, 8192, 8193, 12289]


def _vba_like(n: int, seed: int = 1) -> bytes:
    """Source-like text: keywords, identifiers, CRLF (what the module streams hold)."""
    rng = random.Random(seed)
    words = ["Dim", "As", "String", "If", "Then", "End", "Sub", "RunPython", "(", ")", "=", "&", '"', "\r\n", "    "]
    out = bytearray()
    while len(out) < n:
        out += (rng.choice(words) + " " + "".join(rng.choices("abcdefghXYZ_0123", k=rng.randint(1, 9)))).encode()
    return bytes(out[:n])


def _kinds(n: int) -> dict[str, bytes]:
    rng = random.Random(n)
    return {
        "same": b"a" * n,
        "vba": _vba_like(n, n),
        "letters": bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=n)),
        "period3": (b"xyz" * (n // 3 + 1))[:n],
    }


def _roundtrip_ok(data: bytes, out: bytes) -> bool:
    """Exact, except that a raw (incompressible) final chunk is zero-padded to 4096 bytes (2.4.1.3.10)."""
    return out == data or (out[:len(data)] == data and not out[len(data):].strip(b"\x00") and len(out) % 4096 == 0)


@pytest.mark.parametrize("n", CHUNK_EDGES)
def test_compression_chunk_edges_round_trip_exactly(n: int) -> None:
    for kind, data in _kinds(n).items():
        packed = compress(data)
        if kind == "letters":  # random letters barely compress: a raw padded final chunk is possible
            assert _roundtrip_ok(data, decompress(packed)), n
            assert _roundtrip_ok(data, bytes(decompress_stream(bytearray(packed)))), n
            continue
        assert decompress(packed) == data, (kind, n)
        assert bytes(decompress_stream(bytearray(packed))) == data, (kind, n)


@pytest.mark.parametrize("n", CHUNK_EDGES)
def test_incompressible_input_round_trips_up_to_the_formats_padding(n: int) -> None:
    data = random.Random(n).randbytes(n)
    packed = compress(data)
    assert _roundtrip_ok(data, decompress(packed))
    assert _roundtrip_ok(data, bytes(decompress_stream(bytearray(packed))))
    if n % 4096 == 0:  # whole raw chunks: no padding at all
        assert decompress(packed) == data


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=20000), st.integers(0, 2**32))
def test_compression_any_length_and_kind(kind: int, n: int, seed: int) -> None:
    data = list(_kinds(n).values())[kind] if n else b""
    if seed % 2 and n:  # mutate a few bytes so matches break at random places
        rng = random.Random(seed)
        data = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(n)] = rng.randrange(256)
        data = bytes(data)
    assert _roundtrip_ok(data, decompress(compress(data)))
    assert _roundtrip_ok(data, bytes(decompress_stream(bytearray(compress(data)))))


def _read_back(streams: dict[str, bytes]) -> None:
    data = write_compound_file(streams)
    assert len(data) % 512 == 0
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    assert sorted("/".join(p) for p in ole.listdir()) == sorted(streams)
    for path, content in streams.items():
        assert ole.get_size(path) == len(content)
        assert ole.openstream(path).read() == content, (path, len(content))


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 511, 512, 513, 4095, 4096, 4097, 8191, 8192, 8193])
def test_one_stream_across_mini_and_sector_boundaries(size: int) -> None:
    _read_back({"VBA/m": random.Random(size).randbytes(size), "PROJECT": b"ID=1\r\n"})


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33])
def test_directory_sector_boundaries(count: int) -> None:
    # 4 entries per directory sector; the root and the VBA storage count too.
    _read_back({f"VBA/s{i}": bytes([i % 256]) * (i * 13) for i in range(count)})


@pytest.mark.parametrize("minis", [127, 128, 129, 255, 256, 257])
def test_mini_fat_sector_boundaries(minis: int) -> None:
    # 128 mini-FAT entries per sector: `minis` small streams of one 64-byte mini sector each.
    _read_back({f"s{i}": bytes([i % 251]) * 64 for i in range(minis)})


@pytest.mark.parametrize("sectors", [125, 126, 127, 128, 129, 253, 254, 255, 256, 257])
def test_fat_sector_boundaries(sectors: int) -> None:
    # 128 FAT entries per sector: the file's sector count crosses a FAT-sector multiple.
    _read_back({"big": random.Random(sectors).randbytes(sectors * 512 - 3), "small": b"s"})


@pytest.mark.slow
@pytest.mark.parametrize("extra", [-200, 0, 200])
def test_difat_boundary(extra: int) -> None:
    # The header lists 109 FAT sectors (109 × 128 sectors ≈ 6.8 MB); beyond that DIFAT sectors chain.
    _read_back({"big": bytes(range(256)) * ((109 * 128 * 512 + extra * 512) // 256), "small": b"x"})


@pytest.mark.parametrize("n", [100, 3000, 4000, 4090, 4200, 9000, 20000, 40000])
def test_projects_with_modules_across_the_mini_cutoff(n: int) -> None:
    # Module streams are compressed: sizes around 4096 *compressed* bytes switch mini → regular.
    code = "Sub Big()\n" + _vba_like(n, n).decode().replace("\r\n", "\n") + "\nEnd Sub\n"
    modules = [VbaModule.document("ThisWorkbook", workbook=True), VbaModule("Big", code),
               VbaModule("Small", "Sub S()\nEnd Sub\n")]
    data = build_vba_project(modules)
    olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    found = {s.split("/")[-1]: c for _, s, _, c in VBA_Parser("p.bin", data=data).extract_all_macros()}
    assert found["Big"] == modules[1].source() and found["Small"] == modules[2].source()


def test_build_refuses_a_source_the_format_would_pad() -> None:
    noise = "".join(random.Random(7).choices([chr(c) for c in range(33, 127) if chr(c) != '"'], k=4000))
    with pytest.raises(ValueError, match="round trip"):
        build_vba_project([VbaModule("Noise", f"' {noise}\n")])
