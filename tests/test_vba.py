"""The generated VBA project: compression, compound file, PROJECT protection fields, modules.

Independent readers are the oracle: oletools' decompressor and olevba, olefile.
"""

from __future__ import annotations

import io
import os
import struct

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from xlcrm.vba import VbaModule, build_vba_project, compress, decompress, decrypt_data, encrypt_data
from xlcrm.vba.cfb import write_compound_file
from xlcrm.vba.project import VBA_PROJECT_STREAM, dir_stream

HELLO = 'Attribute VB_Name = "Hello"\r\nOption Explicit\r\n\r\nSub Hello()\r\n    Range("A1").Value = "hi"\r\nEnd Sub\r\n'


# --------------------------------------------------------------------------- compression


@pytest.mark.parametrize("data", [
    b"",
    b"a",
    b"abc",
    b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",  # MS-OVBA 3.2.3 example text
    b"a" * 4096,
    b"a" * 4097,
    HELLO.encode() * 200,  # many chunks
])
def test_compression_round_trips_through_both_decompressors(data: bytes) -> None:
    packed = compress(data)
    assert packed[0] == 1
    assert decompress(packed) == data
    assert bytes(decompress_stream(bytearray(packed))) == data


def test_compression_actually_compresses_source_text() -> None:
    text = HELLO.encode() * 50
    assert len(compress(text)) < len(text) / 5


def test_incompressible_chunk_is_a_padded_raw_chunk() -> None:
    data = os.urandom(5000)
    packed = compress(data)
    (header,) = struct.unpack_from("<H", packed, 1)
    assert header & 0x8000 == 0 and (header & 0x0FFF) + 3 == 4098  # raw: 4096 bytes + header
    assert decompress(packed)[:5000] == data


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=9000) | st.text(alphabet="ab \r\nxyz()=\"", max_size=9000).map(str.encode))
def test_compression_round_trips_any_bytes(data: bytes) -> None:
    out = decompress(compress(data))
    # a raw (incompressible) last chunk is padded with zeros to 4096 bytes by the format
    assert out[:len(data)] == data and not out[len(data):].strip(b"\x00")
    assert bytes(decompress_stream(bytearray(compress(data))))[:len(data)] == data


def test_decompress_rejects_bad_signature() -> None:
    with pytest.raises(ValueError):
        decompress(b"\x02\x00\x00")


# --------------------------------------------------------------------------- compound file


def test_compound_file_holds_every_stream_mini_and_regular() -> None:
    streams = {
        "PROJECT": b"ID=1\r\n",
        "PROJECTwm": b"",
        "VBA/dir": os.urandom(5000),  # regular sectors
        "VBA/exact": b"x" * 4096,  # exactly the cutoff: regular
        "VBA/below": b"y" * 4095,  # just below: mini stream
        **{f"VBA/m{i}": os.urandom(37 * i + 1) for i in range(30)},  # many directory entries
    }
    data = write_compound_file(streams)
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1") and len(data) % 512 == 0
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    assert sorted("/".join(p) for p in ole.listdir()) == sorted(streams)
    for path, content in streams.items():
        assert ole.openstream(path).read() == content, path
    assert ole.get_type("VBA") == olefile.STGTY_STORAGE


def test_compound_file_uses_difat_sectors_beyond_109_fat_sectors() -> None:
    big = os.urandom(7_500_000)  # > 109 FAT sectors × 128 sectors × 512 bytes
    data = write_compound_file({"big": big, "small": b"s"})
    (n_difat,) = struct.unpack_from("<I", data, 0x48)
    assert n_difat >= 1
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    assert ole.openstream("big").read() == big and ole.openstream("small").read() == b"s"


def test_compound_file_is_deterministic_and_refuses_bad_paths() -> None:
    streams = {"A/b": b"1", "c": b"2"}
    assert write_compound_file(streams) == write_compound_file(dict(reversed(list(streams.items()))))
    with pytest.raises(ValueError):
        write_compound_file({"x" * 32: b""})
    with pytest.raises(ValueError):
        write_compound_file({"a": b"", "a/b": b""})


# --------------------------------------------------------------------------- PROJECT stream protection


