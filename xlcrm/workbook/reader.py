"""The fast reader: an .xlsx/.xlsm file (or a CSV of customers) → `CrmBook`.

One pass per sheet: fastexcel (calamine, Rust) reads every cell of the sheet as text, straight
into Arrow. The header row is then found in the first rows of that grid (title rows, two-row
headers and columns in any order are fine), blank rows are dropped (their row numbers stay
gaps), and the known columns are typed by `xlcrm.ops.normalize`. Reading everything as text is
what keeps "00123" and "13800138000" intact and lets `raw` hold what the user typed; it costs
about what fastexcel's own type inference costs (and no text is ever coerced to a blank number).
Formula cells give their cached values; hidden rows are read like any other.
"""

from __future__ import annotations

import os
import posixpath
import string
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import FileRefused, Location, Msg, Problem, SchemaError, Severity
from ..i18n import is_traditional, normalize_lang
from ..ops import normalize
from ..settings import Settings
from .book import ROW, CrmBook, SheetInfo
from .guard import ensure_readable
from .ownership import STATE_COLUMNS, STATE_SHEET, USER_INPUT_FOR, Ownership, SheetRef, is_internal
from .shared_strings import SharedStringWatch

Progress = Callable[[str, float], None]
HEADER_SCAN_ROWS = 30
DATA_KEYS = tuple(s.key for s in schema.DATA_SHEETS)
OPTIONAL_KEYS = tuple(s.key for s in schema.OPTIONAL_SHEETS)  # read when present, found by name only
# What the reader hands out for "as text" columns (raw values, unknown columns): Arrow-backed
# pandas strings with NaN for blank — compact and free to build from fastexcel's output.
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


# --------------------------------------------------------------------------- the grid of one sheet


@dataclass
class Grid:
    """One sheet, every cell as text (null = blank). Row i is Excel row i + 1."""

    name: str
    batch: pa.RecordBatch
    col_index: list[int]  # Excel column index (0-based) of each grid column

    @property
    def n_rows(self) -> int:
        return self.batch.num_rows

    def head(self, n: int) -> list[list[str | None]]:
        top = self.batch.slice(0, n)
        cols = [top.column(i).to_pylist() for i in range(top.num_columns)]
        return [list(r) for r in zip(*cols, strict=True)] if cols else []


def _open(path: Path, kind: str):
    import fastexcel

    try:
        return fastexcel.read_excel(calamine_source(path))
    except Exception as exc:  # calamine's errors are not a stable type
        if kind == "strict":
            raise FileRefused(
                "“{name}”以“Strict Open XML”格式保存，xlcrm 无法读取。请在 Excel 中另存为普通的 Excel 工作簿 (.xlsx)。",
                "'{name}' is saved as Strict Open XML, which xlcrm cannot read. "
                "Save it as a normal Excel Workbook (.xlsx) in Excel.",
                name=path.name,
            ) from exc
        raise FileRefused(
            "“{name}”无法读取（文件已损坏或不是 Excel 工作簿）：{reason}",
            "'{name}' cannot be read (damaged, or not an Excel workbook): {reason}",
            name=path.name,
            reason=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
        ) from exc


# --------------------------------------------------------------------------- sheet kinds

