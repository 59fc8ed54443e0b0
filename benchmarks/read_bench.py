"""Reader benchmark: `read_book` beside fastexcel's raw read, pandas+calamine and pandas+openpyxl.

Each reader runs in its own subprocess, so the peak RSS printed is that reader's alone.

    .venv/bin/python benchmarks/read_bench.py --size S
    .venv/bin/python benchmarks/read_bench.py --size M --skip-openpyxl

Prints a markdown table (wall seconds, peak RSS MB, ratio to fastexcel's raw read).
The workbook is built once into benchmarks/data/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
SIZES = {
    "S": (10_000, 100_000, 30_000),
    "M": (100_000, 1_000_000, 300_000),
}
READERS = ("fastexcel", "read_book", "calamine", "openpyxl")


# --------------------------------------------------------------------------- the workbook


def build(path: Path, customers: int, followups: int, purchases: int) -> str:
    """Build the benchmark workbook; returns which generator made it."""
    try:
        from xlcrm.samples import generate_workbook  # written by another engineer
    except ImportError:
        _fallback_workbook(path, customers, followups, purchases)
        return "read_bench fallback (xlsxwriter)"
    generate_workbook(
        path, customers=customers, followups=followups, purchases=purchases, lang="zh-CN", seed=7, dirt=True
    )
    return "xlcrm.samples.generate_workbook"


def _fallback_workbook(path: Path, customers: int, followups: int, purchases: int) -> None:
    """A zh-CN workbook of the three data sheets with a little realistic dirt (text dates, numbers as text)."""
    import xlsxwriter

    rnd = random.Random(7)
    base = dt.date(2023, 1, 1)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})  # ok-to-save (brand-new file)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    text_fmt = wb.add_format({"num_format": "@"})
    cities = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京"]
    statuses = ["已成交", "谈判中", "潜在", "意向", "成交"]
    demands = ["目标", "潜在", "无需求"]

    ws = wb.add_worksheet("客户资料")
    head = [
        "客户编号",
        "公司名称",
        "联系人",
        "手机",
        "电话",
        "邮箱",
        "城市",
        "地址",
        "邮编",
        "行业",
        "负责人",
        "客户类型",
        "成交状态",
        "需求",
        "预计成交日期",
        "重要程度",
        "备注",
        "建档日期",
        "自定义字段",
    ]
    ws.write_row(0, 0, head)
    for i in range(customers):
        r = i + 1
        created = base + dt.timedelta(days=rnd.randrange(700))
        ws.write_string(r, 0, f"C{i + 1:06d}", text_fmt)
        ws.write_string(r, 1, f"{cities[i % 8]}市第{i}号贸易有限公司")
        ws.write_string(r, 2, f"联系人{i % 997}")
        if i % 10 == 0:
            ws.write_number(r, 3, 13800000000 + i)  # a phone stored as a number
        else:
            ws.write_string(r, 3, f"1{3 + i % 6}{i:09d}", text_fmt)
        ws.write_string(r, 4, f"0{i % 90 + 10}-{i:08d}", text_fmt)
        ws.write_string(r, 5, f"user{i}@example.com")
        ws.write_string(r, 6, cities[i % 8])
        ws.write_string(r, 7, f"{cities[i % 8]}市某某路{i % 500}号")
        ws.write_string(r, 8, f"{(i * 37) % 1000000:06d}", text_fmt)
        ws.write_string(r, 9, ["制造", "贸易", "软件", "零售"][i % 4])
        ws.write_string(r, 10, f"销售{i % 20}")
        ws.write_string(r, 11, "企业" if i % 7 else "个人")
        ws.write_string(r, 12, statuses[i % 5])
        ws.write_string(r, 13, demands[i % 3])
        if i % 50 == 0:
            ws.write_string(r, 14, f"{created.year}年{created.month}月{created.day}日")  # a text date
        else:
            ws.write_datetime(r, 14, dt.datetime.combine(created + dt.timedelta(days=90), dt.time()), date_fmt)
        ws.write_string(r, 15, ["重要", "特殊", "一般"][i % 3])
        ws.write_string(r, 16, "老客户介绍" if i % 13 == 0 else "")
        ws.write_datetime(r, 17, dt.datetime.combine(created, dt.time()), date_fmt)
        ws.write_number(r, 18, i % 100)

    ws = wb.add_worksheet("跟进记录")
    ws.write_row(0, 0, ["客户编号", "跟进日期", "方式", "跟进人", "跟进内容", "结果", "需求", "下次跟进日期"])
    channels = ["电话", "拜访", "微信", "邮件"]
    for i in range(followups):
        r = i + 1
        d = base + dt.timedelta(days=rnd.randrange(720))
        ws.write_string(r, 0, f"C{rnd.randrange(customers) + 1:06d}", text_fmt)
        if i % 100 == 0:
            ws.write_string(r, 1, d.strftime("%Y/%m/%d"))
        else:
            ws.write_datetime(r, 1, dt.datetime.combine(d, dt.time()), date_fmt)
        ws.write_string(r, 2, channels[i % 4])
        ws.write_string(r, 3, f"销售{i % 20}")
        ws.write_string(r, 4, f"沟通了产品报价与交付时间，第{i % 10}次")
        ws.write_string(r, 5, ["有意向", "待回复", "已报价"][i % 3])
        ws.write_string(r, 6, demands[i % 3])
        ws.write_datetime(r, 7, dt.datetime.combine(d + dt.timedelta(days=7), dt.time()), date_fmt)

    ws = wb.add_worksheet("购买记录")
    ws.write_row(0, 0, ["客户编号", "订单号", "日期", "产品", "数量", "单价", "金额", "已收金额", "付款期限", "状态"])
    for i in range(purchases):
        r = i + 1
        d = base + dt.timedelta(days=rnd.randrange(720))
        qty = rnd.randrange(1, 50)
        price = rnd.randrange(10, 5000)
        ws.write_string(r, 0, f"C{rnd.randrange(customers) + 1:06d}", text_fmt)
        ws.write_string(r, 1, f"SO{i:08d}", text_fmt)
        ws.write_datetime(r, 2, dt.datetime.combine(d, dt.time()), date_fmt)
        ws.write_string(r, 3, f"产品{i % 50}")
        ws.write_number(r, 4, qty)
        ws.write_number(r, 5, price)
        if i % 200 == 0:
            ws.write_string(r, 6, f"{qty * price:,}")  # money typed as text with separators
        else:
            ws.write_number(r, 6, qty * price)
        ws.write_number(r, 7, qty * price if i % 3 else 0)
        ws.write_datetime(r, 8, dt.datetime.combine(d + dt.timedelta(days=30), dt.time()), date_fmt)
        ws.write_string(r, 9, ["已下单", "已发货", "已付款"][i % 3])
    wb.close()


# --------------------------------------------------------------------------- one reader, in a child process


def _data_sheets(path: Path) -> list[str]:
    import fastexcel

    from xlcrm.schema import match_sheet

    names = fastexcel.read_excel(str(path)).sheet_names
    return [n for n in names if match_sheet(n) in {"customers", "followups", "purchases"}]


def run_one(reader: str, path: Path, threads: int | None = None) -> dict:
    sheets = _data_sheets(path)
    cpu_start = _cpu_seconds()
    start = time.perf_counter()
    rows = 0
    if reader == "fastexcel":
        import fastexcel

        xl = fastexcel.read_excel(str(path))
        for name in sheets:
            rows += xl.load_sheet(name, eager=True).num_rows
    elif reader == "read_book":
        from xlcrm.workbook.reader import read_book

        book = read_book(path, threads=threads)
        rows = len(book.customers) + len(book.followups) + len(book.purchases)
    elif reader in {"calamine", "openpyxl"}:
        import pandas as pd

        frames = pd.read_excel(path, sheet_name=sheets, engine=reader)
        rows = sum(len(f) for f in frames.values())
    else:
        raise SystemExit(f"unknown reader {reader}")
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"reader": reader, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "rows": rows}


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all threads): steadier than wall time on a busy box."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="S")
    ap.add_argument("--skip-openpyxl", action="store_true", help="skip pandas+openpyxl (≈7 min on M)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the workbook even if it exists")
    ap.add_argument("--repeat", type=int, default=1, help="runs per reader (the best time is kept)")
    ap.add_argument("--threads", type=int, default=None, help="read_book's threads (default: its own choice)")
    ap.add_argument("--run", choices=READERS, help=argparse.SUPPRESS)  # child mode
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.run:
        print(json.dumps(run_one(args.run, args.file, args.threads)))
        return

    customers, followups, purchases = SIZES[args.size]
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"read_bench_{args.size}.xlsx"
    if args.rebuild or not path.exists():
        t0 = time.perf_counter()
        how = build(path, customers, followups, purchases)
        print(f"built {path.name} with {how} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    size_mb = path.stat().st_size / 1e6

    readers = [r for r in READERS if not (r == "openpyxl" and args.skip_openpyxl)]
    results = {}
    for reader in readers:
        best = None
        for _ in range(max(1, args.repeat)):
            out = subprocess.run(
                [sys.executable, __file__, "--run", reader, "--file", str(path)]
                + (["--threads", str(args.threads)] if args.threads else []),
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            res = json.loads(out.stdout.strip().splitlines()[-1])
            if best is None or res["seconds"] < best["seconds"]:
                best = res
        results[reader] = best
        print(f"{reader}: {best['seconds']:.2f} s, CPU {best['cpu']:.2f} s, {best['peak_mb']:.0f} MB", file=sys.stderr)

    base = results["fastexcel"]["seconds"]
    print(
        f"\nSize {args.size}: {customers:,} customers / {followups:,} follow-ups / {purchases:,} purchases; "
        f"file {size_mb:.1f} MB\n"
    )
    base_cpu = results["fastexcel"]["cpu"]
    print("| reader | rows | wall time (s) | × fastexcel raw | CPU time (s) | × fastexcel CPU | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    labels = {
        "fastexcel": "fastexcel raw read (3 sheets)",
        "read_book": "xlcrm `read_book` → CrmBook",
        "calamine": 'pandas.read_excel(engine="calamine")',
        "openpyxl": 'pandas.read_excel(engine="openpyxl")',
    }
    for reader, res in results.items():
        print(
            f"| {labels[reader]} | {res['rows']:,} | {res['seconds']:.2f} | {res['seconds'] / base:.2f} | "
            f"{res['cpu']:.2f} | {res['cpu'] / base_cpu:.2f} | {res['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
