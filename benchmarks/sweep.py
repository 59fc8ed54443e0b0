"""Package sweep: every command over every workbook shape we know, reporting what broke.

    .venv/bin/python benchmarks/sweep.py                  # all cases
    .venv/bin/python benchmarks/sweep.py --only crm macro # cases whose name contains a word
    .venv/bin/python benchmarks/sweep.py --list           # the case names
    .venv/bin/python benchmarks/sweep.py --json out/sweep.json --strict

Cases: each real Excel-made workbook in ../shared/fixtures/excel-authored as it is (no CRM data:
a clean refusal expected) and with the three CRM sheets grafted in by xlcrm's own writer; plus
generated books (plain, LibreOffice-style content types, LibreOffice-saved, Excel 4 macro sheet
first/last, chart sheet first, directory entries) and damaged ones (broken XML, duplicate entry,
bad shared-string index, zip bomb) that must be refused. `run`, `dedupe`, `summary`, `export` run
in turn on one copy per case through the Python API, so later commands read xlcrm's own output.

Per case and command: ok / refused (with the reason) / traceback, and every part outside what
xlcrm may write whose bytes changed. xlcrm may write: its data and tool sheets (and the parts
reachable from their rels), workbook.xml and its rels, [Content_Types].xml, styles, docProps/app,
calcChain. Exit status 1 on a traceback or a foreign part changed (with --strict also when a
case's outcome differs from what it expects).

To add a case, append a `Case` to CASES (or call `register`): a name, a builder writing the
workbook into a folder (None = not applicable here, with a reason), and the expected outcome.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import shutil
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import collision_cases as cc  # noqa: E402
import package_cases as pc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "excel-authored"
TODAY = "2026-11-20"
COMMANDS = ("run", "dedupe", "summary", "export")
GLOBAL_PARTS = {
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "xl/calcChain.xml",
    "docProps/app.xml",
}


class NotApplicable(Exception):
    """A builder cannot make its case here (no LibreOffice, a fixture that cannot take CRM sheets)."""


@dataclass
class Case:
    name: str
    build: Callable[[Path], Path]  # writes the workbook into the given folder; returns its path
    expect: str = "ok"  # "ok", "refused" or "any" (either, as long as nothing breaks)
    note: str = ""


@dataclass
class Step:
    command: str
    outcome: str  # ok / refused / traceback
    reason: str = ""
    foreign: list[str] = field(default_factory=list)  # parts outside xlcrm's reach that changed
    user_cells: list[str] = field(default_factory=list)  # typed cells in the user's columns changed, unlogged


@dataclass
class Report:
    case: str
    expect: str
    steps: list[Step] = field(default_factory=list)
    skipped: str = ""

    @property
    def outcome(self) -> str:
        if self.skipped:
            return "skipped"
        kinds = {s.outcome for s in self.steps}
        return "traceback" if "traceback" in kinds else ("refused" if "refused" in kinds else "ok")

    @property
    def foreign(self) -> list[str]:
        return sorted({p for s in self.steps for p in s.foreign} | {c for s in self.steps for c in s.user_cells})


# --------------------------------------------------------------------------- the cases


def _crm(folder: Path) -> Path:
    return pc.small_crm(folder / "crm.xlsx")


def _derived(name: str, make: Callable[[Path, Path], Path], suffix: str = ".xlsx") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return make(_crm(folder), folder / f"{name}{suffix}")

    return build


def _checked_crm(folder: Path) -> Path:
    """A CRM book after `check`, so Basic Info carries notes (comments + VML parts)."""
    from xlcrm.api import run_command

    path = _crm(folder)
    run_command("check", path, today=TODAY)
    return path


def _libreoffice(folder: Path) -> Path:
    out = pc.libreoffice_saved(_crm(folder), folder / "lo.xlsx")
    if out is None:
        raise NotApplicable("LibreOffice is not installed")
    return out


def _sample(folder: Path) -> Path:
    return Path(shutil.copyfile(ROOT / "sample_workbooks" / "xlcrm_sample_zh.xlsx", folder / "sample_zh.xlsx"))


def _broken(part: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        src = _checked_crm(folder)
        target = part
        if part == "comments":
            with zipfile.ZipFile(src) as zf:
                target = next(n for n in zf.namelist() if posixpath.basename(n).startswith("comments"))
        return pc.break_xml(src, folder / "broken.xlsx", target)

    return build


def _fixture(name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return Path(shutil.copyfile(FIXTURES / name, folder / name))

    return build


def _grafted(name: str) -> Callable[[Path], Path]:
    """The fixture with Basic Info / Follow-up / Purchases sheets added by xlcrm's writer."""

    def build(folder: Path) -> Path:
        return _graft_into(Path(shutil.copyfile(FIXTURES / name, folder / name)))

    return build


