"""Which sheet plays which role (Basic Info, Follow-ups, Purchases, Settings, tool sheets) and where
its header row is: by name first, then by the headers found in a sheet's first rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .. import schema
from ..errors import SchemaError
from ..i18n import is_traditional
from .grid import Grid
from .ownership import STATE_COLUMNS, STATE_SHEET, Ownership, SheetRef, is_internal

HEADER_SCAN_ROWS = 30


DATA_KEYS = tuple(s.key for s in schema.DATA_SHEETS)
OPTIONAL_KEYS = tuple(s.key for s in schema.OPTIONAL_SHEETS)  # read when present, found by name only


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


def required_missing(sheet_key: str, keys: list[str | None]) -> list[schema.Column]:
    have = {k for k in keys if k}
    return [c for c in schema.SHEETS_BY_KEY[sheet_key].columns if c.required and c.key not in have]


def found_headers(match: HeaderMatch | None, rows: list[list[str | None]]) -> str:
    if match is not None:
        cells = [n for n in match.names if n]
    else:
        cells = [c for row in rows[:5] for c in row if c]
    return "、".join(cells[:40]) or "—"


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
    ok = match is not None and not required_missing(key, match.keys)
    return _Candidate(name, named, match, ok)


def locate_sheets(names: list[str], grid_of: Callable[[str], Grid], ownership: Ownership | None = None,
                  refs: list[SheetRef] | None = None, keys: tuple[str, ...] | None = None) -> dict[str, str]:
    """Schema sheet key → sheet name, chosen by evidence.

    Data sheets: among the sheets named like one (any language or synonym) and the unnamed ones, the
    best header wins (required columns found, then the number of recognised columns; the name breaks
    ties) — so a user's "Orders" sheet cannot hijack the real 購買記錄. An unnamed sheet is adopted
    only on strong evidence. Tool sheets: only those xlcrm recorded as its own (`ownership`); a
    user's sheet that merely has a tool sheet's name is left alone. Raises SchemaError, saying what
    was found and how to name the sheet, when there is no Basic Info. `keys`: only these data sheets
    are looked for (the others are not opened); default all.
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
        if keys is not None and key not in keys:
            continue
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
        if (key in OPTIONAL_KEYS and (keys is None or key in keys) and key not in by_key and name not in by_key.values()
                and _candidate(key, name, True, grid_of).required_ok):
            by_key[key] = name
    if "customers" not in by_key and (keys is None or "customers" in keys):
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