SHEET_KINDS = {  # relationship type suffix → kind
    "/worksheet": "worksheet",
    "/chartsheet": "chartsheet",
    "/xlMacrosheet": "macrosheet",
    "/xlIntlMacrosheet": "macrosheet",
    "/dialogsheet": "dialogsheet",
}
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def sheet_parts(path: Path) -> list[tuple[str, str, str]]:
    """Every sheet of the workbook in tab order as (name, kind, part): kind is worksheet,
    chartsheet, macrosheet (Excel 4 macros), dialogsheet or other — from workbook.xml and its
    rels, no sheet parsed. [] when those parts cannot be read (calamine then has its say)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as zf:
            workbook = etree.fromstring(zf.read("xl/workbook.xml"))
            rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError):
        return []
    types = {rel.get("Id"): (rel.get("Type") or "", rel.get("Target") or "") for rel in rels}
    out = []
    for sheet in workbook.iter(f"{NS_MAIN}sheet"):
        rel_type, target = types.get(sheet.get(f"{NS_REL}id"), ("", ""))
        kind = next((k for suffix, k in SHEET_KINDS.items() if rel_type.endswith(suffix)), "other")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        out.append((sheet.get("name") or "", kind, part))
    return out


def package_sheets(path: Path) -> list[tuple[str, str]]:
    """(name, kind) of every sheet in tab order (see `sheet_parts`)."""
    return [(name, kind) for name, kind, _ in sheet_parts(path)]


_FILTERED: dict[tuple, bytes] = {}  # one entry: the last workbook that needed a filtered copy


def calamine_source(path: Path) -> str | bytes:
    """What fastexcel should open: the file itself, or — when the workbook has sheets calamine
    refuses ("Unrecognized sheet type": Excel 4 macro sheets, dialog sheets) — an in-memory copy
    whose workbook.xml lists only the other sheets. Nothing is written; the file stays as it is."""
    sheets = package_sheets(path)
    if all(kind in {"worksheet", "chartsheet"} for _, kind in sheets):
        return str(path)
    stat = os.stat(path)
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _FILTERED:
        _FILTERED.clear()
        _FILTERED[key] = _without_sheets(Path(path).read_bytes(), {n for n, k in sheets if k not in {"worksheet", "chartsheet"}})
    return _FILTERED[key]


def _without_sheets(blob: bytes, names: set[str]) -> bytes:
    """The package with `names` dropped from workbook.xml's sheet list (other parts copied raw)."""
    import io

    from .writer.package import Package, parse_xml, serialize_xml

    pkg = Package(blob)
    root = parse_xml(pkg.read("xl/workbook.xml"))
    for sheet in list(root.iter(f"{NS_MAIN}sheet")):
        if sheet.get("name") in names:
            sheet.getparent().remove(sheet)
    pkg.write("xl/workbook.xml", serialize_xml(root))
    out = io.BytesIO()
    pkg.build(out)
    return out.getvalue()


def _load_grid_fresh(path: Path, kind: str, name: str) -> Grid:
    """Load one sheet with a reader of its own (fastexcel readers cannot be shared across threads)."""
    return _load_grid(_open(path, kind), name)


class _SheetLoader:
    """Loads the sheets a read needs, up to `threads` at a time.

    fastexcel releases the GIL while it parses, so on a machine with spare cores the next sheet
    is read while this one is being typed. With threads=1 (or where threads are unavailable,
    e.g. Pyodide) sheets are read one after another with a single reader.
    """

    def __init__(self, path: Path, kind: str, xl, names: list[str], threads: int):
        self.path, self.kind, self.xl = path, kind, xl
        self.futures: dict = {}
        self.pool = None
        if threads > 1 and len(names) > 1:
            try:
                from concurrent.futures import ThreadPoolExecutor

                self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xlcrm-read")
                self.futures = {n: self.pool.submit(_load_grid_fresh, path, kind, n) for n in names}
            except RuntimeError:  # no threads on this platform
                self.pool, self.futures = None, {}

    def get(self, name: str) -> Grid:
        future = self.futures.pop(name, None)
        if future is not None:
            return future.result()
        return _load_grid(self.xl, name)

    def close(self) -> None:
        for future in self.futures.values():
            future.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def _load_grid(xl, name: str) -> Grid:
    try:
        sheet = xl.load_sheet(name, header_row=None, skip_rows=0, dtypes="string", whitespace_as_null=True)
        batch = sheet.to_arrow()
        columns = sheet.selected_columns
    except Exception as exc:
        raise FileRefused(
            "工作表“{sheet}”无法读取：{reason}",
            "Sheet '{sheet}' cannot be read: {reason}",
            sheet=name,
            reason=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
        ) from exc
    return Grid(name=name, batch=batch, col_index=[c.absolute_index for c in columns])