def _graft_into(path: Path) -> Path:
    """Add Basic Info / Follow-up / Purchases sheets (a dirty 60-customer sample) with xlcrm's writer."""
    from xlcrm.errors import XlcrmError
    from xlcrm.samples import generate_sample
    from xlcrm.workbook.edits import Block, EditPlan, SheetReplace
    from xlcrm.workbook.writer import apply_plan

    sample = generate_sample(60, 120, 30, dirt=True)
    customers, followups, purchases = sample.display_frames()
    plan = EditPlan(operation="graft")
    for sheet, df in (("客户资料", customers), ("跟进记录", followups), ("购买记录", purchases)):
        df = df.map(_as_text)
        df.columns = [_header(sheet, c) for c in df.columns]
        plan.edits.append(SheetReplace(sheet=sheet, blocks=[Block(df=df)]))
    try:
        apply_plan(path, plan, backup_keep=0)
    except XlcrmError as exc:
        raise NotApplicable(f"cannot add CRM sheets: {exc.msg.text('en')}") from exc
    return path


def _as_text(value: object) -> str | None:
    """What a user would have typed, as text (dates as 2026-01-05)."""
    import datetime as dt

    import pandas as pd

    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header(sheet: str, key: str) -> str:
    from xlcrm import schema

    spec = schema.SHEETS_BY_KEY[schema.match_sheet(sheet)]
    column = next((c for c in spec.columns if c.key == key), None)
    return column.zh if column else key


CASES: list[Case] = [
    Case("crm", _crm, note="a fresh xlcrm book"),
    Case("crm-checked", _checked_crm, note="after check: notes on Basic Info"),
    Case("sample-zh", _sample, note="the bundled sample (300 customers)"),
    Case("crm-no-rels-default", _derived("no-rels-default", pc.without_rels_default),
         note="[Content_Types].xml without a rels Default (LibreOffice style)"),
    Case("crm-libreoffice", _libreoffice, note="opened and saved by LibreOffice"),
    Case("crm-macro-first", _derived("macro-first", lambda s, d: pc.with_macro_sheet(s, d, True), ".xlsm"),
         note="Excel 4 macro sheet as the first tab"),
    Case("crm-macro-last", _derived("macro-last", lambda s, d: pc.with_macro_sheet(s, d, False), ".xlsm"),
         note="Excel 4 macro sheet as the last tab"),
    Case("chartsheet-first", lambda f: pc.chartsheet_first_book(f / "chartsheet.xlsx"),
         note="a chart sheet before data sheets found by their headers"),
    Case("crm-directories", _derived("dirs", pc.with_directories), note="zip directory entries"),
    Case("broken-content-types", _broken("[Content_Types].xml"), "refused"),
    Case("broken-sheet-rels", _broken("xl/worksheets/_rels/sheet1.xml.rels"), "refused"),
    Case("broken-comments", _broken("comments"), "refused"),
    Case("duplicate-entry", _derived("dup", lambda s, d: pc.duplicate_entry(s, d, "xl/worksheets/sheet1.xml")),
         "refused"),
    Case("bad-shared-string", _derived("sst", pc.bad_shared_string_index), "refused"),
    Case("zip-bomb", _derived("bomb", pc.with_bomb_part), "refused"),
]
# A user's own sheet or column with xlcrm's name or look: input, never output (no user part may change).
CASES += [
    Case("collision-tool-sheets", lambda f: cc.user_tool_sheets(f / "tools.xlsx"),
         note="the user's own 汇总/问题/查重 sheets"),
    Case("collision-orders-first", lambda f: cc.orders_first(f / "orders.xlsx"),
         note="a user's Orders sheet before 购买记录"),
    Case("collision-pets", lambda f: cc.pets(f / "pets.xlsx"), "refused", note="no CRM: must not be adopted"),
    Case("collision-typed-columns", lambda f: cc.typed_computed_columns(f / "typed.xlsx"),
         note="the user's own 下次跟进 / 客户等级 columns"),
]


