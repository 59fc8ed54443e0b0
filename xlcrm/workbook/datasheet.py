"""Type one located sheet: its header row mapped to schema columns, its values normalised into the
typed frame the ops use, the raw text kept for the writer, and the problems found on the way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import Location, Msg, Problem, SchemaError, Severity
from ..model.book import ROW, SheetInfo
from ..ops import normalize
from ..procs import return_free_memory
from ..settings import Settings
from .grid import Grid, column_letter
from .locate import HEADER_SCAN_ROWS, HeaderMatch, find_header, found_headers, required_missing
from .ownership import USER_INPUT_FOR

# What the reader hands out for "as text" columns (raw values, unknown columns): Arrow-backed
# pandas strings with NaN for blank — compact and free to build from fastexcel's output.
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)
SPLIT_ROWS = 200_000  # sheets with more data rows are typed in two halves at once (see `_coerce`)


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
            location=sheet_location(grid.name),
            expected_zh=schema.expected_headers(sheet_key, "zh-CN"),
            expected_en=schema.expected_headers(sheet_key, "en"),
            found=found_headers(None, rows),
        )
    _claim_computed(spec, match, owned or {})
    missing = required_missing(sheet_key, match.keys)
    if missing:
        raise SchemaError(
            "缺少必需的列：{missing_zh}。找到的表头（第 {row} 行）：{found}",
            "Required column(s) missing: {missing_en}. Headers found (row {row}): {found}",
            location=sheet_location(grid.name),
            missing_zh="、".join(c.zh for c in missing),
            missing_en=", ".join(c.en for c in missing),
            row=match.row + 1,
            found=found_headers(match, rows),
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
    typed, problems = _coerce(sheet_key, pd.DataFrame(source, copy=False), grid.name, headers)

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


def _coerce(sheet_key: str, source: pd.DataFrame, sheet: str, headers: dict[str, str]
            ) -> tuple[pd.DataFrame, list[Problem]]:
    """`normalize.coerce_frame`, a big sheet in two halves of its rows at once: typing is mostly
    Arrow, which lets another thread run, and a read's last sheet is typed while the other core
    has nothing left to do (L: Basic Info's million rows, 5 s on one core). Same frame and the
    same problems in the same order as one pass."""
    n = len(source)
    if n < SPLIT_ROWS:
        return normalize.coerce_frame(sheet_key, source, sheet=sheet, headers=headers)
    from concurrent.futures import ThreadPoolExecutor

    half = n // 2
    return_free_memory()  # what was freed since the parse (other sheets' typing, the stretches' join) first
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlcrm-type") as pool:
        try:
            first = pool.submit(normalize.coerce_frame, sheet_key, source.iloc[:half], sheet=sheet, headers=headers)
        except RuntimeError:  # no threads on this platform (Pyodide): one pass
            return normalize.coerce_frame(sheet_key, source, sheet=sheet, headers=headers)
        second = normalize.coerce_frame(sheet_key, source.iloc[half:], sheet=sheet, headers=headers)
        first = first.result()
    return_free_memory()  # what the two threads' typing freed, kept in their heaps, before the stacking
    typed = _stacked(first[0], second[0])
    by_column: dict[str | None, list[Problem]] = {}
    for problem in [*first[1], *second[1]]:  # one pass lists a column's problems together, rows ascending
        by_column.setdefault(problem.column_key, []).append(problem)
    return typed, [p for problems in by_column.values() for p in problems]


def _stacked(top: pd.DataFrame, bottom: pd.DataFrame) -> pd.DataFrame:
    """`pd.concat([top, bottom])`, a column at a time, each half's column let go once stacked: the
    halves' columns are blocks of their own (`coerce_frame`), so the typed sheet is never held three
    times over at once (the L book's Basic Info: 0.35 GB of object columns less at the read's peak)."""
    columns = {name: pd.concat([top.pop(name), bottom.pop(name)]) for name in list(top.columns)}
    return pd.DataFrame(columns, copy=False)


def _text_series(array: pa.Array, index: pd.Index) -> pd.Series:
    if pa.types.is_null(array.type):
        return pd.Series(np.nan, index=index, dtype=TEXT_DTYPE)
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    return pd.Series(pd.array(array, dtype=TEXT_DTYPE), index=index)


def sheet_location(sheet: str) -> Location:
    return Location(sheet=sheet)


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


def table_for(info: SheetInfo, tables: list[tuple[str, str]]) -> str | None:
    cols = list(info.columns.values()) + list(info.extra_columns.values())
    for name, ref in tables:
        bounds = _ref_bounds(ref)
        if bounds and bounds[0] == info.header_row and all(bounds[1] <= c <= bounds[3] for c in cols):
            return name
    return None


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
    index = normalize.setting_index()
    has_language = any(index.get(schema.normalize_name(k)) == "language" for _, k, v in pairs if v)
    return settings, problems, has_language


def empty_raw(sheet_key: str) -> pd.DataFrame:
    spec = schema.SHEETS_BY_KEY[sheet_key]
    data = {ROW: pd.Series([], dtype="int64")}
    data.update({k: pd.Series([], dtype=TEXT_DTYPE) for k in spec.keys})
    return pd.DataFrame(data)


def missing_sheet_problem(spec: schema.SheetSpec) -> Problem:
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
