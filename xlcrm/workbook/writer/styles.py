"""styles.xml: find or add the cell formats (cellXfs), fonts, fills and number formats a write needs.

A derived format starts from the cell's current one and changes only what the `CellStyle` asks
for, so borders, fonts and protection the user set stay. Identical entries are reused, so
repeated runs do not grow styles.xml.
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from ...ooxml.package import Package
from ...ooxml.rels import resolve_target
from ...ooxml.xmltree import element_key, new_child, new_detached, parse_xml, serialize_xml
from ..edits import CellStyle

STYLES_PART_DEFAULT = "xl/styles.xml"
STYLES_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
STYLES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

BUILTIN_FORMATS = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)",
    39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)",
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}
BUILTIN_BY_CODE = {code: i for i, code in BUILTIN_FORMATS.items() if i not in (14, 22)}
DATE_BUILTIN_IDS = set(range(14, 23)) | set(range(27, 37)) | {45, 46, 47} | set(range(50, 59))
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')

MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b"</styleSheet>"
)

# Order of children inside <font> and <styleSheet> (the schema is a sequence).
_FONT_ORDER = [
    "b",
    "i",
    "strike",
    "condense",
    "extend",
    "outline",
    "shadow",
    "u",
    "vertAlign",
    "sz",
    "color",
    "name",
    "family",
    "charset",
    "scheme",
]
_SHEET_ORDER = [
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
]


def is_date_format(code: str) -> bool:
    stripped = _QUOTED.sub("", code).lower()
    return any(ch in stripped for ch in "ymdhs") and "general" not in stripped


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


class StyleBook:
    def __init__(self, pkg: Package, part: str):
        self.pkg = pkg
        self.part = part
        self.root = parse_xml(pkg.read(part)) if pkg.exists(part) else parse_xml(MINIMAL_STYLES)
        self.ns = etree.QName(self.root).namespace or MAIN_NS
        self.dirty = not pkg.exists(part)
        self.num_fmts: dict[int, str] = dict(BUILTIN_FORMATS)
        numfmts = self._child("numFmts", create=False)
        if numfmts is not None:
            for el in numfmts:
                if isinstance(el.tag, str) and el.get("numFmtId") is not None:
                    self.num_fmts[int(el.get("numFmtId"))] = el.get("formatCode", "")
        self.xfs = self._child("cellXfs")
        self.fonts = self._child("fonts")
        self.fills = self._child("fills")
        self._index: dict[str, dict[tuple, int]] = {}
        self._derived: dict[tuple, int] = {}

    @classmethod
    def open(cls, pkg: Package, workbook_part: str = "xl/workbook.xml") -> StyleBook:
        for rel in pkg.rels(workbook_part):
            if rel.type == STYLES_REL:
                return cls(pkg, resolve_target(workbook_part, rel.target))
        book = cls(pkg, STYLES_PART_DEFAULT)
        pkg.add_rel(workbook_part, STYLES_REL, STYLES_PART_DEFAULT)
        pkg.set_override(STYLES_PART_DEFAULT, STYLES_CT)
        return book

    # -- structure -------------------------------------------------------------------------------
    def _q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def _child(self, name: str, create: bool = True) -> etree._Element | None:
        el = self.root.find(self._q(name))
        if el is None and create:
            el = new_detached(self.root, self._q(name))
            el.set("count", "0")
            rank = _SHEET_ORDER.index(name)
            pos = 0
            for i, child in enumerate(self.root):
                if (
                    isinstance(child.tag, str)
                    and _local(child) in _SHEET_ORDER
                    and _SHEET_ORDER.index(_local(child)) < rank
                ):
                    pos = i + 1
            self.root.insert(pos, el)
        return el

    @property
    def format_count(self) -> int:
        """How many cell formats (cellXfs) the book has now: the index the next new one gets."""
        return len(self._items(self.xfs))

    def _items(self, container: etree._Element) -> list[etree._Element]:
        return [el for el in container if isinstance(el.tag, str)]

    def _find_or_add(self, container: etree._Element, el: etree._Element) -> int:
        key = container.tag
        if key not in self._index:
            self._index[key] = {}
            for i, item in enumerate(self._items(container)):
                self._index[key].setdefault(element_key(item), i)
        blob = element_key(el)
        if blob in self._index[key]:
            return self._index[key][blob]
        container.append(el)
        n = len(self._items(container))
        container.set("count", str(n))
        self._index[key][blob] = n - 1
        self.dirty = True
        return n - 1

    # -- queries -------------------------------------------------------------------------------
    def xf(self, index: int | None) -> etree._Element:
        items = self._items(self.xfs)
        if not items:
            items = [etree.SubElement(self.xfs, self._q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0")]
        return items[index] if index is not None and 0 <= index < len(items) else items[0]

    def number_format(self, index: int | None) -> str:
        return self.num_fmts.get(int(self.xf(index).get("numFmtId", "0")), "General")

    def is_date(self, index: int | None) -> bool:
        fmt_id = int(self.xf(index).get("numFmtId", "0"))
        return fmt_id in DATE_BUILTIN_IDS or (fmt_id >= 164 and is_date_format(self.num_fmts.get(fmt_id, "")))

    def fill_xml(self, index: int | None) -> bytes:
        # Cached: an existing xf is never changed in place (derive adds new ones).
        cache = self.__dict__.setdefault("_fill_xml", {})
        if index not in cache:
            fill_id = int(self.xf(index).get("fillId", "0"))
            items = self._items(self.fills)
            cache[index] = etree.tostring(items[fill_id]) if 0 <= fill_id < len(items) else b""
        return cache[index]

    def fill_rgb(self, index: int | None) -> str | None:
        fill_id = int(self.xf(index).get("fillId", "0"))
        items = self._items(self.fills)
        if not 0 <= fill_id < len(items):
            return None
        fg = items[fill_id].find(f"{self._q('patternFill')}/{self._q('fgColor')}")
        return fg.get("rgb").upper() if fg is not None and fg.get("rgb") else None

    # -- derivation ----------------------------------------------------------------------------
    def num_fmt_id(self, code: str) -> int:
        if code in BUILTIN_BY_CODE:
            return BUILTIN_BY_CODE[code]
        for fid, existing in self.num_fmts.items():
            if fid >= 164 and existing == code:
                return fid
        new_id = max([163, *[i for i in self.num_fmts if i >= 164]]) + 1
        numfmts = self._child("numFmts")
        el = etree.SubElement(numfmts, self._q("numFmt"))
        el.set("numFmtId", str(new_id))
        el.set("formatCode", code)
        numfmts.set("count", str(len(self._items(numfmts))))
        self.num_fmts[new_id] = code
        self.dirty = True
        return new_id

    def _font_with(self, font_id: int, bold: bool, color: str | None) -> int:
        items = self._items(self.fonts)
        font = copy.deepcopy(items[font_id]) if 0 <= font_id < len(items) else new_detached(self.root, self._q("font"))
        if bold and font.find(self._q("b")) is None:
            new_child(font, self._q("b"), 0)
        if color:
            old = font.find(self._q("color"))
            if old is not None:
                font.remove(old)
            rank = _FONT_ORDER.index("color")
            pos = sum(
                1
                for c in font
                if isinstance(c.tag, str) and _local(c) in _FONT_ORDER and _FONT_ORDER.index(_local(c)) < rank
            )
            new_child(font, self._q("color"), pos).set("rgb", color)
        return self._find_or_add(self.fonts, font)

    def fill_id_for(self, argb: str) -> int:
        fill = new_detached(self.fills, self._q("fill"))
        pattern = etree.SubElement(fill, self._q("patternFill"), patternType="solid")
        etree.SubElement(pattern, self._q("fgColor"), rgb=argb)
        etree.SubElement(pattern, self._q("bgColor"), indexed="64")
        return self._find_or_add(self.fills, fill)

    def fill_id_from_xml(self, blob: bytes) -> int:
        return self._find_or_add(self.fills, etree.fromstring(blob))

    def _add_xf(self, xf: etree._Element) -> int:
        return self._find_or_add(self.xfs, xf)

    def derive(self, base: int | None, style: CellStyle) -> int:
        """The index of a cell format equal to `base` changed as `style` asks (added if new)."""
        key = (base, style)
        if key in self._derived:
            return self._derived[key]
        xf = copy.deepcopy(self.xf(base))
        if style.number_format is not None:
            xf.set("numFmtId", str(self.num_fmt_id(style.number_format)))
            xf.set("applyNumberFormat", "1")
        if style.bold or style.font_color:
            xf.set("fontId", str(self._font_with(int(xf.get("fontId", "0")), style.bold, style.font_color)))
            xf.set("applyFont", "1")
        if style.fill:
            xf.set("fillId", str(self.fill_id_for(style.fill)))
            xf.set("applyFill", "1")
        if style.wrap or style.align:
            align = xf.find(self._q("alignment"))
            if align is None:
                align = new_child(xf, self._q("alignment"), 0)
            if style.wrap:
                align.set("wrapText", "1")
            if style.align:
                align.set("horizontal", style.align)
            xf.set("applyAlignment", "1")
        index = self._add_xf(xf)
        self._derived[key] = index
        return index

    def with_fill_xml(self, base: int | None, fill_blob: bytes) -> int:
        xf = copy.deepcopy(self.xf(base))
        xf.set("fillId", str(self.fill_id_from_xml(fill_blob)))
        return self._add_xf(xf)

    def write_back(self) -> None:
        if self.dirty:
            self.pkg.write(self.part, serialize_xml(self.root))