def _fixture_summary(folder: Path) -> Path:
    path = cc.fixture_named_summary(FIXTURES, folder)
    if path is None:
        raise NotApplicable("the Excel-authored fixtures are not present")
    return _graft_into(path)


if FIXTURES.is_dir():
    CASES.append(Case("collision-excel-summary", _fixture_summary,
                      note="a real Excel sheet (2010 conditional formats) the user named 汇总"))
    for _path in sorted(FIXTURES.glob("*.xls*")):
        CASES.append(Case(f"fixture:{_path.name}", _fixture(_path.name), "any", note="as it is: no CRM sheets"))
        CASES.append(Case(f"fixture+crm:{_path.name}", _grafted(_path.name), note="CRM sheets added"))


def register(case: Case) -> Case:
    CASES.append(case)
    return case


# --------------------------------------------------------------------------- running one case


def _parts(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            return {n: zf.read(n) for n in zf.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}


def _reach(parts: dict[str, bytes], start: str) -> set[str]:
    """`start` and every part reachable from it through relationships (rels parts included)."""
    from lxml import etree

    from xlcrm.ooxml.rels import rels_path, resolve_target

    seen, todo = set(), [start]
    while todo:
        part = todo.pop()
        if part in seen:
            continue
        seen.add(part)
        rels = rels_path(part)
        if rels not in parts:
            continue
        seen.add(rels)
        try:
            root = etree.fromstring(parts[rels])
        except etree.XMLSyntaxError:
            continue
        todo.extend(resolve_target(part, el.get("Target", "")) for el in root if el.get("TargetMode") != "External")
    return seen


def _sheets(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → its part, from workbook.xml and its rels."""
    from lxml import etree

    from xlcrm.ooxml.rels import DOC_REL_NS, resolve_target

    try:
        workbook = etree.fromstring(parts["xl/workbook.xml"])
        rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    except (KeyError, etree.XMLSyntaxError):
        return {}
    targets = {el.get("Id"): resolve_target("xl/workbook.xml", el.get("Target", "")) for el in rels}
    return {el.get("name"): targets.get(el.get(f"{{{DOC_REL_NS}}}id"), "")
            for el in workbook.iter("{*}sheet")}


def _allowed(path: Path, before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    """Parts xlcrm may change: its data and tool sheets (old and new) with what hangs off them."""
    from xlcrm.workbook.reader import read_book

    book = read_book(path)
    from xlcrm.workbook.ownership import is_internal

    own = {info.name for info in book.sheets.values()} | set(book.tool_sheets.values())
    own |= {n for n in set(_sheets(before)) | set(_sheets(after)) if is_internal(n)}  # _xlcrm_state, marks
    own |= set(_sheets(after)) - set(_sheets(before))  # sheets this command created
    allowed = set(GLOBAL_PARTS)
    for parts in (before, after):
        for name, part in _sheets(parts).items():
            if name in own:
                allowed |= _reach(parts, part)
    return allowed


def foreign_changes(path: Path, before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Parts added, removed or changed that xlcrm has no business touching (see `_allowed`)."""
    if before == after:
        return []
    changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    try:
        allowed = _allowed(path, before, after)
    except Exception:  # the output cannot be read back: every change counts
        allowed = set()
    return sorted(changed - allowed)


def user_cells(path: Path) -> dict[tuple[str, str, int], object]:
    """(sheet, header, row) → value of every typed cell in the user's own columns of the data sheets
    (xlcrm's recorded computed columns excluded); {} when the book cannot be read."""
    import openpyxl

    from xlcrm import schema
    from xlcrm.errors import XlcrmError
    from xlcrm.workbook.reader import read_book

    try:
        book = read_book(path)
        wb = openpyxl.load_workbook(path, read_only=True)
    except (XlcrmError, OSError, ValueError, KeyError, zipfile.BadZipFile):
        return {}
    cells = {}
    for key, info in book.sheets.items():
        owned = set(book.ownership.owned_headers(key))
        ws = wb[info.name]
        rows = ws.iter_rows(min_row=info.header_row, values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for r, row in enumerate(rows, start=info.header_row + 1):
            for h, v in zip(header, row, strict=False):
                if h and v not in (None, "") and schema.normalize_name(h) not in owned:
                    cells[(info.name, h, r)] = v
    wb.close()
    return cells


def _logged_fields(path: Path) -> set[str]:
    """The fields named on xlcrm's Change Log (a changed user cell must be explained there)."""
    from xlcrm.workbook.reader import read_book, read_tool_sheet

    try:
        name = read_book(path).tool_sheets.get("change_log")
        log = read_tool_sheet(path, name) if name else None
    except Exception:
        return set()
    if log is None or log.empty:
        return set()
    field_col = next((c for c in log.columns if c in ("字段", "欄位", "Field")), None)
    return set(log[field_col].dropna().astype(str)) if field_col else set()


def changed_user_cells(path: Path, before: dict, after: dict) -> list[str]:
    logged = _logged_fields(path)
    return [f"{s}!{h}{r}" for (s, h, r), v in before.items()
            if (s, h, r) in after and after[(s, h, r)] != v and h not in logged]


def run_case(case: Case, folder: Path) -> Report:
    from xlcrm.api import run_command
    from xlcrm.errors import XlcrmError

    report = Report(case.name, case.expect)
    try:
        path = case.build(folder)
    except NotApplicable as exc:
        report.skipped = str(exc)
        return report
    for command in COMMANDS:
        before = _parts(path)
        cells_before = user_cells(path)
        step = Step(command, "ok")
        try:
            run_command(command, path, today=TODAY)
        except XlcrmError as exc:
            step.outcome, step.reason = "refused", exc.render("en").splitlines()[0]
        except Exception:  # what the sweep is for: anything that is not a clean refusal
            step.outcome, step.reason = "traceback", traceback.format_exc(limit=-3)
        after = _parts(path)
        step.foreign = foreign_changes(path, before, after)
        step.user_cells = changed_user_cells(path, cells_before, user_cells(path)) if before != after else []
        report.steps.append(step)
        if step.outcome != "ok" and not after:
            break
    return report


# --------------------------------------------------------------------------- the table


def _row(report: Report) -> list[str]:
    cells = [report.case]
    by_command = {s.command: s for s in report.steps}
    for command in COMMANDS:
        step = by_command.get(command)
        cells.append("-" if step is None else step.outcome)
    expected = _as_expected(report)
    cells.append("" if expected else "! expected " + report.expect)
    cells.append(", ".join(report.foreign) or "")
    reason = report.skipped or next((s.reason for s in report.steps if s.reason), "")
    cells.append(reason.strip().splitlines()[-1][:110] if reason else "")
    return cells


def _as_expected(report: Report) -> bool:
    if report.outcome == "skipped":
        return True
    if report.expect == "any":
        return report.outcome in ("ok", "refused")
    return report.outcome == report.expect


def print_table(reports: list[Report]) -> None:
    header = ["case", *COMMANDS, "expectation", "user parts / cells changed", "first reason"]
    rows = [header] + [_row(r) for r in reports]
    widths = [max(len(r[i]) for r in rows[:]) for i in range(len(header) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
    counts = {k: sum(r.outcome == k for r in reports) for k in ("ok", "refused", "traceback", "skipped")}
    print("\n" + ", ".join(f"{k}: {v}" for k, v in counts.items())
          + f"; foreign changes: {sum(bool(r.foreign) for r in reports)}"
          + f"; unexpected: {sum(not _as_expected(r) for r in reports)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="run cases whose name contains one of these words")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", type=Path, help="also write the reports as JSON here")
    parser.add_argument("--keep", type=Path, help="keep each case's workbook in this folder")
    parser.add_argument("--strict", action="store_true", help="also fail when an outcome differs from the expected")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not args.only or any(w in c.name for w in args.only)]
    if args.list:
        for c in cases:
            print(f"{c.name:45} expect {c.expect:8} {c.note}")
        return 0
    reports = []
    with tempfile.TemporaryDirectory(prefix="xlcrm-sweep-") as tmp:
        for i, case in enumerate(cases):
            folder = (args.keep or Path(tmp)) / f"{i:02d}-{case.name.replace(':', '_')}"
            folder.mkdir(parents=True, exist_ok=True)
            print(f"[{i + 1}/{len(cases)}] {case.name}", file=sys.stderr, flush=True)
            reports.append(run_case(case, folder))
    print_table(reports)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = [{**asdict(r), "outcome": r.outcome, "foreign": r.foreign} for r in reports]
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for r in reports:
        for s in r.steps:
            if s.outcome == "traceback":
                print(f"\n--- {r.case} / {s.command}\n{s.reason}", file=sys.stderr)
    failed = any(r.outcome == "traceback" or r.foreign for r in reports)
    if args.strict:
        failed = failed or not all(_as_expected(r) for r in reports)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
