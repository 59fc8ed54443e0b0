"""Read a few cells back as text (headers, xlcrm's own state sheet) without loading the book.

Shared strings are parsed lazily and only as far as the highest index asked for, so looking up a
header in a workbook with a 100 MB sharedStrings.xml costs next to nothing.
"""

from __future__ import annotations

import html
import io
import re

from lxml import etree

from ...ooxml.package import Package
from ...ooxml.rels import resolve_target

SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_T = re.compile(r"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>|<(?:\w+:)?t\b[^>]*/>", re.S)
_V = re.compile(r"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_X_ESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_text(raw: str) -> str:
    text = html.unescape(raw)
    if "_x" in text:
        text = _X_ESC.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


class SharedStrings:
    def __init__(self, pkg: Package, workbook_part: str):
        self.part = None
        for rel in pkg.rels(workbook_part):
            if rel.type == SST_REL:
                self.part = resolve_target(workbook_part, rel.target)
        self.pkg = pkg
        self.items: list[str] = []
        self._iter = None

    def get(self, index: int) -> str:
        if self.part is None or not self.pkg.exists(self.part):
            return ""
        if self._iter is None:
            self._iter = etree.iterparse(io.BytesIO(self.pkg.read(self.part)), events=("end",), huge_tree=True)
        while len(self.items) <= index:
            try:
                _, el = next(self._iter)
            except StopIteration:
                return ""
            if etree.QName(el).localname != "si":
                continue
            texts = []
            for t in el.iter():
                if etree.QName(t).localname == "t" and etree.QName(t.getparent()).localname != "rPh":
                    texts.append(t.text or "")
            self.items.append(unescape_text_plain("".join(texts)))
            el.clear()
        return self.items[index]


def unescape_text_plain(text: str) -> str:
    return _X_ESC.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def cell_text(cell_xml: str, sst: SharedStrings) -> str:
    """The text a cell shows (numbers as written in the XML)."""
    tag = cell_xml[: cell_xml.find(">") + 1]
    t = re.search(r'\bt="(\w+)"', tag)
    kind = t.group(1) if t else "n"
    if kind == "inlineStr":
        return "".join(unescape_text(m.group(1) or "") for m in _T.finditer(cell_xml))
    v = _V.search(cell_xml)
    if not v:
        return ""
    if kind == "s":
        return sst.get(int(v.group(1)))
    return unescape_text(v.group(1))
