"""The leaf `xlcrm.ooxml` package: addresses, Excel serial dates, cell XML, package model."""

from __future__ import annotations

import ast
import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcrm.ooxml import addresses, cellxml, columns, dates
from xlcrm.ooxml.package import BAD_CRC, DamagedPart, Package
from xlcrm.ooxml.rels import relative_target, rels_path, resolve_target

OOXML = Path(__file__).resolve().parents[1] / "xlcrm" / "ooxml"


def test_ooxml_imports_nothing_of_xlcrm() -> None:
    for path in OOXML.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{path.name} reaches out of ooxml: from {'.' * node.level}{node.module}"
                assert not (node.module or "").startswith("xlcrm"), path.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("xlcrm") for a in node.names), path.name


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(("n", "letters"), [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (703, "AAA"), (16384, "XFD")])
def test_column_letters(n: int, letters: str) -> None:
    assert addresses.col_letter(n) == letters
    assert addresses.col_index(letters) == n
    assert addresses.col_index(letters.lower()) == n


@settings(deadline=None)  # first calls import and warm pandas; a busy machine must not fail them
@given(st.integers(1, 16384), st.integers(1, 1_048_576))
def test_cell_ref_round_trips(col: int, row: int) -> None:
    assert addresses.split_ref(addresses.cell_ref(row, col)) == (row, col)


def test_ranges_and_absolute_refs() -> None:
    assert addresses.split_ref("$B$12") == (12, 2)
    assert addresses.parse_range("C9:A1") == (1, 1, 9, 3)
    assert addresses.parse_range("D4") == (4, 4, 4, 4)
    assert addresses.range_ref(1, 1, 9, 3) == "A1:C9"
    assert addresses.range_ref(4, 4, 4, 4) == "D4"
    assert addresses.quote_sheet("It's 客户") == "'It''s 客户'"
    with pytest.raises(ValueError):
        addresses.split_ref("客户!A1")


# --------------------------------------------------------------------------- dates


def test_the_1900_leap_year_rule() -> None:
    # Literal serials as Excel shows them (independent of the code): 1900-01-01 is 1,
    # 1900-02-28 is 59, the fictitious 1900-02-29 is 60, 1900-03-01 is 61, 2024-01-05 is 45296.
    assert dates.to_serial(dt.date(1900, 1, 1)) == 1
    assert dates.to_serial(dt.date(1900, 2, 28)) == 59
    assert dates.to_serial(dt.date(1900, 3, 1)) == 61
    assert dates.to_serial(dt.date(2024, 1, 5)) == 45296
    assert dates.to_serial(dt.datetime(2024, 1, 5, 12)) == 45296.5
    assert dates.from_serial(1) == dt.datetime(1900, 1, 1)
    assert dates.from_serial(59) == dt.datetime(1900, 2, 28)
    assert dates.from_serial(60) == dt.datetime(1900, 2, 28)  # the day that never was
    assert dates.from_serial(61) == dt.datetime(1900, 3, 1)
    assert dates.from_serial(45296.25) == dt.datetime(2024, 1, 5, 6)
    stamps = np.array(["1900-01-01", "1900-02-28", "1900-03-01", "NaT"], dtype="datetime64[D]")
    serials = dates.to_serials(stamps)
    assert serials[:3].tolist() == [1, 59, 61] and np.isnan(serials[3])
    back = dates.from_serials(np.array([1, 59, 60, 61, np.nan]))
    assert back.astype("datetime64[D]").astype(str).tolist()[:4] == ["1900-01-01", "1900-02-28", "1900-02-28", "1900-03-01"]
    assert np.isnat(back[4])


def test_time_zone_is_dropped() -> None:
    aware = dt.datetime(2024, 1, 5, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert dates.to_serial(aware) == 45296.5


_MOMENTS = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59))


