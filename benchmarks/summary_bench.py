"""Summary benchmark: `xlcrm summary` end to end beside fastexcel's raw read of the same file.

Each step runs in its own subprocess, so the peak RSS printed is that step's alone:
- fastexcel: raw eager read of the three data sheets (the single-core floor);
- read_book: xlcrm's reader (typed frames, header matching);
- summary (plan): read_book + computing every KPI/table and the sheet plan, nothing written;
- summary (CLI): `xlcrm summary` on a copy of the workbook — read, compute, write (backup included).

    .venv/bin/python -m xlcrm.samples --size M --out benchmarks/data   # once: builds xlcrm_M_zh.xlsx
    .venv/bin/python benchmarks/summary_bench.py [--size M] [--today 2026-11-20]

Prints a markdown table: wall seconds, peak RSS MB, ratio to fastexcel's raw read.
"""

from __future__ import annotations

import argparse
import compileall
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"

_PRELUDE = """
import json, resource, sys, time
start = time.perf_counter()
"""
_REPORT = """
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

STEPS = {
    "fastexcel": """
import fastexcel
reader = fastexcel.read_excel(PATH)
for name in reader.sheet_names[:3]:
    reader.load_sheet(name, eager=True)
""",
    "read_book": """
from xlcrm.workbook.reader import read_book
read_book(PATH)
""",
    "summary (plan)": """
import datetime as dt
from xlcrm.commands.base import Context
from xlcrm.commands.reports import plan_summary
from xlcrm.workbook.reader import read_book
plan_summary(read_book(PATH), Context(today=dt.date.fromisoformat(TODAY)))
""",
    "summary (CLI)": """
from xlcrm.cli_entry import main  # what the `xlcrm` script runs (with the read's head start)
try:
    main(["summary", PATH, "--today", TODAY])
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
""",
}


def run_step(name: str, path: Path, today: str) -> dict:
    code = f"PATH = {str(path)!r}\nTODAY = {today!r}\n" + _PRELUDE + STEPS[name] + _REPORT
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="M", help="sample size built by xlcrm.samples (S or M)")
    parser.add_argument("--today", default="2026-11-20", help="the sample generator's today")
    parser.add_argument("--file", type=Path, help="benchmark this workbook instead")
    args = parser.parse_args(argv)
    # What is measured is an installed xlcrm: byte-compiled, as a wheel is when installed (an editable
    # install is not, and with PYTHONDONTWRITEBYTECODE=1 every child would compile it again).
    compileall.compile_dir(str(ROOT / "xlcrm"), quiet=1)

    default = ROOT / "sample_workbooks" / "xlcrm_sample_zh.xlsx" if args.size == "S" else DATA / f"xlcrm_{args.size}_zh.xlsx"
    source = args.file or default
    if not source.exists():
        print(f"building {source.name} …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "xlcrm.samples", "--size", args.size, "--out", str(DATA)],
                       check=True, cwd=ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / source.name  # the CLI writes: never touch the cached benchmark book
        shutil.copyfile(source, copy)
        results = {name: run_step(name, copy, args.today) for name in STEPS}
    floor = results["fastexcel"]["seconds"]
    print(f"\n`xlcrm summary` on {source.name} ({source.stat().st_size / 1e6:.0f} MB)\n")
    print("| step | seconds | peak RSS (MB) | × fastexcel |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['seconds'] / floor:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
