"""A sheet's cells as a `Grid`: open an .xlsx/.xlsm/.xls with fastexcel (calamine), list its sheets
and their parts, load a sheet (on a thread pool for the big ones), and the Excel Tables it holds."""

from __future__ import annotations

import os
import string
import zipfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ..errors import FileRefused
from ..model.ownership import SheetRef  # pure data: the head start imports grid before pandas is loaded
from ..ooxml.rels import rels_path, resolve_target
from .guard import ensure_readable


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


def open_workbook(path: Path, kind: str):
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
        part = resolve_target("xl/workbook.xml", target)
        out.append((sheet.get("name") or "", kind, part))
    return out


def part_sizes(path: Path) -> dict[str, int]:
    """Part name → inflated size, from the zip directory ({} for a file that is not a zip)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {info.filename: info.file_size for info in zf.infolist()}
    except (zipfile.BadZipFile, OSError):
        return {}


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

    from ..ooxml.xmltree import parse_xml, serialize_xml
    from .package_check import CheckedPackage as Package

    pkg = Package(blob)
    root = parse_xml(pkg.read("xl/workbook.xml"))
    for sheet in list(root.iter(f"{NS_MAIN}sheet")):
        if sheet.get("name") in names:
            sheet.getparent().remove(sheet)
    pkg.write("xl/workbook.xml", serialize_xml(root))
    out = io.BytesIO()
    pkg.build(out)
    return out.getvalue()


class SheetLoader:
    """Loads the sheets a read will need, up to `threads` at a time, biggest first.

    fastexcel releases the GIL while it parses, so two sheets parse at once (M book on 2 cores:
    the three data sheets in 5.2–5.7 s instead of 8.2–8.6 s, +90 MB). Each worker thread keeps a
    reader of its own (fastexcel readers cannot be shared across threads). A sheet nobody asked
    the pool for, or every sheet with threads=1 (or where threads are unavailable, e.g. Pyodide),
    is read on the calling thread with the main reader. A sheet the CLI started parsing before
    the read began is taken from `early` (`headstart.take`), not loaded again.
    """

    def __init__(self, path: Path, kind: str, xl, names: list[str], threads: int,
                 early: Callable[[Path, str], Future | None] = lambda _path, _name: None):
        self.path, self.kind, self.xl = path, kind, xl
        self.huge = huge_sheets(path, kind)  # read in stretches of rows (`stretches`)
        self.early = early  # a load already under way (`headstart.take`), or None
        self.futures: dict = {}
        self.pool = None
        if threads > 1 and len(names) > 1:
            try:
                import threading
                from concurrent.futures import ThreadPoolExecutor

                self.local = threading.local()
                self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xlcrm-read")
                self.futures = {n: self.pool.submit(self._load, n) for n in names}
            except RuntimeError:  # no threads on this platform
                self.pool, self.futures = None, {}

    def _load(self, name: str) -> Grid:
        early = self.early(self.path, name)
        if early is not None:  # parsing since the CLI started; this worker waits for it without using a core
            return early.result()
        stretched = load_stretched(self.path, name, self.huge)
        if stretched is not None:
            return stretched
        if getattr(self.local, "xl", None) is None:
            self.local.xl = open_workbook(self.path, self.kind)
        return load_grid(self.local.xl, name)

    def then(self, name: str, work):
        """A future of `work(grid)`, queued on the pool when `name` has loaded (so no worker sits
        waiting for a load); None when the sheet is not loading on the pool or was already taken."""
        load = self.futures.get(name)
        if load is None or self.pool is None:
            return None
        out: Future = Future()

        def run(done: Future) -> None:
            if not out.set_running_or_notify_cancel():
                return
            try:
                out.set_result(work(done.result()))
            except BaseException as exc:  # a cancelled load too: the caller sees it as out's error
                out.set_exception(exc)

        def queue(done: Future) -> None:
            try:
                self.pool.submit(run, done)
            except RuntimeError:  # the pool is shutting down: nobody will ask for this any more
                out.cancel()

        load.add_done_callback(queue)
        return out

    def get(self, name: str) -> Grid:
        future = self.futures.pop(name, None) or self.early(self.path, name)
        if future is not None:
            return future.result()
        stretched = load_stretched(self.path, name, self.huge)
        return stretched if stretched is not None else load_grid(self.xl, name)

    def close(self) -> None:
        for future in self.futures.values():
            future.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        self.futures = {}


def load_grid(xl, name: str) -> Grid:
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


def huge_sheets(path: Path, kind: str) -> dict[str, str]:
    """Sheet name → part of the worksheets so big they are read in stretches of rows (`stretches`;
    an .xlsx/.xlsm only). Two looks at the zip's directory, no part read."""
    from .stretches import worth_it

    if kind != "ooxml":
        return {}
    sizes = part_sizes(path)
    return {name: part for name, k, part in sheet_parts(path) if k == "worksheet" and worth_it(sizes.get(part, 0))}


def load_stretched(path: Path, name: str, huge: dict[str, str]) -> Grid | None:
    """Sheet `name` read in stretches if it is one of `huge` and can be (else None: load it whole)."""
    part = huge.get(name)
    if part is None:
        return None
    from .stretches import load_in_stretches

    cells = load_in_stretches(path, part)
    return Grid(name=name, batch=cells[0], col_index=cells[1]) if cells is not None else None


def column_letter(index0: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    letters = ""
    n = index0 + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return letters


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
            targets = _rels(zf, "xl/workbook.xml")
            for sheet in workbook.iter(f"{ns_main}sheet"):
                part = targets.get(sheet.get(f"{ns_rel}id") or "")
                if not part:
                    continue
                for target in _rels(zf, part).values():
                    if target.startswith("xl/tables/") and target in names:
                        table = etree.fromstring(zf.read(target))
                        name = table.get("displayName") or table.get("name") or ""
                        out.setdefault(sheet.get("name") or "", []).append((name, table.get("ref") or ""))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError):
        return {}
    return out


def _rels(zf: zipfile.ZipFile, source_part: str) -> dict[str, str]:
    """Relationship id → the part it targets, for `source_part`'s internal relationships."""
    from lxml import etree

    try:
        root = etree.fromstring(zf.read(rels_path(source_part)))
    except KeyError:
        return {}
    return {rel.get("Id") or "": resolve_target(source_part, rel.get("Target") or "")
            for rel in root if rel.get("TargetMode") != "External"}


def list_sheets(path: Path) -> list[str]:
    """Every sheet name of the workbook, in order (a CSV has one: its file name's stem)."""
    path = Path(path)
    kind = ensure_readable(path)
    if kind == "csv":
        return [path.stem]
    return [name for name, _ in package_sheets(path)] or list(open_workbook(path, kind).sheet_names)


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