@settings(deadline=None)  # first calls import and warm pandas; a busy machine must not fail them
@given(st.lists(_MOMENTS, min_size=1, max_size=20))
def test_scalar_and_vectorised_dates_agree_and_round_trip(moments: list[dt.datetime]) -> None:
    moments = [m.replace(microsecond=m.microsecond // 1000 * 1000) for m in moments]  # Excel keeps ms
    scalar = [dates.to_serial(m) for m in moments]
    vector = dates.to_serials(np.array(moments, dtype="datetime64[us]"))
    assert vector.tolist() == scalar  # same floats, bit for bit
    back = [dates.from_serial(x) for x in scalar]
    back_vector = dates.from_serials(vector).astype("datetime64[us]").tolist()
    assert back == back_vector
    for m, b in zip(moments, back):
        assert abs(b - m) <= dt.timedelta(milliseconds=1)


@settings(deadline=None)  # first calls import and warm pandas; a busy machine must not fail them
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_whole_days_round_trip_exactly(day: dt.date) -> None:
    serial = dates.to_serial(day)
    assert serial == int(serial)
    assert dates.from_serial(serial).date() == day


# --------------------------------------------------------------------------- cell XML


def test_cell_xml_table() -> None:
    assert cellxml.cell_xml("", "A1", None, "s", "客户") == '<c r="A1" t="inlineStr"><is><t>客户</t></is></c>'
    assert cellxml.cell_xml("x:", "B2", 3, "n", "1.5") == '<x:c r="B2" s="3"><x:v>1.5</x:v></x:c>'
    assert cellxml.cell_xml("", "C3", None, "b", "1") == '<c r="C3" t="b"><v>1</v></c>'
    assert cellxml.cell_xml("", "D4", 7, "e", "") == '<c r="D4" s="7"/>'
    assert cellxml.cell_xml("", "E5", None, "s", " a") == (
        '<c r="E5" t="inlineStr"><is><t xml:space="preserve"> a</t></is></c>'
    )
    assert cellxml.encode(dt.date(1900, 3, 1)) == ("d", "61")
    assert cellxml.encode(dt.datetime(2024, 1, 5, 12)) == ("t", "45296.5")
    assert cellxml.encode("a<b & _x0041_") == ("s", "a&lt;b &amp; _x005F_x0041_")


@settings(deadline=None)  # first calls import and warm pandas; a busy machine must not fail them
@given(st.lists(st.one_of(st.text(max_size=8), st.integers(-10**6, 10**6), st.none(), st.booleans(),
                          st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2199, 1, 1))),
                min_size=1, max_size=12))
def test_column_encoding_matches_cell_by_cell(values: list) -> None:
    kinds, texts = columns.encode_values(values)
    kinds = [kinds] * len(texts) if isinstance(kinds, str) else kinds
    one_by_one = [cellxml.encode(v) for v in values]
    assert list(zip(kinds, texts)) == one_by_one
    rows = [str(i + 1) for i in range(len(values))]
    column = columns.cells_xml("", "B", rows, kinds, texts, lambda kind, variant: ' s="1"')
    single = [cellxml.cell_xml("", f"B{r}", 1, k, t) for r, (k, t) in zip(rows, one_by_one)]
    assert column == single


# --------------------------------------------------------------------------- package


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


_CT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
       b'"http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
       b'ContentType="application/xml"/></Types>')


def test_package_copies_untouched_parts_and_adds_relationships() -> None:
    pkg = Package(_zip({"[Content_Types].xml": _CT, "xl/a.xml": b"<a/>", "xl/b.bin": b"\x00" * 100}))
    pkg.write("xl/c.xml", b"<c/>")
    rid = pkg.add_rel("xl/a.xml", "urn:test", "xl/c.xml")
    out = io.BytesIO()
    pkg.build(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as zf:
        assert zf.testzip() is None
        assert zf.read("xl/b.bin") == b"\x00" * 100 and zf.read("xl/c.xml") == b"<c/>"
        assert b'Target="c.xml"' in zf.read("xl/_rels/a.xml.rels")
    again = Package(out.getvalue())
    assert again.rel_targets("xl/a.xml") == {rid: "xl/c.xml"}


def test_damaged_member_is_reported_through_the_hook() -> None:
    blob = bytearray(_zip({"[Content_Types].xml": _CT, "xl/a.xml": b"<a>" + b"x" * 500 + b"</a>"}))
    central = bytes(blob).rfind(b"PK\x01\x02")  # the last directory entry: xl/a.xml
    blob[central + 16] ^= 0xFF  # its CRC-32 (the one Package checks) no longer matches the data
    with pytest.raises(DamagedPart) as caught:
        Package(bytes(blob), "forged.xlsx").read("xl/a.xml")
    assert caught.value.reason == BAD_CRC and caught.value.part == "xl/a.xml"


def test_part_paths() -> None:
    assert rels_path("xl/worksheets/sheet1.xml") == "xl/worksheets/_rels/sheet1.xml.rels"
    assert resolve_target("xl/workbook.xml", "worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    assert resolve_target("xl/worksheets/sheet1.xml", "/xl/comments1.xml") == "xl/comments1.xml"
    assert relative_target("xl/worksheets/sheet1.xml", "xl/comments1.xml") == "../comments1.xml"


def test_same_bytes_compares_across_chunk_edges():
    from xlcrm.ooxml.package import same_bytes

    a = bytes(range(256)) * 100
    assert same_bytes(memoryview(a), a, chunk=1000)
    b = bytearray(a)
    b[1000] ^= 1  # the first byte of the second chunk
    assert not same_bytes(a, memoryview(bytes(b)), chunk=1000)
    assert not same_bytes(a, a[:-1]) and same_bytes(b"", memoryview(b""))
