"""Typing what users type: text, dates, numbers and choices, vectorised over whole columns.

Pure pandas, no I/O. The reader (xlsx and CSV) and the operations share these functions so a
value means the same thing wherever it comes from. Every parser returns the typed column and a
"bad" mask (non-blank input that could not be read) so callers can report exactly which cells.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import Msg, Problem, Severity
from ..model.book import empty_frame
from ..ooxml.dates import from_serials
from ..schema import Choice, Kind
from ..settings import Settings

ROW = "_row"

# Serials read as dates: 1910-01-01 … 9999-12-31. A bare "2024" or "15" in a date column is a
# typing mistake far more often than a date in 1905 or 1900, so those are reported instead.
SERIAL_MIN, SERIAL_MAX = 3653, 2958465

_DATE_TEXT = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号號]?"
    r"(?:[\sT]+(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2})(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_SPACES = re.compile(r"\s+")
_TRIM = " \t\r\n\v\f\u3000\xa0"  # ASCII whitespace, the ideographic (full-width) space, no-break space
_SERIAL = re.compile(r"^\d{1,7}(?:\.\d+)?$")
_INTEGRAL_FLOAT_TEXT = r"^([0-9]+)\.0+$"
_NUMBER_JUNK = re.compile(r"[,\s'’`_]|^(?:rmb|cny|usd|hk\$|us\$|[￥¥$€£])|(?:元|块|rmb|cny)$")
_TEXT_KINDS_FOLDED = frozenset({Kind.ID, Kind.PHONE, Kind.POSTCODE, Kind.EMAIL, Kind.URL})


# --------------------------------------------------------------------------- text


def _as_string(series: pd.Series) -> pd.Series:
    """Any column as pandas strings (NA for blank), numbers written the way Excel shows them."""
    if isinstance(series.dtype, pd.StringDtype):
        return series
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.map({True: "TRUE", False: "FALSE"}).astype("string")
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("Int64").astype("string")
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        integral = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 1e15)
        out = series.astype("string")
        if integral.any():
            out[integral] = pd.Series(values[integral].astype("int64"), index=series.index[integral]).astype("string")
        return out
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = series.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
        return out.astype("string")
    # object: mixed Python values (a CSV row, a live-Excel range); per cell, but such inputs are small
    return series.map(_cell_text, na_action="ignore").astype("string")


def _cell_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "isoformat"):
        text = pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")
        return text.removesuffix(" 00:00:00")
    return str(value)


def _blank_to_na(text: pd.Series) -> pd.Series:
    text = text.str.strip()
    return text.mask(text == "")


def _arrow_text(series: pd.Series) -> pa.Array:
    """A column as one Arrow large_string array: trimmed, blank cells null. Cheap for Arrow-backed input."""
    arr = pa.array(_as_string(series).array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    arr = pc.utf8_trim(arr, _TRIM)
    empty = pc.equal(pc.binary_length(arr), 0)
    if pc.any(empty).as_py():
        arr = pc.if_else(empty, pa.scalar(None, pa.large_string()), arr)
    return arr


def non_ascii(arr: pa.Array) -> np.ndarray:
    """True for each cell holding any non-ASCII character (the only cells NFKC can change); a
    blank cell is False."""
    return pc.fill_null(pc.invert(pc.string_is_ascii(arr)), False).to_numpy(zero_copy_only=False)



def fold_width(series: pd.Series) -> pd.Series:
    """Full-width digits, letters and punctuation folded to ASCII (NFKC), e.g. "１３８" → "138"."""
    return _as_string(series).str.normalize("NFKC")


def to_text(series: pd.Series, kind: Kind = Kind.TEXT) -> pd.Series:
    """A text-kind column as `object` str/None: trimmed, blanks None, numbers without a stray ".0".

    IDs, phones, postcodes, emails and URLs are also width-folded (NFKC); digits stored as text
    keep their leading zeros (nothing here ever goes through a number).
    """
    arr = _arrow_text(series)
    digits_only = kind in {Kind.ID, Kind.PHONE, Kind.POSTCODE}
    if digits_only and pc.any(pc.fill_null(pc.match_substring(arr, "."), False)).as_py():
        arr = pc.replace_substring_regex(arr, _INTEGRAL_FLOAT_TEXT, r"\1")
    fold = kind in _TEXT_KINDS_FOLDED
    if len(arr) >= 1000:
        # Columns of repeated values (salesperson, city, template phrases, IDs in the follow-ups) build
        # one Python string per distinct value and share it: faster, and far less memory.
        encoded = pc.dictionary_encode(arr)
        if len(encoded.dictionary) * 2 <= len(arr):
            values = _python_strings(encoded.dictionary, fold, digits_only)
            codes = encoded.indices.to_numpy(zero_copy_only=False)  # float with NaN where null
            valid = pc.is_valid(encoded.indices).to_numpy(zero_copy_only=False)
            out = np.full(len(arr), None, dtype=object)
            out[valid] = values[codes[valid].astype(np.int64)]
            return pd.Series(out, index=series.index, dtype=object)
    return pd.Series(_python_strings(arr, fold, digits_only), index=series.index, dtype=object)


def _python_strings(arr: pa.Array, fold: bool, digits_only: bool) -> np.ndarray:
    out = arr.to_numpy(zero_copy_only=False)
    if fold:
        for i in np.flatnonzero(non_ascii(arr)):  # only cells with non-ASCII text; usually none
            out[i] = _fold_cell(out[i], digits_only)
    return out


def _fold_cell(text: str, digits_only: bool) -> str | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if digits_only:
        text = re.sub(_INTEGRAL_FLOAT_TEXT, r"\1", text)
    return text or None


# --------------------------------------------------------------------------- dates


def _from_serial(values: np.ndarray) -> pd.Series:
    """Excel 1900-system serials → timestamps (NaT outside SERIAL_MIN…SERIAL_MAX)."""
    values = np.asarray(values, dtype="float64")
    ok = np.isfinite(values) & (values >= SERIAL_MIN) & (values <= SERIAL_MAX)
    return pd.Series(from_serials(np.where(ok, values, np.nan)), dtype="datetime64[ns]")


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read a date column → (datetime64[ns] series, bad mask), same index.

    Accepts datetime cells, Excel serials (numbers or digit text), `2024-01-05`, `2024/1/5`,
    `2024年1月5日`, `2024.01.05`, `20240105`, an optional time after the date, and full-width digits.
    Blank cells are NaT and not bad; anything else unreadable is NaT and bad.
    """
    index = series.index
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = series.dt.tz_localize(None) if getattr(series.dtype, "tz", None) else series
        return out.astype("datetime64[ns]"), pd.Series(False, index=index)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        out = _from_serial(values)
        out.index = index
        return out, pd.Series(out.isna().to_numpy() & ~np.isnan(values), index=index)

    arr = _arrow_text(series)
    # Fast path, in Arrow: what fastexcel writes for date cells ("2024-01-05 00:00:00").
    fast = pc.strptime(arr, format="%Y-%m-%d %H:%M:%S", unit="ns", error_is_null=True)
    out = pd.Series(fast.to_numpy(zero_copy_only=False), index=index, dtype="datetime64[ns]")
    todo_mask = pc.and_(pc.is_valid(arr), pc.is_null(fast)).to_numpy(zero_copy_only=False)
    bad = np.zeros(len(index), dtype=bool)
    todo = np.flatnonzero(todo_mask)
    if len(todo):
        text = pd.Series(arr.take(pa.array(todo)).to_pylist(), index=index[todo], dtype=object)
        parsed = _parse_date_text(text)
        out.iloc[todo] = parsed.to_numpy()
        bad[todo] = parsed.isna().to_numpy()
    return out, pd.Series(bad, index=index)