@pytest.mark.parametrize("seed", [0x00, 0x06, 0x31, 0xFF])
@pytest.mark.parametrize("plain", [b"\x00", b"\xff", b"\x00\x00\x00\x00", bytes(range(29))])
def test_protection_encryption_round_trips(seed: int, plain: bytes) -> None:
    pid = "{12345678-90AB-CDEF-1234-567890ABCDEF}"
    text = encrypt_data(plain, pid, seed)
    assert text == text.upper() and len(text) == 2 * (3 + (seed & 6) // 2 + 4 + len(plain))
    assert decrypt_data(text, pid) == plain
    with pytest.raises(ValueError):
        decrypt_data(text, "{00000000-0000-0000-0000-000000000000}")


def test_protection_matches_a_project_saved_by_excel() -> None:
    # PROJECT stream of xlwings' quickstart add-in (saved by Excel): ID and its CMG/DPB/GC.
    pid = "{318BEE36-5BE1-492A-826D-473DB19B0F30}"
    assert decrypt_data("5D5F8AADDAA8DEA8DEA8DEA8DE", pid) == b"\x00\x00\x00\x00"  # CMG: unprotected
    assert decrypt_data("5D5F8AADDAADDBADDBAD", pid) == b"\x00"  # DPB: no password
    assert decrypt_data("5D5F8AADDAADDBADDB52", pid) == b"\xff"  # GC: visible


# --------------------------------------------------------------------------- whole project


def _modules() -> list[VbaModule]:
    return [
        VbaModule.document("ThisWorkbook", workbook=True),
        VbaModule.document("Sheet1", 'Private Sub Worksheet_Activate()\r\nEnd Sub\r\n'),
        VbaModule.from_bas(HELLO),
        VbaModule("Second", "Public Function Twice(x)\nTwice = 2 * x\nEnd Function\n"),
    ]


def test_olevba_lists_every_module_with_exactly_our_source() -> None:
    modules = _modules()
    data = build_vba_project(modules)
    parser = VBA_Parser("vbaProject.bin", data=data)
    assert parser.detect_vba_macros()
    found = {stream.split("/")[-1]: (name, code) for _, stream, name, code in parser.extract_all_macros()}
    assert set(found) == {m.name for m in modules}
    for m in modules:
        name, code = found[m.name]
        assert code == m.source(), m.name
        assert name == m.name + (".cls" if m.kind == "document" else ".bas")
    assert found["Hello"][1] == HELLO  # a .bas with CRLF comes back byte for byte


def test_project_streams_are_as_specified() -> None:
    modules = _modules()
    data = build_vba_project(modules, project_name="xlcrm")
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    assert ole.openstream("VBA/_VBA_PROJECT").read() == VBA_PROJECT_STREAM == bytes.fromhex("CC61FFFF000000")
    project = ole.openstream("PROJECT").read().decode("cp1252").split("\r\n")
    pid = project[0].removeprefix('ID="').removesuffix('"')
    fields = dict(line.split("=", 1) for line in project if "=" in line and not line.startswith("&H"))
    assert decrypt_data(fields["CMG"].strip('"'), pid) == b"\x00\x00\x00\x00"
    assert decrypt_data(fields["DPB"].strip('"'), pid) == b"\x00"
    assert decrypt_data(fields["GC"].strip('"'), pid) == b"\xff"
    assert "Document=ThisWorkbook/&H00000000" in project and "Module=Hello" in project
    assert fields["Name"] == '"xlcrm"'
    assert decompress(ole.openstream("VBA/dir").read()) == dir_stream(modules, "xlcrm", _refs())
    wm = ole.openstream("PROJECTwm").read()
    assert wm.startswith(b"ThisWorkbook\x00" + "ThisWorkbook".encode("utf-16-le") + b"\x00\x00")
    assert wm.endswith(b"\x00\x00")


def _refs():
    from xlcrm.vba.project import OFFICE, STDOLE

    return [STDOLE, OFFICE]


def test_build_is_reproducible_and_validates_names() -> None:
    assert build_vba_project(_modules()) == build_vba_project(_modules())
    with pytest.raises(ValueError):
        VbaModule("1bad", "")
    with pytest.raises(ValueError):
        build_vba_project([VbaModule("A", ""), VbaModule("a", "")])
    with pytest.raises(ValueError):
        VbaModule("Uni", "' \u4e2d\u6587\n").source_bytes()  # not cp1252
    with pytest.raises(ValueError):
        VbaModule.from_bas("Sub X()\nEnd Sub\n")  # no Attribute VB_Name
