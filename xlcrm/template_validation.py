"""Data validation of the template's data sheets: dropdowns from the hidden Lists sheet, owner
names, and a warning on values that repeat in columns where a repeat means a duplicate record."""

from __future__ import annotations

from collections.abc import Mapping

from xlsxwriter.utility import xl_col_to_name

from . import schema
from .i18n import pick
from .schema import SheetSpec

CUSTOMER_IDS_NAME = "CustomerIDs"  # workbook name over Basic Info's customer ID column
MAX_ROW = 1_048_575  # last 0-based row Excel has
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


def validation_message(lang: str, zh: str, en: str) -> str:
    return pick(lang, zh, en)[:255]


def list_validations(ws, spec: SheetSpec, lang: str, col_index: Mapping[str, int]) -> None:
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
                "input_title": pick(lang, "由 xlcrm 计算", "Computed by xlcrm")[:32],
                "input_message": validation_message(
                    lang, "此列由 xlcrm“重新评级”写入，请勿在此输入。", "Written by xlcrm's Regrade — do not type here."
                ),
            }
        elif (spec.key, col.key) in UNIQUE_COLUMNS:
            options = {
                "validate": "custom",
                "value": f"=COUNTIF(${letter}:${letter},{letter}2)<=1",
                "error_type": "warning",
                "error_title": pick(lang, "可能重复", "Possible duplicate")[:32],
                "error_message": validation_message(
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
                "error_title": pick(lang, "未知客户编号", "Unknown customer ID")[:32],
                "error_message": validation_message(
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
                "error_title": pick(lang, "请从列表中选择", "Choose from the list")[:32],
                "error_message": validation_message(lang, f"“{header}”可选：{labels}", f"{header} can be: {labels}"),
            }
        if options is None:
            continue
        if col.help(lang) and not col.computed:
            options.setdefault("input_title", header[:32])
            options.setdefault("input_message", col.help(lang)[:255])
        ws.data_validation(first, c, last, c, options)


__all__ = ["CUSTOMER_IDS_NAME", "LIST_CHOICES", "MAX_ROW", "OWNERS_LIST", "list_validations"]