def _parse_date_text(text: pd.Series) -> pd.Series:
    """The slower forms, only for the cells the Arrow fast path did not read (object str series)."""
    text = text.map(lambda v: _SPACES.sub(" ", unicodedata.normalize("NFKC", v)).strip())
    # ISO 8601 text ("2024-01-05", "2024-01-05T10:00"); shorter text ("2024", "2024-01") is no whole date.
    result = pd.to_datetime(text.where(text.str.len() >= 8), format="ISO8601", errors="coerce")
    result = result.astype("datetime64[ns]")
    rest = result.isna()
    if rest.any():
        result.loc[rest] = _parse_date_forms(text[rest])
    return result


def _parse_date_forms(text: pd.Series) -> pd.Series:
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    parts = text.str.extract(_DATE_TEXT)
    compact = text.str.extract(_DATE_COMPACT)
    for col in ("y", "m", "d"):
        parts[col] = parts[col].fillna(compact[col])
    has = parts["y"].notna()
    if has.any():
        p = parts[has]
        fields = {
            "year": p["y"].astype(int),
            "month": p["m"].astype(int),
            "day": p["d"].astype(int),
            "hour": p["H"].fillna("0").astype(int),
            "minute": p["M"].fillna("0").astype(int),
            "second": p["S"].fillna("0").astype(int),
        }
        result.loc[has] = pd.to_datetime(pd.DataFrame(fields), errors="coerce").astype("datetime64[ns]")
    serial = ~has & text.str.fullmatch(_SERIAL).fillna(False).astype(bool)
    if serial.any():
        stamps = _from_serial(text[serial].astype(float).to_numpy())
        stamps.index = text.index[serial]
        result.loc[serial] = stamps
    return result


