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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from . import schema
from .errors import FileRefused
from .i18n import OUTPUT_LANGS, pick
from .schema import Column, Kind, SheetSpec
from .workbook.edits import FMT_DATE, FMT_MONEY, FMT_TEXT

# Fixed so that a rebuild gives the same bytes (xlsxwriter would use "now").
FIXED_CREATED = dt.datetime(2026, 1, 1, 0, 0, 0)
TEMPLATE_FILES = {"zh-CN": "xlcrm_template_zh.xlsx", "en": "xlcrm_template_en.xlsx"}
TABLE_NAMES = {"customers": "tblCustomers", "followups": "tblFollowups", "purchases": "tblPurchases",
               "service": "tblService"}
SETTINGS_TABLE = "tblSettings"
CUSTOMER_IDS_NAME = "CustomerIDs"  # workbook name over Basic Info's customer ID column
MAX_ROW = 1_048_575  # last 0-based row Excel has
CHUNK_ROWS = 20_000  # rows converted to Python values at a time (bounds memory for big books)
CONSTANT_MEMORY_ROWS = 50_000  # above this many data rows, stream rows out (xlsxwriter constant_memory)
EXCEL_EPOCH = dt.date(1899, 12, 30)
UNIX_EPOCH_SERIAL = 25569  # Excel serial of 1970-01-01

# Dropdown lists on the hidden Lists sheet: name → (choices, the column whose header titles it).
LIST_CHOICES: dict[str, tuple[tuple[schema.Choice, ...], str, str]] = {
    "lst_grade": (schema.GRADES, "customers", "grade"),
    "lst_customer_type": (schema.CUSTOMER_TYPES, "customers", "customer_type"),
    "lst_deal_status": (schema.DEAL_STATUSES, "customers", "deal_status"),
    "lst_demand": (schema.DEMANDS, "customers", "demand"),
    "lst_importance": (schema.IMPORTANCES, "customers", "importance"),
    "lst_credit_rating": (schema.CREDIT_RATINGS, "customers", "credit_rating"),
    "lst_channel": (schema.CHANNELS, "followups", "channel"),
    "lst_order_status": (schema.ORDER_STATUSES, "purchases", "status"),
    "lst_yes_no": (schema.YES_NO, "customers", "marketing_consent"),
    "lst_service_type": (schema.SERVICE_TYPES, "service", "type"),
}
OWNERS_LIST = "lst_owners"
OWNER_COLUMNS = {("customers", "owner"), ("followups", "by"), ("service", "handler")}
# Columns where a repeated value is probably a duplicate record.
UNIQUE_COLUMNS = {("customers", "customer_id"), ("customers", "mobile"), ("customers", "email"), ("purchases", "order_no")}

HEADER_FILL_COMPUTED = "#F8CBAD"  # light orange: written by xlcrm
FONT = {"zh-CN": "等线", "zh-TW": "微軟正黑體", "en": "Calibri"}


def _t(lang: str, zh: str, en: str) -> str:
    return pick(lang, zh, en)


def _lang(lang: str) -> str:
    if lang not in OUTPUT_LANGS:
        raise ValueError(f"lang must be one of {OUTPUT_LANGS}, not {lang!r}")
    return lang


# --------------------------------------------------------------------------- cell values


def _is_blank(v: object) -> bool:
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v == ""


def _serial(v: dt.date) -> float:
    """Excel serial number of a date or datetime (time of day kept as a fraction)."""
    if isinstance(v, dt.datetime):
        delta = v.replace(tzinfo=None) - dt.datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return float((v - EXCEL_EPOCH).days)


def _as_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # 13800138000.0 → "13800138000"
    return str(v)


