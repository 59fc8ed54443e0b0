"""Build xlcrm's template workbooks (zh-CN and en) — optionally filled with data — with xlsxwriter.

A template is a brand-new file, so xlsxwriter (not the part-preserving writer) is the right tool.
Everything a user sees comes from `xlcrm.schema` in the chosen language: sheet names, headers,
widths, kinds, choices, settings and help texts. The sheets:

- the three data sheets (Basic Info, Follow-up, Purchases) as Excel Tables (`tblCustomers`,
  `tblFollowups`, `tblPurchases`), header row frozen, widths, "@" on text kinds, `yyyy-mm-dd` on
  dates, `#,##0.00` on money; dropdowns from named ranges on the hidden Lists sheet; computed
  columns with their own header fill and a note; a duplicate-on-entry *warning* built into the
  sheet (custom data validation with COUNTIF on customer ID, mobile, e-mail and order number) and
  an "unknown customer ID" warning on Follow-up / Purchases — no Python needed;
- Settings (key, value, description) from `schema.SETTINGS`;
- How-to (使用说明): the workflow, the commands, the A–E grade rules and the cadence table;
- Lists (hidden): one column per dropdown, each a workbook-level name `lst_*`.

The output is reproducible byte for byte (fixed creation date; xlsxwriter's zip entries carry a
fixed timestamp). Rebuild the committed templates with::

    python -m xlcrm.template --out templates
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from . import schema
from .errors import FileRefused
from .howto import howto_lines
from .i18n import OUTPUT_LANGS, pick
from .schema import Column, Kind, SheetSpec
from .template_validation import CUSTOMER_IDS_NAME, LIST_CHOICES, OWNERS_LIST, list_validations
from .template_values import chunk_values
from .workbook.edits import FMT_DATE, FMT_MONEY, FMT_TEXT

# Fixed so that a rebuild gives the same bytes (xlsxwriter would use "now").
FIXED_CREATED = dt.datetime(2026, 1, 1, 0, 0, 0)
TEMPLATE_FILES = {"zh-CN": "xlcrm_template_zh.xlsx", "en": "xlcrm_template_en.xlsx"}
TABLE_NAMES = {"customers": "tblCustomers", "followups": "tblFollowups", "purchases": "tblPurchases",
               "service": "tblService"}
SETTINGS_TABLE = "tblSettings"
CHUNK_ROWS = 20_000  # rows converted to Python values at a time (bounds memory for big books)
CONSTANT_MEMORY_ROWS = 50_000  # above this many data rows, stream rows out (xlsxwriter constant_memory)


HEADER_FILL_COMPUTED = "#F8CBAD"  # light orange: written by xlcrm
FONT = {"zh-CN": "等线", "zh-TW": "微軟正黑體", "en": "Calibri"}


def _t(lang: str, zh: str, en: str) -> str:
    return pick(lang, zh, en)


def _lang(lang: str) -> str:
    if lang not in OUTPUT_LANGS:
        raise ValueError(f"lang must be one of {OUTPUT_LANGS}, not {lang!r}")
    return lang


# --------------------------------------------------------------------------- formats


@dataclass
class _Formats:
    by_kind: dict[Kind, object]
    header_computed: object
    title: object
    heading: object
    wrap: object
    bold: object

    @classmethod
    def create(cls, wb: xlsxwriter.Workbook) -> _Formats:
        text = wb.add_format({"num_format": FMT_TEXT})
        date = wb.add_format({"num_format": FMT_DATE})
        money = wb.add_format({"num_format": FMT_MONEY})
        by_kind = {k: text for k in Kind}
        by_kind.update({Kind.DATE: date, Kind.MONEY: money, Kind.NUMBER: None})
        return cls(
            by_kind=by_kind,
            header_computed=wb.add_format({"bold": True, "bg_color": HEADER_FILL_COMPUTED, "font_color": "#000000"}),
            title=wb.add_format({"bold": True, "font_size": 16}),
            heading=wb.add_format({"bold": True, "font_size": 12, "bg_color": "#DDEBF7"}),
            wrap=wb.add_format({"text_wrap": True, "valign": "top"}),
            bold=wb.add_format({"bold": True}),
        )

    def cell(self, column: Column | None):
        return self.by_kind[column.kind] if column is not None else None


# --------------------------------------------------------------------------- tables


def _add_table(ws, last_row: int, ncols: int, options: dict) -> None:
    """`add_table` over rows 0..last_row, cheap for any size and also in constant_memory mode.

    xlsxwriter refuses tables in constant_memory mode and indexes every cell of a table range in
    a dict (1M rows × 9 columns would cost gigabytes), so the table is declared over its header
    and first row, then widened to its real range; the header cells are rewritten as inline
    strings when streaming.
    """
    streaming = ws.constant_memory
    ws.constant_memory = False
    saved_strings = ws.str_table
    if streaming:
        ws.str_table = type(saved_strings)()  # keep the throwaway header indexes out of the book
    try:
        rc = ws.add_table(0, 0, 1, ncols - 1, options)
    finally:
        ws.constant_memory = streaming
        ws.str_table = saved_strings
    if rc not in (None, 0):
        raise RuntimeError(f"add_table failed ({rc}) for {options.get('name')}")
    table = ws.tables[-1]
    if last_row > 1:
        table["range"] = f"A1:{xl_col_to_name(ncols - 1)}{last_row + 1}"
        table["a_range"] = table["range"]
        if table.get("autofilter"):
            table["autofilter"] = table["range"]
    if streaming:
        for c, col in enumerate(options["columns"]):
            ws.write_string(0, c, col["header"], col.get("header_format"))


# --------------------------------------------------------------------------- the book


@dataclass
class _SheetData:
    spec: SheetSpec
    frame: pd.DataFrame | None
    overrides: Mapping[str, Mapping[int, object]]  # column key → {row position: value}


def _extra_columns(spec: SheetSpec, frame: pd.DataFrame | None) -> list[str]:
    """The caller's columns that are not in the schema: kept, after the schema's columns."""
    if frame is None:
        return []
    return [c for c in frame.columns if c not in spec.keys and not str(c).startswith("_")]


def _write_data_sheet(wb, fmts: _Formats, data: _SheetData, lang: str) -> None:
    spec, frame = data.spec, data.frame
    ws = wb.add_worksheet(spec.name(lang))
    extras = _extra_columns(spec, frame)
    columns: list[Column | None] = [*spec.columns, *([None] * len(extras))]
    headers = [c.header(lang) for c in spec.columns] + [str(e) for e in extras]
    col_index = {c.key: i for i, c in enumerate(spec.columns)}
    nrows = 0 if frame is None else len(frame)

    for i, col in enumerate(columns):
        ws.set_column(i, i, col.width if col else 14, fmts.cell(col))
    table_columns = []
    for col, header in zip(columns, headers, strict=True):
        tc: dict = {"header": header}
        if col is not None and col.computed:
            tc["header_format"] = fmts.header_computed
        table_columns.append(tc)
    _add_table(
        ws,
        max(nrows, 1),
        len(headers),
        {"name": TABLE_NAMES[spec.key], "style": "Table Style Medium 2", "columns": table_columns},
    )
    for col in spec.computed_columns:
        ws.write_comment(
            0,
            col_index[col.key],
            _t(lang, "由 xlcrm 计算，请勿在此输入。", "Computed by xlcrm — do not type here."),
            {"author": "xlcrm", "x_scale": 1.6, "y_scale": 0.6},
        )
    ws.freeze_panes(1, 2 if spec.key == "customers" else 0)
    list_validations(ws, spec, lang, col_index)
    if frame is not None and nrows:
        _write_rows(ws, fmts, frame, [c.key for c in spec.columns] + extras, columns, lang, data.overrides)


def _write_rows(ws, fmts, frame, keys, columns, lang, overrides) -> None:
    cell_formats = [fmts.cell(c) for c in columns]
    write_string, write_number = ws.write_string, ws.write_number
    for start in range(0, len(frame), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, len(frame))
        chunk = [
            chunk_values(frame[k], start, stop, col, lang, overrides.get(k)) if k in frame.columns else None
            for k, col in zip(keys, columns, strict=True)
        ]
        present = [(c, vals, cell_formats[c]) for c, vals in enumerate(chunk) if vals is not None]
        for r in range(stop - start):
            row = start + r + 1
            for c, vals, fmt in present:
                v = vals[r]
                if v is None:
                    continue
                if v.__class__ is str:
                    write_string(row, c, v, fmt)
                else:
                    write_number(row, c, v, fmt)


def _write_settings(wb, fmts: _Formats, lang: str) -> None:
    spec = schema.SETTINGS_SHEET
    ws = wb.add_worksheet(spec.name(lang))
    for i, col in enumerate(spec.columns):
        ws.set_column(i, i, col.width if i else 20, fmts.by_kind[Kind.TEXT] if i == 0 else None)
    _add_table(
        ws,
        len(schema.SETTINGS),
        len(spec.columns),
        {"name": SETTINGS_TABLE, "style": "Table Style Light 9", "columns": [{"header": c.header(lang)} for c in spec.columns]},
    )
    for r, setting in enumerate(schema.SETTINGS, start=1):
        value = lang if setting.key == "language" else setting.default
        if isinstance(value, bool):  # a switch reads 是/否 or Yes/No, like the other dropdowns
            value = schema.choice_label(schema.YES_NO, "yes" if value else "no", lang)
        ws.write_string(r, 0, setting.key, fmts.by_kind[Kind.TEXT])
        if isinstance(value, (int, float)):
            ws.write_number(r, 1, value)
        else:
            ws.write_string(r, 1, str(value))
        ws.write_string(r, 2, pick(lang, setting.zh, setting.en))
    ws.freeze_panes(1, 0)


def _write_lists(wb, fmts: _Formats, lang: str, owners: Sequence[str]) -> None:
    ws = wb.add_worksheet(schema.LISTS.name(lang))
    sheet = schema.LISTS.name(lang)
    columns: list[tuple[str, str, list[str]]] = []  # (name, header, values)
    for name, (choices, sheet_key, col_key) in LIST_CHOICES.items():
        header = schema.SHEETS_BY_KEY[sheet_key].column(col_key).header(lang)
        columns.append((name, header, [ch.label(lang) for ch in choices]))
    columns.append((OWNERS_LIST, schema.CUSTOMERS.column("owner").header(lang), list(owners)))
    ws.set_column(0, len(columns) - 1, 14, fmts.by_kind[Kind.TEXT])
    # Row by row: required when the book streams (constant_memory).
    for r in range(1 + max(len(values) for _, _, values in columns)):
        for c, (_, header, values) in enumerate(columns):
            if r == 0:
                ws.write_string(0, c, header, fmts.bold)
            elif r <= len(values):
                ws.write_string(r, c, values[r - 1])
    for c, (name, _, values) in enumerate(columns):
        letter = xl_col_to_name(c)
        if name == OWNERS_LIST:
            # Grows with the list: add a salesperson below the last one and the dropdown shows them.
            wb.define_name(name, f"=OFFSET('{sheet}'!${letter}$2,0,0,MAX(1,COUNTA('{sheet}'!${letter}:${letter})-1),1)")
        else:
            wb.define_name(name, f"='{sheet}'!${letter}$2:${letter}${len(values) + 1}")
    ws.hide()


def _write_howto(wb, fmts: _Formats, lang: str) -> None:
    ws = wb.add_worksheet(schema.HOWTO.name(lang))
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 60, fmts.wrap)
    ws.set_column(2, 2, 22)
    row = 0
    for style, text in howto_lines(lang):
        if style == "title":
            ws.write_string(row, 0, text, fmts.title)
        elif style == "heading":
            row += 1
            ws.merge_range(row, 0, row, 2, text, fmts.heading)
        elif style == "table":
            for c, cell in enumerate(text.split("\t")):
                if cell.isdigit():
                    ws.write_number(row, c, int(cell))
                else:
                    ws.write_string(row, c, cell, fmts.wrap)
        else:
            ws.merge_range(row, 0, row, 2, text, fmts.wrap)
            ws.set_row(row, 15 * max(1, math.ceil(len(text) / (45 if lang != "en" else 95))))
        row += 1


def _write_state(wb, lang: str) -> None:
    """Record the sheets and computed columns the template made as xlcrm's own (see workbook.ownership):
    xlcrm later writes only into these, never into a sheet or column the user adds under the same name."""
    from .workbook.ownership import STATE_COLUMNS, STATE_SHEET

    sheets = {ws.name: i + 1 for i, ws in enumerate(wb.worksheets())}  # xlsxwriter: sheetId = position + 1
    customers = wb.worksheets()[0].name
    rows = [["sheet", spec.key, str(sheets[name]), name, ""]
            for spec in (schema.HOWTO, schema.LISTS) for name in sheets if schema.match_sheet(name) == spec.key]
    rows += [["column", f"customers.{col.key}", str(sheets[customers]), customers, col.header(lang)]
             for col in schema.CUSTOMERS.computed_columns]
    ws = wb.add_worksheet(STATE_SHEET)
    ws.write_row(0, 0, STATE_COLUMNS)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, row)
    ws.very_hidden()


def write_crm_workbook(
    path: Path,
    lang: str = "zh-CN",
    *,
    owners: Sequence[str] | None = None,
    frames: Mapping[str, pd.DataFrame | None] | None = None,
    overrides: Mapping[str, Mapping[str, Mapping[int, object]]] | None = None,
    constant_memory: bool | None = None,
    customize: Callable[[xlsxwriter.Workbook], None] | None = None,
) -> Path:
    """Write a complete xlcrm workbook. `frames` maps sheet key → DataFrame (columns = schema keys,
    values as a user would type them: display labels, dates, numbers, text dates as str);
    `overrides` maps sheet key → column key → {row position: value} to replace single cells
    (used by the sample generator for typed columns holding a few text values)."""
    lang = _lang(lang)
    path = Path(path)
    frames = dict(frames or {})
    overrides = overrides or {}
    nrows = sum(len(f) for f in frames.values() if f is not None)
    if constant_memory is None:
        constant_memory = nrows > CONSTANT_MEMORY_ROWS
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": constant_memory,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "use_zip64": nrows > 200_000,
            "default_format_properties": {"font_name": FONT[lang], "font_size": 11},
        },
    )
    wb.set_properties(
        {
            "title": _t(lang, "客户管理表（xlcrm）", "Customer workbook (xlcrm)"),
            "subject": _t(lang, "客户资料、跟进记录、购买记录", "Customers, follow-ups, purchases"),
            "author": "xlcrm",
            "company": "",
            "keywords": "CRM, xlcrm",
            "comments": _t(lang, "由 xlcrm 生成", "Generated by xlcrm"),
            "created": FIXED_CREATED,
        }
    )
    wb.set_custom_property("Language", lang)
    wb.set_custom_property("xlcrm", "template 1")
    fmts = _Formats.create(wb)
    for spec in (*schema.DATA_SHEETS, *schema.OPTIONAL_SHEETS):  # the template offers the Service sheet too
        _write_data_sheet(wb, fmts, _SheetData(spec, frames.get(spec.key), overrides.get(spec.key, {})), lang)
    id_letter = xl_col_to_name(schema.CUSTOMERS.keys.index("customer_id"))
    wb.define_name(CUSTOMER_IDS_NAME, f"='{schema.CUSTOMERS.name(lang)}'!${id_letter}:${id_letter}")
    _write_settings(wb, fmts, lang)
    _write_howto(wb, fmts, lang)
    _write_lists(wb, fmts, lang, owners or [])
    _write_state(wb, lang)
    if customize:  # e.g. the add-in build adds the VBA project and sheet buttons
        customize(wb)
    wb.close()  # ok-to-save: a brand-new file
    return path


def build_template(
    path: Path,
    lang: str = "zh-CN",
    *,
    owners: list[str] | None = None,
    customers: pd.DataFrame | None = None,
    followups: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    service: pd.DataFrame | None = None,
) -> Path:
    """Build the xlcrm template workbook at `path`, in `lang`, optionally filled with data.

    The frames use schema keys as column names (e.g. `customer_id`, `mobile`) and hold what a
    user would type: choice labels in `lang`, dates (date / datetime / Timestamp, or text), numbers.
    Columns not in the schema are kept as custom columns after the schema's columns.
    """
    return write_crm_workbook(
        path, lang, owners=owners,
        frames={"customers": customers, "followups": followups, "purchases": purchases, "service": service},
    )


def new_workbook(path: Path, lang: str = "zh-CN", *, owners: list[str] | None = None) -> Path:
    """`xlcrm new`: create a ready-to-use, empty CRM workbook; never overwrites a file."""
    path = Path(path)
    if path.exists():
        raise FileRefused(
            "文件已存在：{path}。xlcrm 不会覆盖已有文件，请换一个文件名。",
            "The file already exists: {path}. xlcrm never overwrites a file; choose another name.",
            path=str(path),
        )
    if path.suffix.lower() != ".xlsx":
        raise FileRefused(
            "新工作簿的文件名必须以 .xlsx 结尾：{path}",
            "A new workbook's file name must end in .xlsx: {path}",
            path=str(path),
        )
    return build_template(path, lang, owners=owners)


def build_templates(out_dir: Path) -> list[Path]:
    """The committed templates: one per language."""
    out_dir = Path(out_dir)
    return [build_template(out_dir / name, lang) for lang, name in TEMPLATE_FILES.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build xlcrm's template workbooks / 生成 xlcrm 模板工作簿")
    parser.add_argument("--out", type=Path, default=Path("templates"), help="output folder / 输出文件夹")
    args = parser.parse_args(argv)
    for p in build_templates(args.out):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