# --------------------------------------------------------------------------- numbers


def parse_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read a money/number column → (float64 series, bad mask), same index.

    Accepts numbers, "1,234.50", "￥1,234", "1234元", full-width digits, "1.2万" (×10 000),
    "3亿" (×100 000 000) and accounting negatives "(1,234)". Blank → NaN, not bad.
    """
    index = series.index
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(object)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64"), pd.Series(False, index=index)
    arr = _arrow_text(series)
    try:  # Fast path: every cell is a plain number.
        return pd.Series(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), index=index), pd.Series(
            False, index=index
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pd.Series(arr.to_numpy(zero_copy_only=False), index=index, dtype=object)
    present = text.notna()
    out = pd.to_numeric(text, errors="coerce").astype("float64")
    todo = present & out.isna()
    if todo.any():
        out.loc[todo] = _parse_number_text(text[todo])
    bad = present & out.isna()
    return out, bad


def _parse_number_text(text: pd.Series) -> pd.Series:
    s = text.str.normalize("NFKC").str.casefold().str.replace(_NUMBER_JUNK, "", regex=True)
    negative = s.str.fullmatch(r"\(.*\)|-.*").fillna(False).astype(bool)
    s = s.str.strip("()").str.lstrip("-+")
    scale = pd.Series(1.0, index=s.index)
    for suffix, factor in (("万", 1e4), ("萬", 1e4), ("亿", 1e8), ("億", 1e8)):
        has = s.str.endswith(suffix).fillna(False).astype(bool)
        scale[has] = factor
        s = s.mask(has, s.str.slice(stop=-1))
    s = s.str.replace(_NUMBER_JUNK, "", regex=True)
    values = pd.to_numeric(s, errors="coerce").astype("float64") * scale
    return values.where(~negative, -values)


# --------------------------------------------------------------------------- choices


def parse_choices(series: pd.Series, choices: Iterable[Choice]) -> tuple[pd.Series, pd.Series]:
    """Map typed labels to choice codes (any language, synonyms) → (object codes/None, bad mask).

    Each distinct value is matched once, so this costs per distinct label, not per row.
    """
    choices = tuple(choices)
    text = _blank_to_na(_as_string(series))
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    mapped = np.array([schema.match_choice(choices, u) for u in uniques] + [None], dtype=object)
    out = pd.Series(mapped[codes], index=series.index, dtype=object)  # code -1 (blank) → last slot, None
    bad = text.notna() & out.isna()
    return out, bad


# --------------------------------------------------------------------------- whole frames


def _missing_column(kind: Kind, index: pd.Index) -> pd.Series:
    """An all-missing column of the kind's dtype (the user's sheet lacks this column)."""
    if kind == Kind.DATE:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if kind in {Kind.MONEY, Kind.NUMBER}:
        return pd.Series(np.nan, index=index, dtype="float64")
    return pd.Series([None] * len(index), index=index, dtype=object)


def coerce_frame(
    sheet_key: str,
    raw_df: pd.DataFrame,
    *,
    sheet: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Type a sheet's as-read columns by `schema.Kind` → (typed frame, problems).

    `raw_df` holds columns named by schema key (any subset, any dtype), optionally `_row` (the
    Excel row number) and any other columns, which pass through untouched after the schema ones.
    Every schema key is present in the result. `sheet` and `headers` (key → header as the user
    sees it) only make the problems' locations read like the workbook.
    """
    spec = schema.SHEETS_BY_KEY[sheet_key]
    sheet_label = sheet or spec.zh
    headers = dict(headers or {})
    index = raw_df.index
    rows = raw_df[ROW] if ROW in raw_df.columns else pd.Series(np.arange(2, len(raw_df) + 2), index=index)
    typed: dict[str, pd.Series] = {ROW: rows.astype("int64")}
    problems: list[Problem] = []
    for col in spec.columns:
        if col.key not in raw_df.columns:
            typed[col.key] = _missing_column(col.kind, index)
            continue
        source = raw_df[col.key]
        values, bad, code = _type_column(col, source)
        values.index = index
        typed[col.key] = values
        if bad is not None and bool(bad.any()):
            header = headers.get(col.key) or col.zh
            problems.extend(_cell_problems(sheet_key, sheet_label, col, header, source[bad], rows[bad], code))
    for name in raw_df.columns:
        if name != ROW and name not in typed:
            typed[name] = raw_df[name]
    # copy=False: no consolidation of same-dtype columns into one block (a full copy of every column).
    return pd.DataFrame(typed, index=index, copy=False), problems