def column_letter(index0: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    letters = ""
    n = index0 + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return letters


# --------------------------------------------------------------------------- header detection


@dataclass
class HeaderMatch:
    row: int  # 0-based grid row of the (last) header row
    names: list[str | None]  # header text per grid column ('' / None when blank)
    keys: list[str | None]  # schema key per grid column (first column wins a key)
    score: int


@lru_cache(maxsize=65536)
def _header_key(sheet_key: str, cell: str) -> str | None:
    # Headers are short; long cells (notes, addresses) are data, and skipping them saves the OpenCC lookup.
    return schema.match_header(sheet_key, cell) if len(cell) <= 40 else None


def _match_row(sheet_key: str, cells: list[str | None]) -> tuple[list[str | None], int]:
    keys: list[str | None] = []
    seen: set[str] = set()
    for cell in cells:
        key = _header_key(sheet_key, cell) if cell else None
        if key in seen:
            key = None  # a second column with the same meaning is kept as the user's own column
        if key:
            seen.add(key)
        keys.append(key)
    return keys, len(seen)


def find_header(sheet_key: str, rows: list[list[str | None]]) -> HeaderMatch | None:
    """The header in the first rows: the row (or pair of rows) naming the most schema columns.

    A pair counts when a merged group title sits above its sub-headers (联系方式 over 手机 | 电话)
    or a header merged down two rows leaves the lower cell blank; the lower row's text wins.
    """
    best: HeaderMatch | None = None
    previous: tuple[list[str | None], int] | None = None
    for r, cells in enumerate(rows):
        if best is not None and best.score >= 2 and r > best.row + 2:
            break  # well past a clear header: the rest is data
        keys, score = _match_row(sheet_key, cells)
        candidate = HeaderMatch(r, list(cells), keys, score)
        if previous is not None:
            upper_keys, upper_score = previous
            names = [
                low if low_key or (low and not up_key) else (up or low)
                for low, up, low_key, up_key in zip(cells, rows[r - 1], keys, upper_keys, strict=True)
            ]
            pair_keys, pair_score = _match_row(sheet_key, names)
            if pair_score > score and pair_score > upper_score:
                candidate = HeaderMatch(r, names, pair_keys, pair_score)
        if candidate.score > (best.score if best else 0):
            best = candidate
        previous = (keys, score)
    return best


# --------------------------------------------------------------------------- one data sheet


def _required_missing(sheet_key: str, keys: list[str | None]) -> list[schema.Column]:
    have = {k for k in keys if k}
    return [c for c in schema.SHEETS_BY_KEY[sheet_key].columns if c.required and c.key not in have]


def _found_headers(match: HeaderMatch | None, rows: list[list[str | None]]) -> str:
    if match is not None:
        cells = [n for n in match.names if n]
    else:
        cells = [c for row in rows[:5] for c in row if c]
    return "、".join(cells[:40]) or "—"


def _unique_name(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name} ({n})", n + 1
    taken.add(out)
    return out


def _claim_computed(spec: schema.SheetSpec, match: HeaderMatch, owned: dict[str, str]) -> None:
    """Computed columns are xlcrm's only where it made them (`owned`: normalised header → key).

    A user's column under a computed column's name is input: the user's own grade is an override,
    their own next date a plan (`USER_INPUT_FOR`); any other is kept as the user's own column.
    """
    computed = {c.key for c in spec.computed_columns}
    keys = list(match.keys)
    for g, name in enumerate(match.names):
        norm = schema.normalize_name(name) if name else ""
        if norm in owned:
            keys[g] = owned[norm]
        elif keys[g] in computed:
            keys[g] = None
            alias = USER_INPUT_FOR.get(match.keys[g])
            if alias and alias not in keys and alias not in match.keys:
                keys[g] = alias
    seen: set[str] = set()
    for g, key in enumerate(keys):  # one column per key: the first wins, as for headers
        if key in seen:
            keys[g] = None
        elif key:
            seen.add(key)
    match.keys = keys


def read_data_sheet(grid: Grid, sheet_key: str, owned: dict[str, str] | None = None,
                    ) -> tuple[pd.DataFrame, pd.DataFrame, SheetInfo, list[Problem]]:
    """A data sheet's grid → (typed frame, raw frame, SheetInfo, problems).

    `owned`: the computed columns xlcrm made on this sheet (normalised header → key); any other
    column named like a computed one is the user's (see `_claim_computed`).
    """
    spec = schema.SHEETS_BY_KEY[sheet_key]
    if all(grid.batch.column(g).null_count == grid.n_rows for g in range(grid.batch.num_columns)):
        # A sheet with nothing in it yet: no records, no header to find.
        info = SheetInfo(key=sheet_key, name=grid.name, header_row=1, columns={}, headers={})
        problem = _sheet_problem(
            spec, grid.name, "empty_sheet", Severity.INFO, "工作表“{sheet}”是空的", "Sheet '{sheet}' is empty"
        )
        return normalize.empty_frame(sheet_key), empty_raw(sheet_key), info, [problem]
    rows = grid.head(HEADER_SCAN_ROWS)
    match = find_header(sheet_key, rows)
    if match is None:
        raise SchemaError(
            "找不到表头：应包含 {expected_zh} 等列。前几行的内容是：{found}",
            "No header row found: expected columns such as {expected_en}. The first rows hold: {found}",
            location=_loc(grid.name),
            expected_zh=schema.expected_headers(sheet_key, "zh-CN"),
            expected_en=schema.expected_headers(sheet_key, "en"),
            found=_found_headers(None, rows),
        )
    _claim_computed(spec, match, owned or {})
    missing = _required_missing(sheet_key, match.keys)
    if missing:
        raise SchemaError(
            "缺少必需的列：{missing_zh}。找到的表头（第 {row} 行）：{found}",
            "Required column(s) missing: {missing_en}. Headers found (row {row}): {found}",
            location=_loc(grid.name),
            missing_zh="、".join(c.zh for c in missing),
            missing_en=", ".join(c.en for c in missing),
            row=match.row + 1,
            found=_found_headers(match, rows),
        )

    # Which grid columns become what.
    known: dict[str, int] = {}  # schema key → grid column
    extra: dict[str, int] = {}  # unknown header → grid column
    taken: set[str] = {ROW, *spec.keys}
    body = grid.batch.slice(match.row + 1)
    for g, (name, key) in enumerate(zip(match.names, match.keys, strict=True)):
        if key:
            known[key] = g
        elif name:
            extra[_unique_name(str(name).strip(), taken)] = g
        elif body.column(g).null_count < body.num_rows:  # data under a blank header: keep it, named by its letter
            extra[_unique_name(column_letter(grid.col_index[g]), taken)] = g

    # Drop blank rows (rows whose every column is blank).
    filled = None
    for g in range(body.num_columns):
        valid = pc.is_valid(body.column(g))
        filled = valid if filled is None else pc.or_(filled, valid)
    first_row = match.row + 2  # Excel row of the first data row
    if filled is None or body.num_rows == 0:
        kept = body.slice(0, 0)
        row_numbers = np.array([], dtype="int64")
    elif filled.false_count == 0:  # no blank rows: nothing to copy
        kept = body
        row_numbers = np.arange(first_row, first_row + body.num_rows, dtype="int64")
    else:
        kept = body.filter(filled)
        row_numbers = np.flatnonzero(filled.to_numpy(zero_copy_only=False)).astype("int64") + first_row

    index = pd.RangeIndex(len(row_numbers))
    raw_cols: dict[str, pd.Series] = {ROW: pd.Series(row_numbers, index=index)}
    for key in spec.keys:
        if key in known:
            raw_cols[key] = _text_series(kept.column(known[key]), index)
        else:
            raw_cols[key] = pd.Series(np.nan, index=index, dtype=TEXT_DTYPE)
    raw = pd.DataFrame(raw_cols, copy=False)  # copy=False: Arrow-backed columns are shared, not consolidated
    headers = {key: str(match.names[g]).strip() for key, g in known.items()}
    source = {ROW: raw_cols[ROW], **{key: raw_cols[key] for key in known}}
    source.update({name: _text_series(kept.column(g), index) for name, g in extra.items()})
    typed, problems = normalize.coerce_frame(
        sheet_key, pd.DataFrame(source, copy=False), sheet=grid.name, headers=headers
    )

    used_cols = [g for g in range(grid.batch.num_columns) if grid.batch.column(g).null_count < grid.n_rows]
    info = SheetInfo(
        key=sheet_key,
        name=grid.name,
        header_row=match.row + 1,
        columns={key: grid.col_index[g] + 1 for key, g in known.items()},
        headers=headers,
        extra_columns={name: grid.col_index[g] + 1 for name, g in extra.items()},
        last_column=max((grid.col_index[g] + 1 for g in used_cols), default=0),
        last_row=int(row_numbers[-1]) if len(row_numbers) else match.row + 1,
    )
    return typed, raw, info, problems


def _text_series(array: pa.Array, index: pd.Index) -> pd.Series:
    if pa.types.is_null(array.type):
        return pd.Series(np.nan, index=index, dtype=TEXT_DTYPE)
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    return pd.Series(pd.array(array, dtype=TEXT_DTYPE), index=index)


def _loc(sheet: str) -> Location:
    return Location(sheet=sheet)


# --------------------------------------------------------------------------- Excel Tables


def excel_tables(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sheet name → [(table name, ref like "A3:K200")], from the package parts (no sheet XML parsed)."""
    from lxml import etree

    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    out: dict[str, list[tuple[str, str]]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not any(n.startswith("xl/tables/") for n in names):
                return out
            workbook = etree.fromstring(zf.read("xl/workbook.xml"))
            targets = _rels(zf, "xl/_rels/workbook.xml.rels", "xl")
            for sheet in workbook.iter(f"{ns_main}sheet"):
                part = targets.get(sheet.get(f"{ns_rel}id") or "")
                if not part:
                    continue
                rels_part = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
                for target in _rels(zf, rels_part, posixpath.dirname(part)).values():
                    if target.startswith("xl/tables/") and target in names:
                        table = etree.fromstring(zf.read(target))
                        name = table.get("displayName") or table.get("name") or ""
                        out.setdefault(sheet.get("name") or "", []).append((name, table.get("ref") or ""))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError):
        return {}
    return out


def _rels(zf: zipfile.ZipFile, part: str, base: str) -> dict[str, str]:
    from lxml import etree

    try:
        root = etree.fromstring(zf.read(part))
    except KeyError:
        return {}
    out = {}
    for rel in root:
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External":
            continue
        full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        out[rel.get("Id") or ""] = full
    return out


def _ref_bounds(ref: str) -> tuple[int, int, int, int] | None:
    """Parse a ref like "B3:K200" → (first row, first col, last row, last col), 1-based."""
    import re

    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", ref.upper())
    if not m:
        return None

    def col(letters: str) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        return n

    c1, r1 = col(m.group(1)), int(m.group(2))
    c2, r2 = (col(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    return r1, c1, r2, c2


def _table_for(info: SheetInfo, tables: list[tuple[str, str]]) -> str | None:
    cols = list(info.columns.values()) + list(info.extra_columns.values())
    for name, ref in tables:
        bounds = _ref_bounds(ref)
        if bounds and bounds[0] == info.header_row and all(bounds[1] <= c <= bounds[3] for c in cols):
            return name
    return None


# --------------------------------------------------------------------------- settings, language


def read_settings(grid: Grid) -> tuple[Settings, list[Problem], bool]:
    """The Settings sheet → (Settings, problems, whether it set the language)."""
    rows = grid.head(HEADER_SCAN_ROWS)
    match = find_header("settings", rows)
    key_col, value_col, start = 0, 1, 0
    key_header, value_header = "", ""
    if match is not None and "key" in match.keys and "value" in match.keys:
        key_col, value_col = match.keys.index("key"), match.keys.index("value")
        key_header, value_header = str(match.names[key_col]), str(match.names[value_col])
        start = match.row + 1
    if grid.batch.num_columns <= max(key_col, value_col):
        return Settings(), [], False
    keys = grid.batch.column(key_col).to_pylist()[start:]
    values = grid.batch.column(value_col).to_pylist()[start:]
    pairs = [(start + i + 1, k, v) for i, (k, v) in enumerate(zip(keys, values, strict=True)) if k]
    settings, problems = normalize.settings_from_pairs(
        pairs, sheet=grid.name, key_header=key_header, value_header=value_header
    )
    index = normalize._setting_index()
    has_language = any(index.get(schema.normalize_name(k)) == "language" for _, k, v in pairs if v)
    return settings, problems, has_language


def guess_language(sheet_name: str, headers: list[str]) -> str:
    """"en" when the Basic Info sheet's name and most of its headers are English; else "zh-TW" when its
    Chinese is Traditional (客戶編號, 公司名稱), else "zh-CN"."""

    def is_ascii(text: str) -> bool:
        return all(ord(ch) < 128 for ch in text)

    votes = [is_ascii(h) for h in headers if h]
    english = sum(votes) * 2
    if english > len(votes) or (english == len(votes) and is_ascii(sheet_name)):  # a tie: the sheet name decides
        return "en"
    if is_traditional([sheet_name, *headers]):
        return "zh-TW"
    return schema.DEFAULT_LANG


# --------------------------------------------------------------------------- the book


def list_sheets(path: Path) -> list[str]:
    """Every sheet name of the workbook, in order (a CSV has one: its file name's stem)."""
    path = Path(path)
    kind = ensure_readable(path)
    if kind == "csv":
        return [path.stem]
    return [name for name, _ in package_sheets(path)] or list(_open(path, kind).sheet_names)


def sheet_refs(path: Path) -> list[SheetRef]:
    """Every sheet's name, sheetId and visibility, from workbook.xml ([] when it cannot be read)."""
    from lxml import etree

    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    try:
        with zipfile.ZipFile(path) as zf:
            root = etree.fromstring(zf.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, OSError, etree.XMLSyntaxError):
        return []
    return [SheetRef(el.get("name") or "", el.get("sheetId") or "", el.get("state") or "visible")
            for el in root.iter(f"{ns_main}sheet")]


def read_ownership(names: list[str], refs: list[SheetRef], grid_of: Callable[[str], Grid]) -> Ownership:
    """What xlcrm created in this workbook, from its very-hidden state sheet (see `ownership`)."""
    refs = refs or [SheetRef(n) for n in names]
    state = next((n for n in names if n.casefold() == STATE_SHEET.casefold()), None)
    if state is None:
        return Ownership.load(None, refs)
    grid = grid_of(state)
    rows = grid.head(grid.n_rows)[1:]
    width = len(STATE_COLUMNS)
    return Ownership.load([[*(r[:width]), *([None] * (width - len(r)))] for r in rows], refs)


# Adopting an unnamed sheet as Basic Info takes strong evidence: a name for the customer and a way
# to reach them, among at least three recognised columns ("pets: Name, Owner" is not a CRM sheet).
_IDENTITY = {"customer_id", "company", "contact"}
_CHANNELS = {"mobile", "phone", "phone2", "email", "email2", "address", "fax", "website"}
MIN_ADOPT_SCORE = 3


@dataclass
class _Candidate:
    name: str
    named: bool  # the sheet's name says it is this data sheet
    match: HeaderMatch | None
    required_ok: bool

    @property
    def score(self) -> int:
        return self.match.score if self.match else 0

    def strong(self, key: str) -> bool:
        if self.match is None or not self.required_ok or self.score < MIN_ADOPT_SCORE:
            return False
        if key != "customers":
            return True
        found = {k for k in self.match.keys if k}
        return bool(found & _IDENTITY) and bool(found & _CHANNELS)

    def rank(self) -> tuple:
        return (self.required_ok, self.score, self.named)


def _candidate(key: str, name: str, named: bool, grid_of: Callable[[str], Grid]) -> _Candidate:
    match = find_header(key, grid_of(name).head(HEADER_SCAN_ROWS))
    ok = match is not None and not _required_missing(key, match.keys)
    return _Candidate(name, named, match, ok)


def locate_sheets(names: list[str], grid_of: Callable[[str], Grid], ownership: Ownership | None = None,
                  refs: list[SheetRef] | None = None) -> dict[str, str]:
    """Schema sheet key → sheet name, chosen by evidence.

    Data sheets: among the sheets named like one (any language or synonym) and the unnamed ones, the
    best header wins (required columns found, then the number of recognised columns; the name breaks
    ties) — so a user's "Orders" sheet cannot hijack the real 購買記錄. An unnamed sheet is adopted
    only on strong evidence. Tool sheets: only those xlcrm recorded as its own (`ownership`); a
    user's sheet that merely has a tool sheet's name is left alone. Raises SchemaError, saying what
    was found and how to name the sheet, when there is no Basic Info.
    """
    ownership = ownership or Ownership()
    refs = refs or [SheetRef(n) for n in names]
    by_key: dict[str, str] = dict(ownership.tool_sheets(refs))
    # A sheet xlcrm made without a tool role ("sheet:<name>": an import's or a graft's new data sheet)
    # is the user's data from then on, so it stays a candidate.
    taken = {n.casefold() for k, n in by_key.items() if not k.startswith("sheet:")}
    free = [n for n in names if n.casefold() not in taken and not is_internal(n)]
    for name in free:
        if schema.match_sheet(name) == "settings" and "settings" not in by_key:
            by_key["settings"] = name
    weak: list[_Candidate] = []
    for key in DATA_KEYS:
        used = {n for k, n in by_key.items() if not k.startswith("sheet:")}
        pool = [n for n in free if n not in used and schema.match_sheet(n) in (key, None)]
        candidates = [_candidate(key, n, schema.match_sheet(n) == key, grid_of) for n in pool]
        good = [c for c in candidates if (c.named and c.match is not None) or c.strong(key)]
        if good:
            by_key[key] = max(good, key=_Candidate.rank).name  # max keeps the first of equals
            continue
        named = [c for c in candidates if c.named]
        if named:  # named but unreadable: read_data_sheet says exactly what is wrong with it
            by_key[key] = named[0].name
        elif key == "customers":
            weak = sorted((c for c in candidates if c.score >= 2), key=_Candidate.rank, reverse=True)
    for name in free:  # optional data sheets (Service): by their name, with their required columns; else left alone
        key = schema.match_sheet(name)
        if (key in OPTIONAL_KEYS and key not in by_key and name not in by_key.values()
                and _candidate(key, name, True, grid_of).required_ok):
            by_key[key] = name
    if "customers" not in by_key:
        raise _no_customers(names, weak)
    data = {by_key[k] for k in DATA_KEYS if k in by_key}
    return {k: n for k, n in by_key.items() if not (k.startswith("sheet:") and n in data)}


def _no_customers(names: list[str], weak: list) -> SchemaError:
    if weak:
        best = weak[0]
        labels_zh = "、".join(f"{n}→{schema.CUSTOMERS.column(k).zh}" for n, k in zip(best.match.names, best.match.keys, strict=True) if k)
        labels_en = ", ".join(f"{n} → {schema.CUSTOMERS.column(k).en}" for n, k in zip(best.match.names, best.match.keys, strict=True) if k)
        return SchemaError(
            "找不到“客户资料”工作表。工作表“{sheet}”有几列像客户资料（{found}），但不足以确认"
            "（需要客户名称或编号、一种联系方式，且至少 {n} 列可识别）。如果它就是客户资料，请把它改名为“客户资料”。",
            "No 'Basic Info' sheet found. Sheet '{sheet}' has a few columns that look like customer data "
            "({found_en}), but not enough to be sure (a customer name or ID, a way to reach them, and at least {n} "
            "recognised columns). If it is your customer list, rename it to 'Basic Info'.",
            sheet=best.name, found=labels_zh, found_en=labels_en, n=MIN_ADOPT_SCORE,
        )
    return SchemaError(
        "找不到“客户资料”工作表（也接受：{names_zh}）。工作簿中的工作表：{found}",
        "No 'Basic Info' sheet found (also accepted: {names_en}). Sheets in the workbook: {found_en}",
        names_zh="、".join(schema.CUSTOMERS.all_names()[1:5]),
        names_en=", ".join(n for n in schema.CUSTOMERS.all_names()[:5] if n != schema.CUSTOMERS.en),
        found="、".join(n for n in names if not is_internal(n)) or "—",
        found_en=", ".join(n for n in names if not is_internal(n)) or "—",
    )


def assemble_book(names: list[str], by_key: dict[str, str], grid_of: Callable[[str], Grid],
                  tables_of: Callable[[str], list], *, lang: str | None = None,
                  say: Progress = lambda _msg, _frac: None, ownership: Ownership | None = None) -> CrmBook:
    """Type the located sheets into a CrmBook (shared by the file reader and the live-Excel adapter)."""
    ownership = ownership or Ownership()
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    raws: dict[str, pd.DataFrame] = {}
    infos: dict[str, SheetInfo] = {}
    for i, key in enumerate(DATA_KEYS):
        if key not in by_key:
            frames[key] = normalize.empty_frame(key)
            raws[key] = empty_raw(key)
            problems.append(_missing_sheet_problem(schema.SHEETS_BY_KEY[key]))
            continue
        name = by_key[key]
        say(f"读取“{name}” / Reading '{name}'", 0.05 + 0.85 * i / len(DATA_KEYS))
        typed, raw, info, found = read_data_sheet(grid_of(name), key, ownership.owned_headers(key))
        info.table = _table_for(info, tables_of(name))
        frames[key], raws[key], infos[key] = typed, raw, info
        problems.extend(found)
    for key in OPTIONAL_KEYS:  # no sheet, no problem: an optional sheet's absence is not reported
        if key in by_key:
            typed, raw, info, found = read_data_sheet(grid_of(by_key[key]), key, ownership.owned_headers(key))
            info.table = _table_for(info, tables_of(by_key[key]))
            frames[key], raws[key], infos[key] = typed, raw, info
            problems.extend(found)
    settings, has_language = Settings(), False
    if "settings" in by_key:
        settings, found, has_language = read_settings(grid_of(by_key["settings"]))
        problems = found + problems
    if lang is not None:
        lang = normalize_lang(lang) or schema.DEFAULT_LANG
    elif has_language:
        lang = settings.language
    else:
        customers = infos["customers"]
        lang = guess_language(customers.name, list(customers.headers.values()))
    return CrmBook(
        customers=frames["customers"],
        followups=frames["followups"],
        purchases=frames["purchases"],
        settings=settings,
        lang=lang,
        sheets=infos,
        sheet_names=names,
        tool_sheets={k: n for k, n in by_key.items() if k not in (*DATA_KEYS, *OPTIONAL_KEYS, "settings")},
        problems=problems,
        raw=raws,
        ownership=ownership,
        service=frames.get("service"),
    )


def read_book(
    path: Path, *, lang: str | None = None, progress: Progress | None = None, threads: int | None = None
) -> CrmBook:
    """Read a workbook (or a customers CSV) into a `CrmBook`.

    Raises FileRefused for files xlcrm cannot read (see `guard`), SchemaError when Basic Info or
    a required column is missing (the message lists what was found, in zh-CN and en).
    `threads`: sheets read at once (default 2 on machines with 4+ cores, else 1 = sequential).
    """
    path = Path(path)
    kind = ensure_readable(path)
    if kind == "csv":
        from .csv_input import read_customers_csv

        return read_customers_csv(path, lang=lang)
    say = progress or (lambda _msg, _frac: None)
    say("打开工作簿 / Opening the workbook", 0.0)
    xl = _open(path, kind)
    sheets = sheet_parts(path)
    names = [name for name, _, _ in sheets] or list(xl.sheet_names)
    # Chart sheets, Excel 4 macro sheets and dialog sheets hold no records: never looked into.
    worksheets = [name for name, k, _ in sheets if k == "worksheet"] if sheets else names
    strings = SharedStringWatch(path, {name: part for name, _, part in sheets})
    grids: dict[str, Grid] = {}  # sheets already loaded to look at their headers

    def head_grid(name: str) -> Grid:
        if name not in grids:
            grids[name] = _load_grid(xl, name)
        return grids[name]

    refs = sheet_refs(path)
    ownership = read_ownership(names, refs, head_grid)
    by_key = locate_sheets(worksheets, head_grid, ownership, refs)
    if threads is None:
        # Measured on a shared 2-core box: a second thread bought nothing and cost ~70 MB, so only
        # machines with cores to spare read two sheets at once.
        threads = 2 if (os.cpu_count() or 1) >= 4 else 1
    wanted = [by_key[k] for k in (*DATA_KEYS, "settings") if k in by_key and by_key[k] not in grids]
    loader = _SheetLoader(path, kind, xl, wanted, threads)
    try:
        tables = excel_tables(path)
        book = assemble_book(names, by_key, lambda name: strings.watch(grids.pop(name, None) or loader.get(name)),
                             lambda name: tables.get(name, []), lang=lang, say=say, ownership=ownership)
    finally:
        loader.close()
    strings.verify(book)  # a damaged shared-string index would silently read as string 0
    say("完成 / Done", 1.0)
    book.path = path
    return book


def empty_raw(sheet_key: str) -> pd.DataFrame:
    spec = schema.SHEETS_BY_KEY[sheet_key]
    data = {ROW: pd.Series([], dtype="int64")}
    data.update({k: pd.Series([], dtype=TEXT_DTYPE) for k in spec.keys})
    return pd.DataFrame(data)


def _missing_sheet_problem(spec: schema.SheetSpec) -> Problem:
    return _sheet_problem(
        spec,
        spec.zh,
        "missing_sheet",
        Severity.WARNING,
        "工作簿中没有“{zh}”工作表，按没有记录处理",
        "The workbook has no '{en}' sheet; treated as having no records",
    )


def _sheet_problem(spec: schema.SheetSpec, sheet: str, code: str, severity: Severity, zh: str, en: str) -> Problem:
    return Problem(
        sheet_key=spec.key,
        sheet=sheet,
        row=0,
        column_key=None,
        column="",
        value=None,
        message=Msg(zh, en, {"zh": spec.zh, "en": spec.en, "sheet": sheet}),
        severity=severity,
        code=code,
    )


def read_tool_sheet(path: Path, name: str) -> pd.DataFrame | None:
    """A tool-owned sheet (header in row 1, every value as text), or None if the workbook lacks it.

    `name` is the sheet's exact name (as `CrmBook.sheet_name_for` gives it; Excel ignores case): a
    user's sheet that merely means the same is never read as xlcrm's. Columns are the row-1 headers;
    values are `object` str or None.
    """
    path = Path(path)
    kind = ensure_readable(path)
    if kind == "csv":
        return None
    xl = _open(path, kind)
    names = list(xl.sheet_names)
    chosen = next((n for n in names if n.casefold() == name.casefold()), None)
    if chosen is None:
        return None
    sheet = xl.load_sheet(chosen, header_row=0, dtypes="string")
    frame = sheet.to_pandas()
    frame = frame.astype(object).where(frame.notna(), None)
    frame.columns = [str(c) for c in frame.columns]
    return frame


__all__ = [
    "Grid",
    "HeaderMatch",
    "column_letter",
    "excel_tables",
    "find_header",
    "guess_language",
    "list_sheets",
    "empty_raw",
    "read_book",
    "read_data_sheet",
    "read_settings",
    "read_tool_sheet",
]
