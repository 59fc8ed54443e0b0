"""Duplicates (查重), and the decisions typed on its sheet (merge and undo are in `merge.py`).

- `dedupe`: find duplicate customers and list them on the Duplicates sheet, one group per cluster,
  with score, reasons and a Decision column the user fills: 合并 / 不是重复 / 保留为主. Decisions
  already typed are read back before the sheet is rebuilt; "not a duplicate" goes to the hidden
  memory sheet and is never proposed again. `new_only`: only rows added since the last run are
  compared (with everything) — the duplicate warning when customers are created.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from ..errors import Msg
from ..ops.dedupe import DedupeConfig, DedupeResult, find_duplicates, reasons_text
from ..ops.merge import is_blank
from ..schema import CUSTOMERS, DEDUPE_MEMORY, DUPLICATES, match_header
from ..workbook.book import CrmBook
from ..workbook.edits import Block, EditPlan, SheetReplace
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, Planned, after_data_sheets, apply_planned, command, zh_or_en
from .options import Options, option

# --------------------------------------------------------------------------- decisions

MERGE, NOT_DUP, MASTER = "merge", "not_duplicate", "master"
DECISIONS = {
    MERGE: ("合并", "Merge", ("合併", "merge", "m", "是", "yes", "y", "重复", "duplicate", "✓", "✔", "√")),
    NOT_DUP: ("不是重复", "Not a duplicate", ("不是重複", "不重复", "非重复", "否", "no", "n", "not duplicate",
                                             "different", "不同", "✗", "✘", "×")),
    MASTER: ("保留为主", "Keep as master", ("保留為主", "主", "主记录", "master", "keep", "保留", "keep master",
                                          "primary", "为主", "主要")),
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


def dup_header(key: str, zh: str | None, en: str | None, lang: str) -> str:
    if zh is None:
        return CUSTOMERS.column(key).header(lang)
    return en if lang == "en" else zh


def dup_key(header: str) -> str | None:
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
    unknown: list[tuple[str, int, str, str]] = field(default_factory=list)  # (group, sheet row, ID, text typed)
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (group, ID) → row on the Duplicates sheet

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
    keys = {c: dup_key(c) for c in sheet.columns}
    col = {k: c for c, k in keys.items() if k}
    if "customer_id" not in col or "group" not in col:
        return SheetDecisions({})
    groups: dict[str, list[tuple[str, str | None]]] = {}
    unknown: list[tuple[str, int, str, str]] = []
    places: dict[tuple[str, str], int] = {}
    for i, (_, r) in enumerate(sheet.iterrows()):
        cid = str(r[col["customer_id"]] or "").strip()
        grp = str(r[col["group"]] or "").strip()
        if not cid or not grp:
            continue
        grp = grp[:-2] if grp.endswith(".0") else grp
        typed = r[col["decision"]] if "decision" in col else None
        code = parse_decision(typed)
        if code is None and not is_blank(typed):
            unknown.append((grp, i + 2, cid, str(typed).strip()))  # row 1 is the header
        groups.setdefault(grp, []).append((cid, code))
        places[(grp, cid)] = i + 2
    return SheetDecisions(groups, unknown, places)


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
                        hidden="hidden", freeze_header=False, owner=DEDUPE_MEMORY.key)


def now_text() -> str:
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
    mem_new = [{"kind": "not_duplicate", "id_a": a, "id_b": b, "time": now_text(), "user": ctx.user} for a, b in
               sorted(new_pairs)]
    mem_new.append({"kind": "last_run", "id_a": _max_id(book.customers), "time": now_text(), "user": ctx.user,
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
    df.columns = [dup_header(k, zh, en, lang) for k, zh, en in DUP_COLUMNS]
    return df


def _with_previous_groups(book: CrmBook, sheet: pd.DataFrame, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """New-rows mode: the groups already listed stay (with their decisions), the new ones follow."""
    keys = [dup_key(c) for c in sheet.columns]
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
    offered = [zh_or_en(lang, zh, en) for zh, en, _ in DECISIONS.values()]
    block = Block(df, at=(1, 1), number_formats={df.columns[10]: "0%"}, widths=widths, row_fills=fills,
                  autofilter=True, dropdowns={decision: offered})
    return SheetReplace(book.sheet_name_for(DUPLICATES.key), [block], after=after_data_sheets(book),
                        owner=DUPLICATES.key)


@dataclass(frozen=True)
class DedupeOptions(Options):
    new_only: bool = option(False, "只检查上次查重后新增的行", "Only rows added since the last run")


_STAGES = {"block": ("查重：分组", "Duplicates: blocking"), "score": ("查重：比对", "Duplicates: scoring"),
           "cluster": ("查重：归组", "Duplicates: grouping")}


def dedupe_stages(say):
    """Dedupe's own stages (block, score, cluster) on the front end's progress display."""

    def stage(name: str, fraction: float) -> None:
        zh, en = _STAGES.get(name, (f"查重：{name}", f"Duplicates: {name}"))
        say(f"{zh} / {en}", fraction)

    return stage


@command("dedupe", "查重", "Duplicates", "查找重复客户，列在“查重”工作表", "Find duplicate customers and list them on the Duplicates sheet",
         options=DedupeOptions)
def dedupe_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    dup = port.read_sheet(book.sheet_name_for(DUPLICATES.key))
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    planned = plan_dedupe(book, ctx, dup_sheet=dup, memory_sheet=mem, new_only=ctx.opts(DedupeOptions).new_only,
                          progress=dedupe_stages(ctx.progress) if ctx.progress else None)
    return apply_planned(port, planned, ctx)


__all__ = ["DECISIONS", "Memory", "SheetDecisions", "parse_decision", "plan_dedupe", "read_decisions"]