def _type_column(col: schema.Column, source: pd.Series) -> tuple[pd.Series, pd.Series | None, str]:
    """One column typed by its kind → (values, bad-cell mask or None, the problem code for bad cells)."""
    if col.kind == Kind.DATE:
        values, bad = parse_dates(source)
        return values, bad, "bad_date"
    if col.kind in {Kind.MONEY, Kind.NUMBER}:
        values, bad = parse_numbers(source)
        return values, bad, "bad_number"
    if col.kind in {Kind.CHOICE, Kind.BOOL}:
        values, _ = parse_choices(source, col.choices)
        return values, None, ""  # an unknown label stays visible in `raw`; Check reports it with suggestions
    return to_text(source, col.kind), None, ""


def _cell_problems(
    sheet_key: str, sheet: str, col: schema.Column, header: str, values: pd.Series, rows: pd.Series, code: str
) -> list[Problem]:
    if code == "bad_date":
        message = ("无法识别的日期“{value}”", "Unreadable date '{value}'")
        hint = ("请写成 2024-01-05 这样的日期", "Write the date like 2024-01-05")
    else:
        message = ("无法识别的数字“{value}”", "Unreadable number '{value}'")
        hint = ("请只填写数字，如 1234.50", "Enter a number only, e.g. 1234.50")
    # The value cannot be used (grading, due dates, totals ignore it), so it is an error either way.
    severity = Severity.ERROR
    out = []
    for value, row in zip(values.tolist(), rows.tolist(), strict=True):
        text = _cell_text(value)
        out.append(
            Problem(
                sheet_key=sheet_key,
                sheet=sheet,
                row=int(row),
                column_key=col.key,
                column=header,
                value=text,
                message=Msg(message[0], message[1], {"value": text}),
                suggestion=Msg(*hint),
                severity=severity,
                code=code,
            )
        )
    return out


# --------------------------------------------------------------------------- settings


def setting_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in schema.SETTINGS:
        for name in (spec.key, spec.zh, spec.en):
            index.setdefault(schema.normalize_name(name), spec.key)
    return index


def settings_from_pairs(
    pairs: Iterable[tuple[int, object, object]], *, sheet: str = "设置", key_header: str = "", value_header: str = ""
) -> tuple[Settings, list[Problem]]:
    """Settings from the Settings sheet's (row, key or label, value) triples → (Settings, problems).

    The key cell may hold the key (`cadence_a`) or its zh/en label. A value that fails validation
    falls back to its default, with a Problem naming the cell; unknown keys are ignored.
    """
    index = setting_index()
    accepted: dict[str, object] = {}
    where: dict[str, tuple[int, object]] = {}
    problems: list[Problem] = []
    for row, key_cell, value in pairs:
        key = index.get(schema.normalize_name(key_cell))
        if key is None or value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        candidate = {**accepted, key: value.strip() if isinstance(value, str) else value}
        try:
            Settings(**{k: v for k, v in candidate.items()})
        except Exception:
            # One field at a time, so a bad cell only costs its own setting.
            try:
                Settings(**{key: candidate[key]})
                reason_ok = True
            except Exception:
                reason_ok = False
            problems.append(_setting_problem(sheet, row, key, value, value_header, reason_ok))
            continue
        accepted[key] = candidate[key]
        where[key] = (row, key_cell)
    return Settings(**accepted), problems


def _setting_problem(sheet: str, row: int, key: str, value: object, header: str, conflicts: bool) -> Problem:
    spec = next(s for s in schema.SETTINGS if s.key == key)
    if conflicts:
        message = Msg(
            "设置“{label}”的值“{value}”与其他设置矛盾，已改用默认值 {default}",
            "Setting '{label_en}' = '{value}' contradicts another setting; using the default {default}",
            {"label": spec.zh, "label_en": spec.en, "value": value, "default": spec.default},
        )
    else:
        message = Msg(
            "设置“{label}”的值“{value}”无效，已改用默认值 {default}",
            "Setting '{label_en}' has an invalid value '{value}'; using the default {default}",
            {"label": spec.zh, "label_en": spec.en, "value": value, "default": spec.default},
        )
    return Problem(
        sheet_key="settings",
        sheet=sheet,
        row=int(row),
        column_key="value",
        column=header or "值",
        value=_cell_text(value),
        message=message,
        severity=Severity.WARNING,
        code="bad_setting",
    )


__all__ = [
    "SERIAL_MAX",
    "SERIAL_MIN",
    "coerce_frame",
    "empty_frame",
    "fold_width",
    "parse_choices",
    "parse_dates",
    "parse_numbers",
    "settings_from_pairs",
    "to_text",
]
