"""Writer benchmark: xlcrm's part-preserving writer beside openpyxl load+save of the same workbook.

The edit is what `regrade` + `due_today` write on the M book: 7 computed columns for every
customer + a regenerated 100k-row tool sheet. Each contender runs in its own subprocess, so the
peak RSS printed is its own.

    .venv/bin/python benchmarks/write_bench.py --size S
    .venv/bin/python benchmarks/write_bench.py --size M            # openpyxl takes ~10 minutes here
    .venv/bin/python benchmarks/write_bench.py --size M --skip-openpyxl

The workbook is built once into benchmarks/data/ (git-ignored) with xlcrm.samples and reused.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
SIZES = {"S": (10_000, 100_000, 30_000), "M": (100_000, 1_000_000, 300_000)}
TOOL_ROWS = {"S": 10_000, "M": 100_000}


def build(path: Path, size: str) -> float:
    from xlcrm.samples import generate_workbook

    customers, followups, purchases = SIZES[size]
    started = time.perf_counter()
    generate_workbook(
        path, customers=customers, followups=followups, purchases=purchases, lang="zh-CN", seed=7, dirt=True
    )
    return time.perf_counter() - started


def _customer_rows(path: Path) -> tuple[str, int, list[int]]:
    """The customers sheet's name, header row and data rows, found with the writer's own row index."""
    from xlcrm import schema
    from xlcrm.ooxml.package import Package
    from xlcrm.workbook.writer.editor import Editor

    editor = Editor(Package(path.read_bytes()))
    wanted = {schema.sheet_name("customers", lang) for lang in ("zh-CN", "en")}
    entry = next(e for e in editor.wb.sheets() if e.name in wanted)
    _, sx = editor.sheet(entry.name)
    sx.ensure_full_index()  # a big sheet is indexed lazily: list every row here
    header = next(r for r in sx.rows[:10] if any("编号" in t or "ID" in t for t in editor.row_texts(sx, r).values()))
    return entry.name, header, [r for r in sx.rows if r > header]


def make_plan(path: Path, size: str):
    import datetime as dt

    import numpy as np
    import pandas as pd

    from xlcrm.workbook.edits import FMT_DATE, Block, ColumnWrite, EditPlan, SheetReplace

    sheet, header, rows = _customer_rows(path)
    rng = np.random.default_rng(1)
    n = len(rows)
    grades = rng.choice(list("ABCDE"), n)
    base = dt.date(2025, 1, 1)
    nexts = [base + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, n)]
    columns = {
        "客户等级": grades.tolist(),
        "跟进周期(天)": rng.integers(1, 365, n).tolist(),
        "下次跟进": nexts,
        "逾期天数": rng.integers(-30, 90, n).tolist(),
        "ABC分类": rng.choice(list("ABC"), n).tolist(),
        "累计金额": np.round(rng.random(n) * 100000, 2).tolist(),
        "客户编码(文本)": [f"{i:06d}" for i in range(n)],
    }
    plan = EditPlan(operation="bench")
    for header_text, values in columns.items():
        plan.add(ColumnWrite(sheet, header_text, header, dict(zip(rows, values))))
    m = TOOL_ROWS[size]
    due = pd.DataFrame(
        {
            "客户编号": [f"C{i:07d}" for i in range(m)],
            "公司名称": [f"公司{i % 977}有限公司" for i in range(m)],
            "等级": rng.choice(list("ABCDE"), m),
            "负责人": rng.choice(["张三", "李四", "王五"], m),
            "上次跟进": pd.to_datetime("2024-06-01") + pd.to_timedelta(rng.integers(0, 300, m), unit="D"),
            "应跟进": pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 30, m), unit="D"),
            "逾期天数": rng.integers(0, 60, m),
            "手机": [f"138{i:08d}" for i in range(m)],
        }
    )
    plan.add(
        SheetReplace("今日跟进", [Block(due, autofilter=True, number_formats={"上次跟进": FMT_DATE})], after=sheet)
    )
    return plan


def _child(method: str, path: Path, size: str) -> dict:
    if method == "writer":
        from xlcrm.workbook.writer import apply_plan

        t0 = time.perf_counter()
        plan = make_plan(path, size)
        t1 = time.perf_counter()
        result = apply_plan(path, plan, backup_keep=1)
        t2 = time.perf_counter()
        return {
            "plan_s": t1 - t0,
            "seconds": t2 - t1,
            "bytes": result.bytes_written,
            "parts": len(result.parts_changed) + len(result.parts_added),
            "timings": result.timings,
        }
    if method == "openpyxl":
        import openpyxl

        t0 = time.perf_counter()
        wb = openpyxl.load_workbook(path)
        t1 = time.perf_counter()
        wb.save(path.with_name(path.stem + ".openpyxl.xlsx"))  # ok-to-save (benchmark copy, never the user's file)
        t2 = time.perf_counter()
        return {"load_s": t1 - t0, "seconds": t2 - t0}
    raise SystemExit(f"unknown method {method}")


def run(method: str, path: Path, size: str) -> dict:
    work = path.with_name(f"{path.stem}.{method}{path.suffix}")
    shutil.copy2(path, work)
    proc = subprocess.run(
        [sys.executable, __file__, "--child", method, str(work), "--size", size], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=sorted(SIZES), default="S")
    ap.add_argument("--skip-openpyxl", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], Path(args.child[1]), args.size)))
        return
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"write_bench_{args.size}.xlsx"
    if not path.exists():
        print(f"building {path.name} …", flush=True)
        print(f"built in {build(path, args.size):.1f} s", flush=True)
    mb = path.stat().st_size / 1e6
    results = {"writer": run("writer", path, args.size)}
    if not args.skip_openpyxl:
        results["openpyxl"] = run("openpyxl", path, args.size)
    print(
        f"\nsize {args.size}: {path.name}, {mb:.1f} MB; edit = 7 computed columns on every customer + a "
        f"{TOOL_ROWS[args.size]:,}-row tool sheet\n"
    )
    print("| method | seconds | peak RSS MB | vs writer |")
    print("|---|---:|---:|---:|")
    base = results["writer"].get("seconds")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | error: {r['error']} | | |")
            continue
        ratio = f"{r['seconds'] / base:.1f}×" if base else ""
        print(f"| {name} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {ratio} |")
    if "plan_s" in results["writer"]:
        print(
            f"\n(writer: plan built in {results['writer']['plan_s']:.2f} s, not counted; "
            f"{results['writer']['parts']} parts written, {results['writer']['bytes'] / 1e6:.1f} MB file)"
        )
        phases = ", ".join(f"{k} {v:.2f}" for k, v in results["writer"]["timings"].items())
        print(f"(writer phases, s: {phases})")


if __name__ == "__main__":
    main()