def _cell_value(v: object, column: Column | None, lang: str) -> str | float | None:
    """A value as a cell holds it: None (blank), str (text cell) or float (number / date serial)."""
    if _is_blank(v):
        return None
    if v.__class__ is str:
        return v
    if isinstance(v, (bool, np.bool_)):
        if column is not None and column.choices:
            return schema.choice_label(column.choices, "yes" if v else "no", lang)
        return _t(lang, "是", "Yes") if v else _t(lang, "否", "No")
    if isinstance(v, (dt.date, np.datetime64)):
        if isinstance(v, np.datetime64):
            v = pd.Timestamp(v).to_pydatetime()
        if column is not None and column.is_text:
            return v.strftime("%Y-%m-%d")
        return _serial(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        if column is not None and column.is_text:
            return _as_text(float(v))
        return float(v)
    return str(v)


def _chunk_values(
    series: pd.Series, start: int, stop: int, column: Column | None, lang: str, overrides: Mapping[int, object] | None
) -> list:
    """Cell values of rows [start, stop) of one column, vectorised where the dtype allows it."""
    part = series.iloc[start:stop]
    if pd.api.types.is_datetime64_any_dtype(part.dtype) and not (column is not None and column.is_text):
        days = part.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        serial = days.astype("int64").astype("float64") + UNIX_EPOCH_SERIAL
        serial[np.isnat(days)] = np.nan
        values = [None if math.isnan(x) else x for x in serial.tolist()]
    elif pd.api.types.is_float_dtype(part.dtype) and not (column is not None and column.is_text):
        values = [None if math.isnan(x) else x for x in part.to_numpy(dtype="float64").tolist()]
    else:
        values = [_cell_value(v, column, lang) for v in part.astype(object).tolist()]
    if overrides:
        for i, v in overrides.items():
            if start <= i < stop:
                values[i - start] = _cell_value(v, column, lang)
    return values


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


def _validation_message(lang: str, zh: str, en: str) -> str:
    return _t(lang, zh, en)[:255]


def _list_validations(ws, spec: SheetSpec, lang: str, col_index: Mapping[str, int]) -> None:
    """Dropdowns, duplicate warnings, unknown-ID warnings and input notes for one data sheet."""
    by_choices = {id(ch): name for name, (ch, _, _) in LIST_CHOICES.items()}
    customers_id_col = xl_col_to_name(schema.CUSTOMERS.keys.index("customer_id"))
    for col in spec.columns:
        c = col_index[col.key]
        letter = xl_col_to_name(c)
        first, last = 1, MAX_ROW
        header = col.header(lang)
        options: dict | None = None
        if col.computed:
            options = {
                "validate": "any",
                "input_title": _t(lang, "由 xlcrm 计算", "Computed by xlcrm")[:32],
                "input_message": _validation_message(
                    lang, "此列由 xlcrm“重新评级”写入，请勿在此输入。", "Written by xlcrm's Regrade — do not type here."
                ),
            }
        elif (spec.key, col.key) in UNIQUE_COLUMNS:
            options = {
                "validate": "custom",
                "value": f"=COUNTIF(${letter}:${letter},{letter}2)<=1",
                "error_type": "warning",
                "error_title": _t(lang, "可能重复", "Possible duplicate")[:32],
                "error_message": _validation_message(
                    lang,
                    f"“{header}”中已有相同的值：这可能是重复客户或重复记录。点“是”仍然保存，点“否”修改。",
                    f"This {header} is already in the column: this may be a duplicate. Yes keeps it, No lets you edit it.",
                ),
            }
        elif col.key == "customer_id" and spec.key in ("followups", "purchases", "service"):
            options = {
                "validate": "custom",
                "value": f"=COUNTIF({CUSTOMER_IDS_NAME},{letter}2)>0",
                "error_type": "warning",
                "error_title": _t(lang, "未知客户编号", "Unknown customer ID")[:32],
                "error_message": _validation_message(
                    lang,
                    f"工作表“{schema.CUSTOMERS.name(lang)}”的“客户编号”列（{customers_id_col} 列）中没有这个编号。",
                    f"This ID is not in column {customers_id_col} of sheet '{schema.CUSTOMERS.name(lang)}'.",
                ),
            }
        elif (spec.key, col.key) in OWNER_COLUMNS:
            # Owners are free text: offer the list, accept anything.
            options = {"validate": "list", "source": f"={OWNERS_LIST}", "show_error": False}
        elif col.choices and id(col.choices) in by_choices:
            labels = ("、" if lang != "en" else ", ").join(ch.label(lang) for ch in col.choices)
            options = {
                "validate": "list",
                "source": f"={by_choices[id(col.choices)]}",
                "error_type": "stop",
                "error_title": _t(lang, "请从列表中选择", "Choose from the list")[:32],
                "error_message": _validation_message(lang, f"“{header}”可选：{labels}", f"{header} can be: {labels}"),
            }
        if options is None:
            continue
        if col.help(lang) and not col.computed:
            options.setdefault("input_title", header[:32])
            options.setdefault("input_message", col.help(lang)[:255])
        ws.data_validation(first, c, last, c, options)


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
    _list_validations(ws, spec, lang, col_index)
    if frame is not None and nrows:
        _write_rows(ws, fmts, frame, [c.key for c in spec.columns] + extras, columns, lang, data.overrides)


def _write_rows(ws, fmts, frame, keys, columns, lang, overrides) -> None:
    cell_formats = [fmts.cell(c) for c in columns]
    write_string, write_number = ws.write_string, ws.write_number
    for start in range(0, len(frame), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, len(frame))
        chunk = [
            _chunk_values(frame[k], start, stop, col, lang, overrides.get(k)) if k in frame.columns else None
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


def _howto_lines(lang: str) -> Iterator[tuple[str, str]]:
    """(style, text) lines of the How-to sheet; style is title / heading / text / table."""
    c, f, p = schema.CUSTOMERS, schema.FOLLOWUPS, schema.PURCHASES
    d = schema.SETTING_DEFAULTS
    cust, fol, pur = c.name(lang), f.name(lang), p.name(lang)
    setting_sheet = schema.SETTINGS_SHEET.name(lang)
    lists = schema.LISTS.name(lang)
    comp = ("、" if lang != "en" else ", ").join(col.header(lang) for col in c.computed_columns)
    idh = c.column("customer_id").header(lang)
    yield "title", _t(lang, "xlcrm 客户管理表 使用说明", "xlcrm customer workbook — how to use it")
    yield "heading", _t(lang, "一、三张表，用客户编号关联", "1. Three sheets, joined by customer ID")
    yield "text", _t(
        lang,
        f"“{cust}”每个客户一行（客户资料卡）；“{fol}”每次联系一行；“{pur}”每笔订单一行。"
        f"三张表用“{idh}”关联，不要把跟进或订单写进客户那一行。可以在表格右侧添加自己的列，xlcrm 会保留。",
        f"'{cust}' has one row per customer (the customer card); '{fol}' one row per contact; "
        f"'{pur}' one row per order. They are joined by '{idh}': never put follow-ups or orders in the "
        "customer's row. You may add your own columns to the right; xlcrm keeps them.",
    )
    yield "text", _t(
        lang,
        f"“{idh}”可以留空，“校验”会自动编号。手机、电话、编号、邮编等列是文本格式，开头的 0 不会丢失。",
        f"'{idh}' may be left blank: Check assigns the next ID. Phone, ID and postcode columns are text, "
        "so leading zeros are kept.",
    )
    yield "text", _t(
        lang,
        "输入重复的客户编号、手机或邮箱时，Excel 会立即弹出“可能重复”警告（无需 Python）；"
        "写法不同的重复（如加 +86、繁体、少写“有限公司”）由“查重”找出。",
        "Typing a customer ID, mobile or e-mail that is already there shows a 'Possible duplicate' warning "
        "at once (no Python needed); duplicates written differently (+86, Traditional characters, "
        "a missing 'Co., Ltd.') are found by Dedupe.",
    )
    svc = schema.SERVICE.name(lang)
    yield "text", _t(
        lang,
        f"“{svc}”（可选）每次售前、售中、售后服务、投诉或回访一行。投诉超过 {d['complaint_sla_days']} 天未填“解决日期”"
        f"会在“今日跟进”和“汇总”中提醒；{d['no_contact_days']} 天既无跟进也无服务的客户列为建议重新分配。",
        f"'{svc}' (optional) has one row per pre-sale, in-sale or after-sale service, complaint or revisit. A complaint "
        f"with no 'Resolved' date after {d['complaint_sla_days']} days is flagged on Due Today and the Summary; "
        f"customers with no follow-up or service for {d['no_contact_days']} days are listed for reassignment.",
    )
    yield "heading", _t(lang, "二、按钮与命令", "2. Buttons and commands")
    yield "text", _t(
        lang,
        "在 Excel 中点击 xlcrm 选项卡上的按钮；在 WPS、LibreOffice 或定时任务中运行同名命令：",
        "In Excel click the buttons on the xlcrm ribbon tab; in WPS, LibreOffice or a scheduled job run "
        "the command of the same name:",
    )
    commands = (
        ("check", "校验：检查电话、邮箱、日期、必填项和编号，结果写入“问题”表", "Check: phones, e-mails, dates, required fields and IDs; findings go to the Issues sheet"),
        ("regrade", f"重新评级：计算 {comp}", f"Regrade: computes {comp}"),
        ("due", "今日跟进：列出今天需要跟进的客户（今日需跟进客户）", "Due today: the customers to follow up today"),
        ("summary", "汇总：按负责人、等级、月份统计销售额与回款、逾期应收", "Summary: sales and collections by owner, grade and month; overdue receivables"),
        ("dedupe", "查重：找出可能重复的客户，写入“查重”表供确认", "Dedupe: finds likely duplicate customers and lists them on the Duplicates sheet for review"),
        ("merge", "合并：合并“查重”表中确认的重复客户，被合并的行移到“归档”表", "Merge: merges the pairs confirmed on Duplicates; merged rows move to Archive"),
        ("export", "导出：导出选定客户用于邮件合并（广告信函、节日问候）", "Export: selected customers for mail-merge (letters, holiday greetings)"),
        ("card", "客户卡：一位客户的基本信息、跟进、购买和服务记录列在一起（按钮：先选中客户所在的行）",
         "Card: one customer's basic info, follow-ups, purchases and service together (button: select their row first)"),
    )
    for cmd, zh, en in commands:
        yield "text", f"xlcrm {cmd} {_t(lang, '客户表.xlsx', 'crm.xlsx')}    — {_t(lang, zh, en)}"
    yield "heading", _t(lang, "三、客户等级 A–E 与跟进周期", "3. Grades A–E and follow-up cadence")
    yield "table", "\t".join(
        (c.column("grade").header(lang), _t(lang, "规则", "Rule"), _t(lang, "跟进周期（天）", "Follow up every (days)"))
    )
    rules = {
        "A": (f"明确需求，预计 {d['window_a']} 天内成交", f"Clear need, deal expected within {d['window_a']} days"),
        "B": (f"明确需求，预计 {d['window_b']} 天内成交", f"Clear need, deal expected within {d['window_b']} days"),
        "C": (f"明确需求，预计 {d['window_c']} 天内成交", f"Clear need, deal expected within {d['window_c']} days"),
        "D": (f"潜在需求，或明确需求但 {d['window_c']} 天后才成交", f"Latent need, or a clear need but more than {d['window_c']} days away"),
        "E": ("无需求 / 无机会（死亡客户）", "No need / no chance (dead customer)"),
    }
    for g, (zh, en) in rules.items():
        yield "table", "\t".join((g, _t(lang, zh, en), str(d[f"cadence_{g.lower()}"])))
    yield "text", _t(
        lang,
        f"天数可在“{setting_sheet}”表中修改。每次跟进后重新评级，按新等级的周期安排下次跟进。"
        f"“{c.column('grade_override').header(lang)}”填写后优先于自动等级。",
        f"Change the days on the '{setting_sheet}' sheet. After each follow-up the customer is re-graded "
        f"and the new cadence applies. '{c.column('grade_override').header(lang)}', when filled, wins over the computed grade.",
    )
    yield "heading", _t(lang, "四、哪些内容由 xlcrm 写入", "4. What xlcrm writes")
    yield "text", _t(
        lang,
        f"橙色表头的列（{comp}）由 xlcrm 计算，请勿手动输入，下次计算会覆盖。"
        "问题、变更记录、今日跟进、久未跟进、汇总、应收、查重、归档、导出等工具表由 xlcrm 重新生成，"
        "在其中的修改不会保留（“查重”表的确认列除外）。xlcrm 不会删除或静默覆盖您输入的内容：删除的行进入“归档”，每次修改记入“变更记录”。",
        f"Columns with an orange header ({comp}) are computed by xlcrm: do not type there, the next run "
        "overwrites them. Tool sheets (Issues, Change Log, Due Today, Stale, Summary, Receivables, "
        "Duplicates, Archive, Export) are regenerated by xlcrm, so edits there are not kept (except the "
        "decision column of Duplicates). xlcrm never deletes or silently overwrites what you typed: removed "
        "rows go to Archive and every change is listed in Change Log.",
    )
    yield "text", _t(
        lang,
        f"下拉列表的选项在隐藏的“{lists}”表中（右键工作表标签 → 取消隐藏）；销售人员名单可在该表的负责人列中增加。",
        f"The dropdown choices are on the hidden '{lists}' sheet (right-click a sheet tab → Unhide); add "
        "salespeople to its Owner column.",
    )


def _write_howto(wb, fmts: _Formats, lang: str) -> None:
    ws = wb.add_worksheet(schema.HOWTO.name(lang))
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 60, fmts.wrap)
    ws.set_column(2, 2, 22)
    row = 0
    for style, text in _howto_lines(lang):
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
