"""Team store: first import of a workbook into SQLite and PostgreSQL, an incremental sync with 1,000
changed rows each way, and a per-owner book — with PostgreSQL `COPY` of the same rows as the yardstick.

    .venv/bin/python benchmarks/sync_bench.py --size M            # the M book (100k / 1M / 300k rows)
    .venv/bin/python benchmarks/sync_bench.py --book path.xlsx    # any workbook
    .venv/bin/python benchmarks/sync_bench.py --size S

Every measurement runs in its own subprocess; wall time and that process's peak RSS come from the
operating system (`os.wait4`). PostgreSQL is a throw-away cluster (xlcrm/store/pgserver.py, fsync on).
Each sync also reports its own stages (read the book, the store transaction, the workbook write).
Results go to benchmarks/data/sync_bench_<name>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import DATA, measure, workbook  # noqa: E402

CHANGES = 1000


def child(args: list[str]) -> list[str]:
    return [sys.executable, __file__, "--child", *args]


def run_child(kind: str, *rest: str) -> dict:
    import xlcrm

    if kind == "sync":
        book, store = rest
        result = xlcrm.sync(book, store=store, owner="*")
    elif kind == "book":
        out, store, owner = rest
        result = xlcrm.book(out, owner=owner, store=store)
    elif kind == "copy":
        return copy_same_rows(rest[0])
    else:
        raise SystemExit(f"unknown child {kind}")
    return {"stages": result.data.get("seconds"), "counts": {k: v for k, v in result.counts.items() if v}}


def copy_same_rows(store: str) -> dict:
    """COPY the rows the import stored (records and change log) into empty twin tables: the floor."""
    from sqlalchemy import text

    from xlcrm.store import open_store

    engine = open_store(store)
    raw = engine.raw_connection()
    total, rows = 0.0, 0
    try:
        cur = raw.driver_connection.cursor()
        for table in ("customers", "followups", "purchases", "change_log"):
            data = list(cur.execute(f"SELECT * FROM {table}"))
            cur.execute(f"CREATE TABLE copy_{table} (LIKE {table} INCLUDING ALL)")
            raw.driver_connection.commit()
            start = time.perf_counter()
            with cur.copy(f"COPY copy_{table} FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            raw.driver_connection.commit()
            total += time.perf_counter() - start
            rows += len(data)
            cur.execute(f"DROP TABLE copy_{table}")
            raw.driver_connection.commit()
    finally:
        raw.close()
    del text
    return {"copy_seconds": round(total, 3), "rows": rows}


def change_both_sides(book: Path, store: str) -> None:
    """1,000 customers changed in the workbook (through xlcrm's writer) and 1,000 others in the store."""
    from sqlalchemy import select

    from xlcrm.ops.sync import Push
    from xlcrm.store import open_store, tables
    from xlcrm.store.repository import Repository
    from xlcrm.workbook.edits import ColumnWrite, EditPlan
    from xlcrm.workbook.reader import read_book
    from xlcrm.workbook.writer import apply_plan

    crm = read_book(book)
    info = crm.sheets["customers"]
    rows = crm.customers["_row"].tolist()[:CHANGES]
    apply_plan(book, EditPlan([ColumnWrite(info.name, info.header_of("notes"), info.header_row,
                                           {r: f"bench local change {r}" for r in rows}, col=info.columns["notes"])]),
               backup_dir=book.parent / "bk")
    ids = set(crm.customers["customer_id"].tolist()[:CHANGES])
    t = tables.customers
    with open_store(store).begin() as conn:
        repo = Repository(conn, "bench", "cli")
        picked = [r for r in conn.execute(select(t.c.uid, t.c.version, t.c.customer_id, t.c.city).limit(3 * CHANGES))
                  if r[2] not in ids][:CHANGES]
        for uid, version, cid, city in picked:
            repo.update("customers", Push(uid, version, {"city": f"bench store change {cid}"}, {"city": city}), cid)
        repo.flush_log()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["S", "M"], default="S")
    parser.add_argument("--book", type=Path, help="benchmark this workbook instead of a generated one")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(run_child(*args.child), default=str), flush=True)
        return 0
    from xlcrm.store.pgserver import fresh_database, start

    source = args.book or workbook(args.size)
    name = source.stem
    work = Path(tempfile.mkdtemp(prefix="xlcrm-sync-bench-"))
    work.chmod(0o755)
    server, why = start(56432, work / "pg", durable=True)
    if server is None:
        raise SystemExit(f"PostgreSQL: {why}")
    results: dict[str, dict] = {"book": str(source)}
    try:
        pg = fresh_database(server, "bench")
        stores = {"sqlite": f"sqlite:///{work / 'team.sqlite'}", "postgresql": pg}
        for kind, store in stores.items():
            book = work / f"{kind}.xlsx"
            shutil.copyfile(source, book)
            results[f"import_{kind}"] = measure(child(["sync", str(book), store]), f"first import → {kind}")
            print(json.dumps(results[f"import_{kind}"], ensure_ascii=False), flush=True)
        results["copy_postgresql"] = measure(child(["copy", pg]), "COPY of the same rows")
        print(json.dumps(results["copy_postgresql"]), flush=True)
        book = work / "postgresql.xlsx"
        change_both_sides(book, pg)
        results["sync_1000_each_way"] = measure(child(["sync", str(book), pg]), "sync, 1,000 changes each way")
        print(json.dumps(results["sync_1000_each_way"], ensure_ascii=False), flush=True)
        from sqlalchemy import create_engine, text

        engine = create_engine(pg.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            owner = conn.execute(text("SELECT owner FROM customers WHERE owner IS NOT NULL GROUP BY owner "
                                      "ORDER BY count(*) DESC LIMIT 1")).scalar()
        engine.dispose()
        results["owner_book"] = measure(child(["book", str(work / "owner.xlsx"), pg, owner]), f"book --owner {owner}")
        print(json.dumps(results["owner_book"], ensure_ascii=False), flush=True)
    finally:
        server.stop(remove=False)
        shutil.rmtree(work, ignore_errors=True)
    imp = results["import_postgresql"]
    results["ratio_import_store_stage_to_copy"] = round(imp["stages"]["store"] / results["copy_postgresql"]["copy_seconds"], 2)
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / f"sync_bench_{name}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(json.dumps({"ratio_import_store_stage_to_copy": results["ratio_import_store_stage_to_copy"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
