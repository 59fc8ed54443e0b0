"""Render one sheet of a workbook through LibreOffice: PDF (page count, text per page) and PNG.

Used by the printing tests and to regenerate the pictures in docs/:

    .venv/bin/python tests/rendering.py    # docs/summary.png, summary_charts.png, due_today.png, receivables.png

LibreOffice prints every visible sheet, so a temp copy is made with only the wanted sheet visible
(the project's package classes edit workbook.xml of that copy; the user's file is never touched).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

from xlcrm.ooxml.package import Package
from xlcrm.workbook.writer.sheets import Workbook


def only_sheet(src: Path, sheet: str, dst: Path) -> Path:
    """A copy of `src` where `sheet` is the only visible (so the only printed) sheet."""
    pkg = Package(src.read_bytes())
    wb = Workbook(pkg)
    entries = wb.sheets()
    target = next(e for e in entries if e.name == sheet)
    for e in entries:
        if e.name != sheet and e.state == "visible":
            wb.set_state(e.name, "hidden")
    views = wb.root.find(wb._q("bookViews"))
    for view in views if views is not None else []:
        view.set("activeTab", str(target.index))
        view.attrib.pop("firstSheet", None)
    wb.dirty = True
    wb.write_back()
    buf = io.BytesIO()
    pkg.build(buf)
    dst.write_bytes(buf.getvalue())
    return dst


def to_pdf(soffice: str, path: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{out}/lo",
                    "--convert-to", "pdf", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    return out / (path.stem + ".pdf")


def sheet_pdf(soffice: str, workbook: Path, sheet: str, out: Path, stem: str = "sheet") -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return to_pdf(soffice, only_sheet(workbook, sheet, out / f"{stem}.xlsx"), out)


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=60).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def to_png(pdf: Path, png: Path, page: int = 1, dpi: int = 110) -> Path:
    stem = png.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(stem)], check=True, capture_output=True, timeout=60)
    return png


def render_docs(repo: Path, today: str = "2026-11-20") -> list[Path]:
    """The demo workbook (the zh sample after run, summary, receivables) → docs/*.png, first page each."""
    import tempfile

    import xlcrm

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("LibreOffice (soffice) is needed to render the pictures")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        book = work / "demo_crm.xlsx"
        shutil.copyfile(repo / "sample_workbooks" / "xlcrm_sample_zh.xlsx", book)
        for tag in ("run", "summary", "receivables"):
            xlcrm.run_command(tag, book, today=today)
        made = []
        for sheet, name in (("汇总", "summary"), ("今日跟进", "due_today"), ("应收", "receivables")):
            pdf = sheet_pdf(soffice, book, sheet, work / name, name)
            made.append(to_png(pdf, repo / "docs" / f"{name}.png"))
            if name == "summary":  # its second page: the first tables with their charts
                made.append(to_png(pdf, repo / "docs" / "summary_charts.png", page=2))
        return made


if __name__ == "__main__":
    for p in render_docs(Path(__file__).resolve().parents[1]):
        print(p)
    sys.exit(0)
