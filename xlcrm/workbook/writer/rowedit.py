"""Rewrite one row of a worksheet with new cell values: `RowRewriter.rewrite_row`.

Two paths give the same bytes: the byte path appends new cells right of a row's last cell
without decoding it (the common case: a computed column), the XML path decodes the row and
edits its cells as text (anything else). `rewrite_row` tries the first and falls back to the
second; tests compare them on random rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from ...ooxml.addresses import MAX_COL, cell_ref, col_index, col_letter
from ...ooxml.cellxml import cell_tags, cell_xml
from ...ooxml.columns import Kinds, cells_xml
from .formulas import check_overwrite

if TYPE_CHECKING:
    from .sheetxml import SheetXml

# (existing style or None, is the cell new, value kind, requested style) → style index to write
StyleResolver = Callable[[int | None, bool, str, object], int | None]

ATTR_R = re.compile(r'\br="([A-Za-z]*)(\d*)"')
ATTR_S = re.compile(r'\bs="(\d+)"')


class CellSpec(NamedTuple):
    kind: str  # see cellxml.encode; "keep" = leave the value alone (style change only)
    text: str
    style: object = None  # CellStyle or None
    force_s: int | None = None  # an exact style index (marks)


class RowRewriter:
    """Rewrites the rows of one sheet during one render (style lookups cached across rows).

    `written` collects every byte written into sheetData (see `SheetXml.evidence`).
    """

    def __init__(self, sheet: SheetXml, resolve: StyleResolver, col_styles: dict[int, int], written: list[bytes]):
        self.sheet, self.resolve, self.col_styles, self.written = sheet, resolve, col_styles, written
        self.by_bytes, self.append_xml, self.append_many = self._byte_appender()

    def column_cells(self, col: int, rows: list[str], kinds: Kinds, texts: list[str], style: object) -> list[str]:
        """New cells of one lazy column, one `<c>` string per row ("" for none), styled as a new
        cell of that column (`by_bytes` and `new_row` give the same; a row styled by `customFormat`
        is not appended to by `append_xml`)."""
        return cells_xml(self.sheet.p, col_letter(col), rows, kinds, texts, self.column_sattr(col, style))

    def column_sattr(self, col: int, style: object) -> Callable[[str, int], str | None]:
        """The ` s="n"` attribute of a new cell of that column and kind (None: an empty cell left out)."""
        base, resolve = self.col_styles.get(col), self.resolve

        def sattr(kind: str, _variant: int) -> str | None:
            s = resolve(base, True, kind, style)
            return f' s="{s}"' if s else ("" if kind != "e" else None)

        return sattr

    def rewrite_row(self, start: int, end: int, row: int, cells: dict[int, CellSpec]) -> list:
        """The row at data[start:end] with `cells` applied, as pieces for the rope."""
        pieces = self.by_bytes(start, end, row, cells)
        if pieces is not None:
            return pieces
        text = self.sheet.data[start:end].decode("utf-8")
        new_row = self.by_xml(text, row, cells).encode("utf-8")
        self.written.append(new_row)
        return [new_row]

    def new_row(self, row: int, cells: dict[int, CellSpec]) -> str:
        """A row that is not in the sheet yet, with these cells."""
        sheet, col_styles = self.sheet, self.col_styles
        parts = []
        for col in sorted(cells):
            xml = self.new_cell(row, col, cells[col], col_styles.get(col), True)
            if xml:
                parts.append(xml)
        if not parts:
            return ""
        return f'<{sheet.p}row r="{row}">' + "".join(parts) + f"</{sheet.p}row>"

    def by_xml(self, text: str, row: int, cells: dict[int, CellSpec]) -> str:
        """The general path: the row's XML text decoded, its cells edited as text."""
        sheet, col_styles = self.sheet, self.col_styles
        p = sheet.p
        tag_end = text.find(">")
        tag = text[: tag_end + 1]
        if ' spans="' in tag:
            tag = widen_spans(tag, min(cells), max(cells))
        if sheet.rows_without_r and not ATTR_R.search(tag):
            tag = tag.replace(f"<{p}row", f'<{p}row r="{row}"', 1)
        if tag.endswith("/>"):
            inner = ""
            tag = tag[:-2].rstrip() + ">"
        else:
            inner = text[tag_end + 1 : -len(f"</{p}row>")]
        row_default = sheet.row_style(text) if "customFormat" in tag else None
        j = inner.rfind(f'<{p}c r="')
        if j >= inner.rfind(f"<{p}c ") and j >= inner.rfind(f"<{p}c>"):
            # The row's last cell has an address: if every column written lies right of it, append.
            last = col_index(letters_at(inner, j + len(p) + 6)) if j >= 0 else 0
            if last < min(cells):
                new = []
                for col in sorted(cells):
                    spec = cells[col]
                    base = row_default if row_default is not None else col_styles.get(col)
                    new.append(self.new_cell(row, col, spec, base, True))
                return tag + inner + "".join(new) + f"</{p}row>"
        n_open = inner.count(f"<{p}c ") + inner.count(f"<{p}c>")
        if n_open == inner.count(f'<{p}c r="'):
            inner = self._edit_addressed(inner, row, cells, row_default)
        else:
            inner = self._edit_positional(inner, row, cells, row_default)
        return tag + inner + f"</{p}row>"

    def new_cell(self, row, col, spec, base, is_new, old: str = "") -> str:
        """One cell's new XML (`old`: its current XML, kept as is but for its style when "keep")."""
        sheet, resolve = self.sheet, self.resolve
        if spec.kind == "keep":
            if not old:
                return cell_xml(sheet.p, cell_ref(row, col), spec.force_s, "e", "") if spec.force_s else ""
            return restyle(old, spec.force_s)
        s = spec.force_s if spec.force_s is not None else resolve(base, is_new, spec.kind, spec.style)
        if spec.kind == "e" and not s and is_new:
            return ""
        return cell_xml(sheet.p, cell_ref(row, col), s, spec.kind, spec.text)

    def _edit_addressed(self, inner, row, cells, row_default) -> str:
        """Every cell of the row carries its address: find each by it."""
        sheet, col_styles = self.sheet, self.col_styles
        p = sheet.p
        close = f"</{p}c>"
        for col in sorted(cells):
            spec = cells[col]
            needle = f'<{p}c r="{col_letter(col)}{row}"'
            i = inner.find(needle)
            if i >= 0:
                te = inner.find(">", i)
                end = te + 1 if inner[te - 1] == "/" else inner.find(close, te) + len(close)
                old = inner[i:end]
                sm = ATTR_S.search(old[: te - i])
                if f"<{p}f" in old and spec.kind != "keep":
                    check_overwrite(sheet, old, row, col)
                new = self.new_cell(row, col, spec, int(sm.group(1)) if sm else None, False, old)
                inner = inner[:i] + new + inner[end:]
                continue
            base = row_default if row_default is not None else col_styles.get(col)
            new = self.new_cell(row, col, spec, base, True)
            if not new:
                continue
            j = inner.rfind(f'<{p}c r="')
            if j < 0 or col_index(letters_at(inner, j + len(p) + 6)) < col:
                inner = inner + new
                continue
            for m in re.finditer(rf'<{p}c r="([A-Z]+)', inner):
                if col_index(m.group(1)) > col:
                    inner = inner[: m.start()] + new + inner[m.start() :]
                    break
        return inner

    def _edit_positional(self, inner, row, cells, row_default) -> str:
        """Some cells count by position: parse them all, then put the row back together."""
        sheet, col_styles = self.sheet, self.col_styles
        parsed = sheet.parse_cells(inner)
        by_col: dict[int, str] = {}
        for cell in parsed:
            xml = cell.xml
            if not ATTR_R.search(xml[: xml.find(">")]):
                xml = xml.replace(f"<{sheet.p}c", f'<{sheet.p}c r="{cell_ref(row, cell.col)}"', 1)
            by_col[cell.col] = xml
        styles = {c.col: c.style for c in parsed}
        for col, spec in cells.items():
            if col in by_col:
                if f"<{sheet.p}f" in by_col[col] and spec.kind != "keep":
                    check_overwrite(sheet, by_col[col], row, col)
                by_col[col] = self.new_cell(row, col, spec, styles.get(col), False, by_col[col])
            else:
                base = row_default if row_default is not None else col_styles.get(col)
                by_col[col] = self.new_cell(row, col, spec, base, True)
        return "".join(by_col[c] for c in sorted(by_col))

    def _byte_appender(self):
        """The common case at byte level: new cells go right of a row's last cell (no decoding).

        The returned functions (cells as specs; cells as XML already made) give the row as pieces
        for the rope (its tag, its unchanged cells as a view of the input, the new cells), or None
        when the row needs the general path. They must not refer to `self`: the rewriter would then
        be a reference cycle, and its view of the sheet (0.5 GB) would wait for the cyclic GC."""
        sheet, resolve, col_styles, written = self.sheet, self.resolve, self.col_styles, self.written
        p = sheet.p
        pb = p.encode()
        c_addr, c_sp, c_gt = b"<" + pb + b'c r="', b"<" + pb + b"c ", b"<" + pb + b"c>"
        close = sheet.row_close
        n_close = len(close)
        view = memoryview(sheet.data)
        # (col, kind, style) → (text before the row number, text between it and the value, text after)
        shapes: dict[tuple, tuple[str, str, str] | None] = {}
        styles_seen: list = []
        tags = cell_tags(p)
        tail = {"s": tags.inline_tail, "b": tags.value_tail, "n": tags.value_tail, "d": tags.value_tail}
        tail["t"] = tags.value_tail

        def shape(col: int, kind: str, style: object) -> tuple[str, str, str] | None:
            sv = resolve(col_styles.get(col), True, kind, style)
            sa = f' s="{sv}"' if sv else ""
            head = tags.open + col_letter(col)
            if kind == "e":
                return (head, f'"{sa}/>', "") if sa else None
            middle = {"s": tags.inline_head + ">", "b": tags.bool_head}.get(kind, tags.value_head)
            return head, f'"{sa}{middle}', tail[kind]

        c_len = len(c_addr)
        columns_at: dict[bytes, int] = {}  # the 3 bytes after `<c r="` → the cell's column

        def tag_if_appendable(start: int, end: int, first_col: int) -> tuple[bytes, int] | None:
            """The row's tag and where it ends, if cells from `first_col` on go after its last cell."""
            data = sheet.data
            gt = data.find(b">", start, end)
            if data[gt - 1] == 0x2F or data[end - n_close : end] != close:
                return None
            tag = data[start : gt + 1]
            if b"customFormat" in tag:
                return None
            j = data.rfind(c_addr, gt, end)
            # The last cell must carry its address: no unaddressed `<c …>` after it.
            if j < 0:
                if data.find(c_sp, gt, end) >= 0 or data.find(c_gt, gt, end) >= 0:
                    return None
            elif data.find(c_sp, j + 1, end) >= 0 or data.find(c_gt, j, end) >= 0:
                return None
            if j >= 0:
                head = data[j + c_len : j + c_len + 3]  # a column has at most 3 letters (XFD)
                col = columns_at.get(head)
                if col is None:
                    letters = len(head) - len(head.lstrip(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                    col = columns_at[head] = col_index(head[:letters].decode())
                if col >= first_col:
                    return None
            return tag, gt

        c_close = b"</" + pb + b"c>"

        def pieces(tag: bytes, gt: int, end: int, lo: int, hi: int, new: bytes, restyled: list = ()) -> list:
            """The row as pieces for the rope: its tag (spans widened to lo:hi), its cells (with the
            `restyled` cells' start tags replaced: (start, end, new tag)), `new`."""
            if not spans_cover(tag, lo, hi):
                tag = widen_spans(tag.decode(), lo, hi).encode()
            body: list = []
            pos = gt + 1
            for i, j, cell_tag in restyled:
                body += [view[pos:i], cell_tag]
                pos = j
            body.append(view[pos : end - n_close])
            # What was written, to be checked as XML: the row tag's attributes, restyled cell tags
            # (closed), new cells.
            tags = b"".join(t if t.endswith(b"/>") else t + c_close for _, _, t in restyled)
            written.append(b"<x " + tag[1 + len(pb) + 3 :] + tags + new + b"</x>")
            return [tag, *body, new + close]

        def restyled_cells(gt: int, end: int, row: int, keeps: list[int], cells: dict[int, CellSpec]) -> list | None:
            """(start, end, new start tag) of each existing cell that only gets a style; None if one
            is not in the row by its address."""
            data = sheet.data
            out = []
            for col in keeps:
                i = data.find(c_addr + f'{col_letter(col)}{row}"'.encode(), gt, end)
                if i < 0:
                    return None
                te = data.find(b">", i, end) + 1
                out.append((i, te, restyle(data[i:te].decode("utf-8"), cells[col].force_s).encode("utf-8")))
            out.sort()
            return out

        def append(start: int, end: int, row: int, cells: dict[int, CellSpec]) -> list | None:
            cols = sorted(cells)
            keeps = [c for c in cols if cells[c].kind == "keep"]  # a style for an existing cell (a mark)
            news = [c for c in cols if cells[c].kind != "keep"] if keeps else cols
            found = tag_if_appendable(start, end, news[0] if news else MAX_COL + 1)
            if found is None:
                return None
            tag, gt = found
            restyled = restyled_cells(gt, end, row, keeps, cells) if keeps else []
            if restyled is None:
                return None
            parts = []
            suffix = str(row)
            # Per cell: one tuple unpack, one dict lookup, one f-string (100k rows × 11 cells on M).
            for col in news:
                kind, text, style, force_s = cells[col]
                if force_s is not None:  # a new cell marked at once: its style is given (as in new_cell)
                    if kind != "e" or force_s:
                        parts.append(cell_xml(p, f"{col_letter(col)}{suffix}", force_s, kind, text))
                    continue
                key = (col, kind, id(style))  # by identity: hashing a CellStyle per cell is slow
                form = shapes.get(key, False)
                if form is False:
                    form = shapes[key] = shape(col, kind, style)
                    styles_seen.append(style)  # keeps the id above from being reused
                if form is None:
                    continue
                head, middle, end_ = form
                if kind == "s" and (text[:1].isspace() or text[-1:].isspace() or "\n" in text):
                    sm = ATTR_S.search(middle)
                    parts.append(
                        cell_xml(p, f"{col_letter(col)}{suffix}", int(sm.group(1)) if sm else None, kind, text)
                    )
                    continue
                parts.append(f"{head}{suffix}{middle}{text}{end_}")
            return pieces(tag, gt, end, cols[0], cols[-1], "".join(parts).encode("utf-8"), restyled)

        def append_xml(start: int, end: int, lo: int, hi: int, cells: bytes) -> list | None:
            """The same for cells already made, as UTF-8 (columns `lo`..`hi`, see `column_cells`)."""
            found = tag_if_appendable(start, end, lo)
            return None if found is None else pieces(*found, end, lo, hi, cells)

        def append_many(starts: list[int], ends: list[int], los: list[int], his: list[int], cells: list[bytes]
                        ) -> list:
            """`append_xml` for many rows at once (a computed column's 100k rows): for each row the
            offset where its new cells (UTF-8) go (its `</row>`) and those cells, or None where
            `append_xml` must decide (see `tag_if_appendable`; or `spans` to widen). Rows taken here
            keep their tag; their cells are what was written (the same objects, not copies: a
            million rows' cells are 0.7 GB)."""
            out: list = []
            for start, end, lo, hi, new in zip(starts, ends, los, his, cells):
                found = tag_if_appendable(start, end, lo)
                if found is None or not spans_cover(found[0], lo, hi):
                    out.append(None)
                    continue
                written.append(new)  # to be checked as XML (the row's tag is kept as it was)
                out.append((end - n_close, new))
            return out

        return append, append_xml, append_many


def restyle(old: str, s: int | None) -> str:
    """A cell (or its start tag) with style index `s` (None or 0: no style attribute), all else as is."""
    te = old.find(">")
    closing = 1 if old[te - 1] == "/" else 0
    tag = old[: te - closing]
    if ATTR_S.search(tag):  # change the value in place, so attribute order stays as it was
        tag = ATTR_S.sub(f's="{s}"', tag) if s else re.sub(r'\s+s="\d+"', "", tag)
    elif s:
        tag = tag.rstrip() + f' s="{s}"'
    return tag + old[te - closing :]


def spans_cover(tag: bytes, lo: int, hi: int) -> bool:
    """Whether a row tag's `spans` hint (Excel writes it) is absent or covers columns lo..hi."""
    sp = tag.find(b' spans="')
    if sp < 0:
        return True
    a, _, b = tag[sp + 8 : tag.find(b'"', sp + 8)].partition(b":")
    return a.isdigit() and b.isdigit() and int(a) <= lo and hi <= int(b)


def letters_at(text: str, at: int) -> str:
    end = at
    while end < len(text) and "A" <= text[end] <= "Z":
        end += 1
    return text[at:end]


def widen_spans(tag: str, lo: int, hi: int) -> str:
    """Keep a row's `spans` hint (Excel writes it) but make it cover the columns written."""
    m = re.search(r'\sspans="(\d+):(\d+)"', tag)
    if not m:
        return re.sub(r'\sspans="[^"]*"', "", tag)
    a, b = int(m.group(1)), int(m.group(2))
    if a <= lo and hi <= b:
        return tag
    return tag[: m.start()] + f' spans="{min(a, lo)}:{max(b, hi)}"' + tag[m.end() :]
