"""Duplicates (查重), Merge (合并) and Undo merge (撤销合并).

- `dedupe`: find duplicate customers and list them on the Duplicates sheet, one group per cluster,
  with score, reasons and a Decision column the user fills: 合并 / 不是重复 / 保留为主. Decisions
  already typed are read back before the sheet is rebuilt; "not a duplicate" goes to the hidden
  memory sheet and is never proposed again. `new_only`: only rows added since the last run are
  compared (with everything) — the duplicate warning when customers are created.
- `merge`: merge the groups marked on the Duplicates sheet: the master keeps its ID and gets its
  blanks filled, conflicts are listed in the Change Log (never overwritten), follow-ups and
  purchases are re-pointed, merged rows move to the Archive, and an undo record is kept.
- `merge` with `undo`: restore the last merge (rows, IDs, child rows, filled cells).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from ..errors import Location, Msg, XlcrmError
from ..ops.changelog import LOG_COLUMNS
from ..ops.dedupe import DedupeConfig, DedupeResult, find_duplicates, reasons_text
from ..ops.merge import MergeGroup, decode_value, encode_value, is_blank, kind_of, plan_merge
from ..schema import ARCHIVE, CUSTOMERS, DEDUPE_MEMORY, DUPLICATES, Kind, match_header
from ..workbook.book import CrmBook
from ..workbook.edits import (
    FMT_DATE,
    FMT_DATETIME,
    FMT_MONEY,
    AppendRows,
    Block,
    CellStyle,
    ColumnWrite,
    DeleteRows,
    EditPlan,
    SheetReplace,
)
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, Planned, after_data_sheets, apply_planned, change_log_edit, command

# --------------------------------------------------------------------------- decisions

MERGE, NOT_DUP, MASTER = "merge", "not_duplicate", "master"
DECISIONS = {
    MERGE: ("合并", "Merge", ("合併", "merge", "m", "是", "yes", "y", "重复", "duplicate")),
    NOT_DUP: ("不是重复", "Not a duplicate", ("不是重複", "不重复", "非重复", "否", "no", "n", "not duplicate",
                                             "different", "不同")),
    MASTER: ("保留为主", "Keep as master", ("保留為主", "主", "主记录", "master", "keep", "保留", "keep master")),
}


def _fold(text: object) -> str:
    return re.sub(r"[\s_\-.]+", "", unicodedata.normalize("NFKC", str(text or ""))).casefold()


_DECISION_INDEX = {_fold(n): code for code, (zh, en, syn) in DECISIONS.items() for n in (zh, en, *syn)}


def parse_decision(text: object) -> str | None:
    if is_blank(text):
        return None
    return _DECISION_INDEX.get(_fold(text)) or _DECISION_INDEX.get(_fold(_simplified(str(text))))


def _simplified(text: str) -> str:
    from ..schema import simplified

    return simplified(text)


def decision_label(code: str | None, lang: str) -> str:
    if not code:
        return ""
    zh, en, _ = DECISIONS[code]
    return en if lang == "en" else zh


# Duplicates sheet columns: key, zh, en. Customer fields use the schema's headers.
DUP_COLUMNS = (
    ("group", "组", "Group"),
    ("decision", "决定", "Decision"),
    ("customer_id", None, None),
    ("row", "行号", "Row"),
    ("company", None, None),
    ("contact", None, None),
    ("mobile", None, None),
    ("email", None, None),
    ("city", None, None),
    ("address", None, None),
    ("score", "相似度", "Score"),
    ("reasons", "原因", "Reasons"),
)
MEMORY_COLUMNS = ("kind", "id_a", "id_b", "time", "user", "sheet", "row", "field", "vtype", "value")


def _dup_header(key: str, zh: str | None, en: str | None, lang: str) -> str:
    if zh is None:
        return CUSTOMERS.column(key).header(lang)
    return en if lang == "en" else zh


def _dup_key(header: str) -> str | None:
    f = _fold(_simplified(str(header)))  # a zh-TW book's sheet has 組 / 決定 / 行號
    for key, zh, en in DUP_COLUMNS:
        names = (zh, en) if zh else (CUSTOMERS.column(key).zh, CUSTOMERS.column(key).en, CUSTOMERS.column(key).tw)
        if f in {_fold(n) for n in names if n}:
            return key
    return match_header("customers", header)


@dataclass
class SheetDecisions:
    """What the user typed on the Duplicates sheet: groups of customer IDs with a decision each."""

    groups: dict[str, list[tuple[str, str | None]]]  # group → [(customer ID, decision code)]

    def decision_of(self) -> dict[str, str]:
        return {cid: d for rows in self.groups.values() for cid, d in rows if d}

    def not_duplicate_pairs(self) -> set[tuple[str, str]]:
        """Each row marked "not a duplicate" is different from every other row of its group."""
        pairs: set[tuple[str, str]] = set()
        for rows in self.groups.values():
            ids = [cid for cid, _ in rows]
            for cid, d in rows:
                if d == NOT_DUP:
                    pairs.update(tuple(sorted((cid, other))) for other in ids if other != cid)
        return pairs


def read_decisions(sheet: pd.DataFrame | None) -> SheetDecisions:
    if sheet is None or sheet.empty:
        return SheetDecisions({})
    keys = {c: _dup_key(c) for c in sheet.columns}
    col = {k: c for c, k in keys.items() if k}
    if "customer_id" not in col or "group" not in col:
        return SheetDecisions({})
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for _, r in sheet.iterrows():
        cid = str(r[col["customer_id"]] or "").strip()
        grp = str(r[col["group"]] or "").strip()
        if not cid or not grp:
            continue
        grp = grp[:-2] if grp.endswith(".0") else grp
        groups.setdefault(grp, []).append((cid, parse_decision(r[col["decision"]]) if "decision" in col else None))
    return SheetDecisions(groups)


# --------------------------------------------------------------------------- memory sheet


@dataclass
class Memory:
    rows: pd.DataFrame  # MEMORY_COLUMNS, all text

    @classmethod
    def read(cls, sheet: pd.DataFrame | None) -> Memory:
        if sheet is None or sheet.empty:
            return cls(pd.DataFrame(columns=list(MEMORY_COLUMNS), dtype=object))
        frame = sheet.reindex(columns=list(MEMORY_COLUMNS))
        frame = frame.astype(object).where(frame.notna(), "")
        return cls(frame[frame["kind"].astype(str).str.strip() != ""].reset_index(drop=True))

    def of_kind(self, *kinds: str) -> pd.DataFrame:
        return self.rows[self.rows["kind"].isin(kinds)]

    def not_duplicates(self) -> set[tuple[str, str]]:
        nd = self.of_kind("not_duplicate")
        return {tuple(sorted((str(a), str(b)))) for a, b in zip(nd["id_a"], nd["id_b"], strict=True)}

    def last_max_id(self) -> str | None:
        last = self.of_kind("last_run")
        return str(last["id_a"].iloc[-1]) if len(last) else None

    def with_rows(self, drop_kinds: tuple[str, ...], new: list[dict]) -> pd.DataFrame:
        keep = self.rows[~self.rows["kind"].isin(drop_kinds)]
        add = pd.DataFrame(new, columns=list(MEMORY_COLUMNS)) if new else None
        out = pd.concat([keep, add], ignore_index=True) if add is not None else keep
        return out.astype(object).where(out.notna(), "").astype(str)


def memory_edit(book: CrmBook, rows: pd.DataFrame) -> SheetReplace:
    return SheetReplace(book.sheet_name_for(DEDUPE_MEMORY.key), [Block(rows.reset_index(drop=True), at=(1, 1))],
                        hidden="hidden", freeze_header=False)


def _now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


_ID_NUM = re.compile(r"^(.*?)(\d+)$")


def _id_key(cid: str) -> tuple[str, int] | None:
    m = _ID_NUM.match(cid.strip())
    return (m.group(1), int(m.group(2))) if m else None


def new_rows_since(customers: pd.DataFrame, last_max: str | None) -> list | None:
    """Rows added since the last run: no ID yet, or an ID above the highest one seen then."""
    if not last_max:
        return None  # first run: everything is new
    last = _id_key(last_max)
    ids = customers["customer_id"]
    out = []
    for label, cid in ids.items():
        if is_blank(cid):
            out.append(label)
            continue
        k = _id_key(str(cid))
        if k is None or last is None or (k[0] == last[0] and k[1] > last[1]) or k[0] != last[0]:
            out.append(label)
    return out


def _max_id(customers: pd.DataFrame) -> str:
    keys = [(k, str(c)) for c in customers["customer_id"].dropna() if (k := _id_key(str(c)))]
    return max(keys)[1] if keys else ""


# --------------------------------------------------------------------------- dedupe


def plan_dedupe(book: CrmBook, ctx: Context, *, dup_sheet: pd.DataFrame | None = None,
                memory_sheet: pd.DataFrame | None = None, new_only: bool = False, progress=None) -> Planned:
    lang = ctx.language(book)
    decisions = read_decisions(dup_sheet)
    memory = Memory.read(memory_sheet)
    remembered = memory.not_duplicates() | decisions.not_duplicate_pairs()
    new_pairs = decisions.not_duplicate_pairs() - memory.not_duplicates()
    new_rows = new_rows_since(book.customers, memory.last_max_id()) if new_only else None
    result = find_duplicates(book.customers, DedupeConfig.from_settings(book.settings), not_duplicates=remembered,
                             new_rows=new_rows, progress=progress)

    plan = EditPlan(operation="dedupe")
    frame = duplicates_frame(book, result, decisions.decision_of(), lang)
    if new_rows is not None and dup_sheet is not None and len(dup_sheet):
        frame = _with_previous_groups(book, dup_sheet, frame, lang)
    plan.add(duplicates_edit(book, frame, lang))
    mem_new = [{"kind": "not_duplicate", "id_a": a, "id_b": b, "time": _now(), "user": ctx.user} for a, b in
               sorted(new_pairs)]
    mem_new.append({"kind": "last_run", "id_a": _max_id(book.customers), "time": _now(), "user": ctx.user,
                    "value": str(len(book.customers))})
    plan.add(memory_edit(book, memory.with_rows(("last_run",), mem_new)))

    n_groups, n_rows = len(result.clusters), sum(len(c) for c in result.clusters)
    sheet = book.sheet_name_for(DUPLICATES.key)
    scope_zh = f"（只检查新增的 {len(new_rows)} 行）" if new_rows is not None else ""
    scope_en = f" (only the {len(new_rows)} new rows checked)" if new_rows is not None else ""
    no_id = sum(is_blank(book.customers.at[x, "customer_id"]) for c in result.clusters for x in c)
    if n_groups:
        msg = Msg("查重完成{scope}：发现 {g} 组可能重复的客户，共 {r} 条记录，见“{sheet}”工作表。在“决定”列填写"
                  "“合并”“保留为主”或“不是重复”，然后运行“合并”。{ids}",
                  "Duplicates done{scope_en}: {g} groups of possible duplicates, {r} records, on the '{sheet}' sheet. "
                  "Fill the Decision column with Merge, Keep as master or Not a duplicate, then run Merge.{ids_en}",
                  {"g": n_groups, "r": n_rows, "sheet": sheet, "scope": scope_zh, "scope_en": scope_en,
                   "ids": f"其中 {no_id} 条还没有客户编号：请先运行“校验”分配编号，才能合并。" if no_id else "",
                   "ids_en": f" {no_id} of them have no customer ID yet: run Check first so they can be merged."
                   if no_id else ""})
    else:
        msg = Msg("查重完成{scope}：没有发现重复客户 ✓", "Duplicates done{scope_en}: no duplicates found ✓",
                  {"scope": scope_zh, "scope_en": scope_en})
    res = CommandResult("dedupe", msg, {"groups": n_groups, "records": n_rows, "candidates": result.candidates,
                                        "remembered_not_duplicates": len(remembered)},
                        data={"groups": [[str(book.customers.at[x, "customer_id"] or "") for x in c]
                                         for c in result.clusters]})
    return Planned(plan, res, book)


def duplicates_frame(book: CrmBook, result: DedupeResult, previous: dict[str, str], lang: str) -> pd.DataFrame:
    c = book.customers
    best: dict[object, tuple[float, str]] = {}
    for r in result.pairs.itertuples(index=False):
        text = reasons_text(r.reasons, lang)
        for label in (r.a, r.b):
            if label not in best or r.score > best[label][0]:
                best[label] = (float(r.score), text)
    rows = []
    for n, members in enumerate(result.clusters, start=1):
        for label in sorted(members, key=lambda x: int(c.at[x, "_row"])):
            cid = "" if is_blank(c.at[label, "customer_id"]) else str(c.at[label, "customer_id"])
            score, why = best.get(label, (float("nan"), ""))
            rows.append({"group": n, "decision": decision_label(previous.get(cid), lang), "customer_id": cid,
                         "row": int(c.at[label, "_row"]),
                         **{k: "" if is_blank(c.at[label, k]) else str(c.at[label, k])
                            for k in ("company", "contact", "mobile", "email", "city", "address")},
                         "score": round(score, 3), "reasons": why})
    df = pd.DataFrame(rows, columns=[k for k, _, _ in DUP_COLUMNS])
    df.columns = [_dup_header(k, zh, en, lang) for k, zh, en in DUP_COLUMNS]
    return df


def _with_previous_groups(book: CrmBook, sheet: pd.DataFrame, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """New-rows mode: the groups already listed stay (with their decisions), the new ones follow."""
    keys = [_dup_key(c) for c in sheet.columns]
    prev = sheet.copy()
    prev.columns = [k or c for k, c in zip(keys, sheet.columns, strict=True)]
    if "group" not in prev or "customer_id" not in prev:
        return frame
    prev = prev.reindex(columns=[k for k, _, _ in DUP_COLUMNS]).astype(object).where(prev.notna(), "")
    ids_now = set(book.customers["customer_id"].dropna().astype(str))
    new_ids = set(frame.iloc[:, 2].astype(str))
    prev_groups = prev.groupby(prev["group"].astype(str), sort=False)["customer_id"].agg(lambda s: set(map(str, s)))
    keep = [g for g, ids in prev_groups.items() if ids <= ids_now and not ids & new_ids and len(ids) > 1]
    prev = prev[prev["group"].astype(str).isin(keep)].copy()
    renumber = {g: n for n, g in enumerate(keep, start=1)}
    prev["group"] = prev["group"].astype(str).map(renumber)
    prev["row"] = pd.to_numeric(prev["row"], errors="coerce")
    prev["score"] = pd.to_numeric(prev["score"], errors="coerce")
    prev.columns = frame.columns
    new = frame.copy()
    new.iloc[:, 0] = new.iloc[:, 0].astype(int) + len(keep)
    return pd.concat([prev, new], ignore_index=True)


def duplicates_edit(book: CrmBook, df: pd.DataFrame, lang: str) -> SheetReplace:
    fills = {}
    if len(df):
        group = df.iloc[:, 0].to_numpy()
        fills = {i: "FFF2F2F2" for i in range(len(df)) if int(group[i]) % 2 == 0}
    widths = dict(zip(df.columns, (6, 12, 11, 6, 28, 10, 15, 24, 8, 30, 8, 60), strict=True))
    decision = next(c for c, (k, _, _) in zip(df.columns, DUP_COLUMNS, strict=True) if k == "decision")
    offered = [_label(lang, zh, en) for zh, en, _ in DECISIONS.values()]
    block = Block(df, at=(1, 1), number_formats={df.columns[10]: "0%"}, widths=widths, row_fills=fills,
                  autofilter=True, dropdowns={decision: offered})
    return SheetReplace(book.sheet_name_for(DUPLICATES.key), [block], after=after_data_sheets(book))


@command("dedupe", "查重", "Duplicates", "查找重复客户，列在“查重”工作表", "Find duplicate customers and list them on the Duplicates sheet")
def dedupe_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    dup = port.read_sheet(book.sheet_name_for(DUPLICATES.key))
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    planned = plan_dedupe(book, ctx, dup_sheet=dup, memory_sheet=mem, new_only=bool(ctx.options.get("new_only")),
                          progress=ctx.options.get("progress"))
    return apply_planned(port, planned, ctx)


# --------------------------------------------------------------------------- merge


def _label(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _customer_columns(book: CrmBook) -> list[tuple[str, str]]:
    """(frame column, header on the sheet) for every column of Basic Info, in sheet order."""
    info = book.sheets["customers"]
    cols = [(k, info.headers.get(k) or CUSTOMERS.column(k).header(book.lang), i) for k, i in info.columns.items()]
    cols += [(h, h, i) for h, i in info.extra_columns.items() if h in book.customers.columns]
    return [(k, h) for k, h, _ in sorted(cols, key=lambda t: t[2])]


def _cell_value(book: CrmBook, label, column: str) -> object:
    """A cell as the user typed it, so an archived row can be restored exactly.

    Text kinds (and choices: the label, not the code) come from the raw text; dates and numbers stay
    typed when the cell held a real date/number, and are the user's text when they typed text
    ("2025.04.12" stays "2025.04.12").
    """
    value = book.customers.at[label, column]
    raw = book.raw.get("customers")
    text = raw.at[label, column] if raw is not None and column in raw.columns else None
    kind = kind_of(column)
    if kind is None or is_blank(text):  # the user's own columns, or nothing typed
        if is_blank(value):
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        return value.item() if hasattr(value, "item") else value
    if kind == Kind.DATE:
        if not is_blank(value) and str(text) in (str(value), value.strftime("%Y-%m-%d")):
            return value.to_pydatetime()
        return str(text)
    if kind in (Kind.MONEY, Kind.NUMBER):
        try:
            if not is_blank(value) and float(str(text).replace(",", "")) == float(value) and \
                    re.fullmatch(r"-?\d+(\.\d+)?", str(text)):
                return float(value)
        except ValueError:
            pass
        return str(text)
    return str(text)


def _formats(columns: list[tuple[str, str]]) -> dict[str, str]:
    out = {}
    for key, header in columns:
        kind = kind_of(key)
        if kind == Kind.DATE:
            out[header] = FMT_DATE
        elif kind == Kind.MONEY:
            out[header] = FMT_MONEY
        elif kind is not None and kind != Kind.NUMBER:
            out[header] = "@"
    return out


def _log(rows: list[dict], ctx: Context, op: str) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "field", "old", "new"])
    df.insert(0, "operation", op)
    df.insert(0, "user", ctx.user)
    df.insert(0, "time", pd.Timestamp(dt.datetime.now()).floor("s"))
    return df[list(LOG_COLUMNS)]


def _groups_from_decisions(book: CrmBook, decisions: SheetDecisions, lang: str) -> tuple[list[MergeGroup], list[Msg]]:
    ids = book.customers["customer_id"].astype(object).where(book.customers["customer_id"].notna(), "").astype(str)
    label_of = {cid.strip(): label for label, cid in ids.items() if cid.strip()}
    groups, notes = [], []
    sheet = book.sheet_name_for(DUPLICATES.key)
    for grp, rows in decisions.groups.items():
        chosen = [(cid, d) for cid, d in rows if d in (MERGE, MASTER)]
        if not chosen:
            continue
        missing = [cid for cid, _ in chosen if cid not in label_of]
        if missing:
            notes.append(Msg("第 {g} 组跳过：客户编号 {ids} 已不在“客户资料”中", "group {g} skipped: customer ID {ids} "
                             "is no longer on Basic Info", {"g": grp, "ids": ", ".join(missing)}))
            continue
        masters = [cid for cid, d in chosen if d == MASTER]
        if len(masters) > 1:
            raise XlcrmError("第 {g} 组有多条“保留为主”：{ids}。每组只能有一个主记录。",
                             "Group {g} has more than one 'Keep as master': {ids}. Choose one master per group.",
                             location=Location(sheet=sheet), g=grp, ids=", ".join(masters))
        if masters:
            master = masters[0]
        else:  # no master chosen: the record highest on Basic Info keeps its ID
            master = min((cid for cid, _ in chosen), key=lambda x: int(book.customers.at[label_of[x], "_row"]))
        merged = tuple(label_of[cid] for cid, d in chosen if cid != master)
        if merged:
            groups.append(MergeGroup(label_of[master], merged))
    return groups, notes


def plan_merge_book(book: CrmBook, ctx: Context, *, dup_sheet: pd.DataFrame | None,
                    memory_sheet: pd.DataFrame | None) -> Planned:
    lang = ctx.language(book)
    if dup_sheet is None:
        raise XlcrmError("还没有“查重”工作表：请先运行“查重”，在“决定”列填写后再合并。",
                         "There is no Duplicates sheet yet: run Duplicates, fill the Decision column, then merge.")
    if book.sheets["customers"].header_row != 1:
        raise XlcrmError("“客户资料”的表头不在第 1 行，合并后无法撤销，因此不合并。",
                         "The Basic Info header is not on row 1, so a merge could not be undone; nothing merged.",
                         location=Location(sheet=book.sheets["customers"].name))
    decisions = read_decisions(dup_sheet)
    memory = Memory.read(memory_sheet)
    groups, notes = _groups_from_decisions(book, decisions, lang)
    c = book.customers
    outcome = plan_merge(c, groups, {"followups": book.followups, "purchases": book.purchases})
    plan = EditPlan(operation="merge")
    info = book.sheets["customers"]
    columns = _customer_columns(book)
    header_of = dict(columns)
    op = _label(lang, "合并", "Merge")
    log: list[dict] = []
    undo: list[dict] = []
    batch = _now()
    undo.append({"kind": "undo_batch", "id_a": batch, "time": batch, "user": ctx.user})

    # 1. the master's blanks, filled (user-typed text for choices)
    by_col: dict[str, dict[int, object]] = {}
    for (master, col), _value in outcome.fills.items():
        src = next(g for g in groups if g.master == master)
        donor = next(lab for lab in src.merged if not is_blank(c.at[lab, col]))
        value = _cell_value(book, donor, col)
        row = int(c.at[master, "_row"])
        by_col.setdefault(col, {})[row] = value
        mid = str(c.at[master, "customer_id"])
        log.append({"customer_id": mid, "field": header_of.get(col, col), "old": "", "new": _shown(value)})
        undo.append({"kind": "undo_fill", "id_a": mid, "field": col})
    for col, values in by_col.items():
        if col not in header_of:
            continue
        kind = kind_of(col)
        style = CellStyle(number_format=FMT_DATE if kind == Kind.DATE else FMT_MONEY if kind == Kind.MONEY else "@"
                          if kind not in (Kind.NUMBER,) else None)
        plan.add(ColumnWrite(info.name, header_of[col], info.header_row, values,
                             col=info.columns.get(col) or info.extra_columns.get(col), style=style))

    # 2. child rows re-pointed to the master
    for key, moves in outcome.repoint.items():
        if not moves:
            continue
        sinfo = book.sheets[key]
        plan.add(ColumnWrite(sinfo.name, sinfo.header_of("customer_id"), sinfo.header_row,
                             {r: new for r, (_, new) in moves.items()}, col=sinfo.columns.get("customer_id"),
                             style=CellStyle(number_format="@")))
        for r, (old, new) in moves.items():
            log.append({"customer_id": new, "field": f"{sinfo.name}!{sinfo.header_of('customer_id')} ({_row_word(lang)} {r})",
                        "old": old, "new": new})
            undo.append({"kind": "undo_repoint", "id_a": old, "id_b": new, "sheet": key, "row": str(r)})

    # 3. conflicts: listed, never overwritten
    for k in outcome.conflicts:
        log.append({"customer_id": k.master_id,
                    "field": _label(lang, "冲突（保留主记录的值）：", "conflict (master value kept): ") + header_of.get(k.field, k.field),
                    "old": _shown(k.other_value) + _label(lang, f"（{k.other_id}）", f" ({k.other_id})"),
                    "new": _shown(k.master_value)})

    # 4. merged rows → Archive (with the old → new ID map), then removed from Basic Info
    archived_rows = []
    stamp = pd.Timestamp(dt.datetime.now()).floor("s").to_pydatetime()
    for label in outcome.archived:
        old_id = str(c.at[label, "customer_id"])
        row = {_label(lang, "归档时间", "Archived"): stamp, _label(lang, "并入客户编号", "Merged into"): outcome.id_map[old_id],
               _label(lang, "原行号", "Original row"): int(c.at[label, "_row"])}
        for col, header in columns:
            value = _cell_value(book, label, col)
            row[header] = value
            tag, text = encode_value(value)
            if tag:
                undo.append({"kind": "undo_row", "id_a": old_id, "id_b": outcome.id_map[old_id], "field": col,
                             "row": str(int(c.at[label, "_row"])), "vtype": tag, "value": text})
        archived_rows.append(row)
        log.append({"customer_id": old_id, "field": header_of.get("customer_id", "customer_id"), "old": old_id,
                    "new": _label(lang, f"已并入 {outcome.id_map[old_id]}，移至归档", f"merged into {outcome.id_map[old_id]}, archived")})
    if archived_rows:
        arch = pd.DataFrame(archived_rows)
        formats = {**_formats(columns), arch.columns[0]: FMT_DATETIME}
        plan.add(AppendRows(book.sheet_name_for(ARCHIVE.key), arch, after=after_data_sheets(book),
                            number_formats=formats))
    if log:
        plan.add(change_log_edit(book, _log(log, ctx, op), lang))
    nd_new = decisions.not_duplicate_pairs() - memory.not_duplicates()
    mem_rows = [{"kind": "not_duplicate", "id_a": a, "id_b": b, "time": batch, "user": ctx.user} for a, b in sorted(nd_new)]
    if outcome.archived:
        mem_rows += undo
        plan.add(DeleteRows(info.name, sorted(int(c.at[lab, "_row"]) for lab in outcome.archived)))
        plan.add(memory_edit(book, memory.with_rows(("undo_batch", "undo_fill", "undo_repoint", "undo_row"), mem_rows)))
        merged_ids = set(outcome.id_map) | set(outcome.id_map.values())
        plan.add(_duplicates_after_merge(book, dup_sheet, merged_ids, lang))
    elif mem_rows:
        plan.add(memory_edit(book, memory.with_rows((), mem_rows)))

    n_groups, n_merged = len(groups), len(outcome.archived)
    children = sum(len(m) for m in outcome.repoint.values())
    msg = Msg("合并完成：{g} 组，{m} 条记录并入主记录，{f} 个空白字段已补全，{ch} 条跟进/购买记录改指主记录，"
              "{k} 处冲突已列入“变更记录”（未覆盖）。被合并的记录已移至“{arch}”。可用“撤销合并”恢复。{notes}",
              "Merge done: {g} groups, {m} records merged into their masters, {f} blank fields filled, {ch} follow-up/"
              "purchase rows re-pointed, {k} conflicts listed in the Change Log (not overwritten). Merged records "
              "moved to '{arch}'. Undo merge restores them.{notes_en}",
              {"g": n_groups, "m": n_merged, "f": len(outcome.fills), "ch": children, "k": len(outcome.conflicts),
               "arch": book.sheet_name_for(ARCHIVE.key),
               "notes": "".join("\n" + n.text("zh-CN") for n in notes),
               "notes_en": "".join("\n" + n.text("en") for n in notes)})
    if not groups:
        msg = Msg("没有要合并的组：请在“查重”工作表的“决定”列填写“合并”或“保留为主”。{notes}",
                  "Nothing to merge: fill the Decision column of the Duplicates sheet with Merge or Keep as master.{notes_en}",
                  {"notes": "".join("\n" + n.text("zh-CN") for n in notes),
                   "notes_en": "".join("\n" + n.text("en") for n in notes)})
    res = CommandResult("merge", msg, {"groups": n_groups, "merged": n_merged, "filled": len(outcome.fills),
                                       "repointed": children, "conflicts": len(outcome.conflicts)},
                        data={"id_map": outcome.id_map,
                              "conflicts": [{"master": k.master_id, "other": k.other_id, "field": k.field,
                                             "master_value": _shown(k.master_value),
                                             "other_value": _shown(k.other_value)} for k in outcome.conflicts]})
    return Planned(plan, res, book)


def _row_word(lang: str) -> str:
    return "row" if lang == "en" else "行"


def _shown(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d") if (value.hour, value.minute) == (0, 0) else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _duplicates_after_merge(book: CrmBook, sheet: pd.DataFrame, merged_ids: set[str], lang: str) -> SheetReplace:
    """The Duplicates sheet without the groups just merged (other groups and decisions kept)."""
    col = {_dup_key(c): c for c in sheet.columns}
    grp_col, id_col = col.get("group"), col.get("customer_id")
    done = set(sheet.loc[sheet[id_col].astype(str).isin(merged_ids), grp_col].astype(str)) if grp_col and id_col else set()
    rest = sheet[~sheet[grp_col].astype(str).isin(done)] if grp_col else sheet
    rest = rest.astype(object).where(rest.notna(), "")
    return duplicates_edit(book, rest.reset_index(drop=True), lang)


# --------------------------------------------------------------------------- undo


def plan_undo(book: CrmBook, ctx: Context, *, memory_sheet: pd.DataFrame | None) -> Planned:
    lang = ctx.language(book)
    memory = Memory.read(memory_sheet)
    rows = memory.of_kind("undo_row")
    if not len(memory.of_kind("undo_batch")):
        raise XlcrmError("没有可撤销的合并。", "There is no merge to undo.")
    info = book.sheets["customers"]
    if info.header_row != 1:
        raise XlcrmError("“客户资料”的表头不在第 1 行，无法撤销。", "The Basic Info header is not on row 1; cannot undo.",
                         location=Location(sheet=info.name))
    plan = EditPlan(operation="undo_merge")
    header_of = dict(_customer_columns(book))
    c = book.customers
    ids = c["customer_id"].astype(object).where(c["customer_id"].notna(), "").astype(str).str.strip()
    row_of = dict(zip(ids, c["_row"].astype(int), strict=True))
    log: list[dict] = []
    op = _label(lang, "撤销合并", "Undo merge")

    # 1. filled cells blank again
    for _, u in memory.of_kind("undo_fill").iterrows():
        col, mid = str(u["field"]), str(u["id_a"])
        if mid in row_of and col in header_of:
            plan.add(ColumnWrite(info.name, header_of[col], info.header_row, {row_of[mid]: None},
                                 col=info.columns.get(col) or info.extra_columns.get(col)))
            log.append({"customer_id": mid, "field": header_of[col], "old": _shown(c.at[c.index[ids == mid][0], col]),
                        "new": ""})
    # 2. child rows pointed back
    skipped = 0
    for key in ("followups", "purchases"):
        moves = memory.of_kind("undo_repoint")
        moves = moves[moves["sheet"] == key]
        if not len(moves) or key not in book.sheets:
            continue
        sinfo = book.sheets[key]
        frame = book.frame(key)
        current = dict(zip(frame["_row"].astype(int), frame["customer_id"].astype(object), strict=True))
        values = {}
        for _, m in moves.iterrows():
            r = int(float(m["row"]))
            if str(current.get(r) or "").strip() == str(m["id_b"]):
                values[r] = str(m["id_a"])
                log.append({"customer_id": str(m["id_a"]), "field": f"{sinfo.name}!{sinfo.header_of('customer_id')} "
                            f"({_row_word(lang)} {r})", "old": str(m["id_b"]), "new": str(m["id_a"])})
            else:
                skipped += 1
        if values:
            plan.add(ColumnWrite(sinfo.name, sinfo.header_of("customer_id"), sinfo.header_row, values,
                                 col=sinfo.columns.get("customer_id"), style=CellStyle(number_format="@")))
    # 3. archived rows back on Basic Info (appended, in their original order)
    restored = []
    for (_orig_row, old_id), cells in rows.groupby([rows["row"].astype(float), rows["id_a"]], sort=True):
        rec = {header_of.get(str(f), str(f)): decode_value(t, v) for f, t, v in
               zip(cells["field"], cells["vtype"], cells["value"], strict=True) if str(f) in header_of}
        restored.append(rec)
        log.append({"customer_id": str(old_id), "field": header_of.get("customer_id", "customer_id"),
                    "old": _label(lang, "已归档", "archived"), "new": _label(lang, "已恢复", "restored")})
    if restored:
        headers = [h for _, h in _customer_columns(book)]
        df = pd.DataFrame(restored).reindex(columns=[h for h in headers if any(h in r for r in restored)])
        df = df.astype(object).where(df.notna(), None)
        plan.add(AppendRows(info.name, df, number_formats={h: f for h, f in
                                                           _formats(_customer_columns(book)).items() if h in df.columns}))
    plan.add(change_log_edit(book, _log(log, ctx, op), lang))
    plan.add(memory_edit(book, memory.with_rows(("undo_batch", "undo_fill", "undo_repoint", "undo_row"), [])))
    msg = Msg("已撤销上次合并：恢复 {n} 条客户记录（添加在“客户资料”末尾），{ch} 条跟进/购买记录改回原编号。{skip}",
              "Last merge undone: {n} customer records restored (appended at the end of Basic Info), {ch} follow-up/"
              "purchase rows pointed back.{skip_en}",
              {"n": len(restored), "ch": len(memory.of_kind("undo_repoint")) - skipped,
               "skip": f"{skipped} 条已被修改，未改动。" if skipped else "",
               "skip_en": f" {skipped} rows changed since, left alone." if skipped else ""})
    res = CommandResult("merge", msg, {"restored": len(restored), "skipped": skipped})
    return Planned(plan, res, book)


@command("merge", "合并", "Merge", "合并“查重”工作表上标记的重复客户（--undo 撤销上次合并）",
         "Merge the duplicates marked on the Duplicates sheet (--undo restores the last merge)")
def merge_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    if ctx.options.get("undo"):
        planned = plan_undo(book, ctx, memory_sheet=mem)
    else:
        dup = port.read_sheet(book.sheet_name_for(DUPLICATES.key))
        planned = plan_merge_book(book, ctx, dup_sheet=dup, memory_sheet=mem)
    return apply_planned(port, planned, ctx)


@command("undo_merge", "撤销合并", "Undo merge", "撤销上次合并", "Restore the last merge")
def undo_merge_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    return apply_planned(port, plan_undo(book, ctx, memory_sheet=mem), ctx)


__all__ = ["DECISIONS", "Memory", "SheetDecisions", "parse_decision", "plan_dedupe", "plan_merge_book", "plan_undo",
           "read_decisions"]
