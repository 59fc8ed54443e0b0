"""Seeded generator of realistic — and deliberately dirty — xlcrm workbooks.

`generate_sample` builds three frames (Basic Info, Follow-up, Purchases) the way a Chinese SME's
sales team fills them: enterprise and individual customers with company names made of region +
brand syllables + industry word + legal suffix, consistent provinces / cities / postcodes / area
codes, +86 mobiles (13x/15x/18x/19x), landlines, e-mails, five salespeople, a plausible A–E grade
mix (demand, deal status and expected close agree with the grade), created dates over two years,
follow-ups over the last twelve months, purchases with order numbers, amounts, payments, due dates
(some overdue) and statuses. The same seed gives the same data; sizes scale to the benchmark size
M (100k customers / 1M follow-ups / 300k purchases), generated with numpy and written streaming.

Deliberate dirt (`dirt=True`). Counts are per 300 customers: each is multiplied by
`max(1, customers // 300)`. Every item is listed in `Sample.dirt` (sheet, Excel row, column,
kind, value, and for duplicates the Excel row of the original), and `python -m xlcrm.samples`
also writes it beside each workbook as `<name>.dirt.json`.

Basic Info (customers)
- duplicate customers, each a second row for an existing customer (own ID, later created date,
  other salesperson), disguised as:
  `dup_no_suffix` 3 (company without 有限公司 / 股份有限公司 …), `dup_region_paren` 2
  (深圳华鑫科技有限公司 ↔ 华鑫科技（深圳）有限公司), `dup_traditional` 2 (company and contact in
  Traditional characters), `dup_fullwidth` 2 (full-width letters in company and e-mail),
  `dup_mobile_format` 3 (+86 / spaces / dashes in the mobile), `dup_email_upper` 2 (upper-case
  e-mail), `dup_contact_typo` 2 (one character of the contact name changed, mobile left blank);
- `bad_phone_short` 3 and `bad_phone_letters` 2 (mobile), `bad_email_no_at` 2 and
  `bad_email_double_at` 2 (email);
- `text_date` 4 in 建档日期/Created, one per format: 2024-01-05, 2024/1/5, 2024年1月5日, 2024.01.05;
- `missing_id` 4 (new customers at the end with a blank customer ID), `duplicate_id` 1 (a
  different customer carrying an ID that is already used);
- `expected_close_past` 2 (need now, negotiating, expected close already passed),
  `future_date` 1 (created after today), `unknown_choice` 1 (deal status 待定 / Pending).
Follow-up
- `text_date` 4 (one per format), `future_date` 1, `orphan` 3 (customer IDs that do not exist),
  `unknown_choice` 1 (channel 钉钉 / DingTalk).
Purchases
- `text_date` 4, `orphan` 1, `negative_amount` 1, `paid_over_amount` 1, `unknown_choice` 1
  (status 部分付款 / Part paid).

Commands::

    python -m xlcrm.samples --out sample_workbooks          # the committed zh and en samples
    python -m xlcrm.samples --size M --out benchmarks/data  # big benchmark books (never committed)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .samples_base import (
    DIRT_PER_300,
    DUP_COLUMN,
    TEXT_DATE_FORMATS,
    TODAY,
    UNKNOWN_CHOICES,
    DirtItem,
    days_after,
    lang_index,
    text_date,
)
from .samples_customers import (
    customers_frame,
    disguise,
)
from .samples_history import (
    followup_dirt,
    followups_frame,
    purchase_dirt,
    purchases_frame,
)
from .samples_service import service_frame
from .samples_vocab import OWNERS
from .schema import Kind
from .template import write_crm_workbook

# L: a million customers — Basic Info at Excel's row limit (1,048,576), one follow-up and one purchase
# each (the other sheets at the limit too).
SIZES = {"S": (300, 2000, 600), "M": (100_000, 1_000_000, 300_000), "L": (1_000_000, 1_000_000, 1_000_000)}
SAMPLE_FILES = {"zh-CN": "xlcrm_sample_zh.xlsx", "en": "xlcrm_sample_en.xlsx"}


@dataclass
class Sample:
    """Generated data. Frames use schema keys; dates are datetime64 (a few cells replaced by text
    in `overrides`: sheet key → column key → {row position: text}); choices are labels in `lang`."""

    customers: pd.DataFrame
    followups: pd.DataFrame
    purchases: pd.DataFrame
    lang: str
    owners: list[str]
    overrides: dict[str, dict[str, dict[int, object]]] = field(default_factory=dict)
    dirt: list[DirtItem] = field(default_factory=list)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"customers": self.customers, "followups": self.followups, "purchases": self.purchases}

    def display_frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The frames as a user would type them: dates as `datetime.date` or text, blanks as None."""
        out = []
        for key, frame in self.frames().items():
            spec = schema.SHEETS_BY_KEY[key]
            df = frame.copy()
            for col in spec.columns:
                s = df[col.key]
                if col.kind is Kind.DATE:
                    vals = [None if pd.isna(v) else v.date() for v in s]
                elif pd.api.types.is_float_dtype(s.dtype):
                    vals = s.to_numpy(dtype=float)
                else:
                    vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in s]
                if col.kind is Kind.DATE or not pd.api.types.is_float_dtype(s.dtype):
                    vals = pd.Series(vals, index=df.index, dtype=object)
                    for pos, v in self.overrides.get(key, {}).get(col.key, {}).items():
                        vals.iloc[pos] = v
                df[col.key] = vals
            out.append(df)
        return out[0], out[1], out[2]

    def dirt_of(self, kind: str, sheet: str | None = None) -> list[DirtItem]:
        return [d for d in self.dirt if d.kind == kind and (sheet is None or d.sheet == sheet)]


# --------------------------------------------------------------------------- the generator


def generate_sample(
    customers: int = 300,
    followups: int = 2000,
    purchases: int = 600,
    *,
    lang: str = "zh-CN",
    seed: int = 7,
    today: dt.date = TODAY,
    dirt: bool = True,
) -> Sample:
    """Generate a seeded sample (same arguments → same data). Sizes are exact row counts."""
    if lang not in schema.LANGS:
        raise ValueError(f"lang must be one of {schema.LANGS}")
    rng = np.random.default_rng(seed)
    owners = OWNERS[lang]
    factor = max(1, customers // 300)
    count = {k: (v * factor if dirt else 0) for k, v in DIRT_PER_300.items()}
    dup_kinds = [k for k in count if k.startswith("dup_")]
    n_dups = sum(count[k] for k in dup_kinds)
    n_base = customers - n_dups - count["missing_id"]
    if n_base < max(20, 2 * n_dups):
        raise ValueError("too few customers for the requested dirt / 客户数量太少")
    base, hidden = customers_frame(rng, n_base, lang, today, owners, min_latin=3 * count["dup_fullwidth"])
    items: list[DirtItem] = []

    # Duplicates: a second row for an existing customer, typed later by someone else.
    dup_rows, dup_meta = [], []
    used: set[int] = set()
    order = rng.permutation(n_base)
    records = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in base.to_dict("records")]
    for kind in dup_kinds:
        made = 0
        for pos in order:
            if made == count[kind]:
                break
            if pos in used:
                continue
            parts = {k: hidden["comp"][k][pos] for k in ("city", "brand", "word", "suffix", "form")}
            dup = disguise(kind, records[pos], parts, rng)
            if dup is None:
                continue
            used.add(int(pos))
            later = min(int(rng.integers(10, 300)), max(1, int((today - records[pos]["created"].date()).days) - 1))
            dup["created"] = records[pos]["created"] + pd.Timedelta(days=later)
            dup["owner"] = owners[(owners.index(records[pos]["owner"]) + 1 + int(rng.integers(0, 4))) % len(owners)]
            dup_rows.append(dup)
            dup_meta.append((kind, int(pos)))
            made += 1
        if made < count[kind]:
            raise ValueError(f"could not make {count[kind]} {kind} duplicates")
    grade = hidden["grade"]
    frame = pd.concat([base, pd.DataFrame(dup_rows, columns=base.columns)], ignore_index=True) if dup_rows else base
    grade = np.concatenate([grade, np.array([grade[p] for _, p in dup_meta], dtype=int)])
    source_of = np.concatenate([np.full(n_base, -1), np.array([p for _, p in dup_meta], dtype=int)])
    kind_of = np.array([""] * n_base + [k for k, _ in dup_meta], dtype=object)
    order = np.argsort(frame["created"].to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    grade, source_of, kind_of = grade[order], source_of[order], kind_of[order]
    position_of_base = np.empty(n_base, dtype=int)
    is_base = source_of == -1
    position_of_base[order[is_base]] = np.flatnonzero(is_base)
    ids = np.array([f"C{i:06d}" for i in range(1, len(frame) + 1)], dtype=object)
    frame["customer_id"] = ids
    for pos in np.flatnonzero(~is_base):
        column = DUP_COLUMN[str(kind_of[pos])]
        items.append(DirtItem("customers", int(pos) + 2, column, str(kind_of[pos]), frame.at[pos, column],
                              of_row=int(position_of_base[source_of[pos]]) + 2))

    # New customers typed at the end without an ID.
    if count["missing_id"]:
        new, _ = customers_frame(rng, count["missing_id"], lang, today, owners)
        new["customer_id"] = None
        new["created"] = days_after(today, -rng.integers(0, 10, len(new)).astype(float))
        start = len(frame)
        frame = pd.concat([frame, new], ignore_index=True)
        grade = np.concatenate([grade, np.full(len(new), 3)])
        for i in range(len(new)):
            items.append(DirtItem("customers", start + i + 2, "customer_id", "missing_id", None))

    n = len(frame)
    overrides: dict[str, dict[str, dict[int, object]]] = {"customers": {}, "followups": {}, "purchases": {}}
    # Customers eligible for cell dirt: originals of nothing, not duplicates, with an ID.
    originals = {int(position_of_base[p]) for _, p in dup_meta}
    pool = [int(i) for i in rng.permutation(n_base + n_dups) if is_base[i] and int(i) not in originals]
    take = pool.pop

    def cust(kind: str, column: str, value: object, pos: int | None = None, **kw) -> None:
        pos = take() if pos is None else pos
        if column == "created" and isinstance(value, str):
            overrides["customers"].setdefault("created", {})[pos] = value
        else:
            frame.at[pos, column] = value
        items.append(DirtItem("customers", pos + 2, column, kind, value, **kw))

    for _ in range(count["bad_phone_short"]):
        pos = next(p for p in reversed(pool) if isinstance(frame.at[p, "mobile"], str))
        pool.remove(pos)
        cust("bad_phone_short", "mobile", frame.at[pos, "mobile"][: int(rng.integers(5, 9))], pos)
    for _ in range(count["bad_phone_letters"]):
        pos = next(p for p in reversed(pool) if isinstance(frame.at[p, "mobile"], str))
        pool.remove(pos)
        m = frame.at[pos, "mobile"]
        k = int(rng.integers(3, 10))
        cust("bad_phone_letters", "mobile", m[:k] + "O" + m[k + 1 :] if rng.random() < 0.5 else m[:k] + "l" + m[k + 1 :], pos)
    for kind, fix in (("bad_email_no_at", lambda e: e.replace("@", ".", 1)), ("bad_email_double_at", lambda e: e.replace("@", "@@", 1))):
        for _ in range(count[kind]):
            pos = next(p for p in reversed(pool) if isinstance(frame.at[p, "email"], str))
            pool.remove(pos)
            cust(kind, "email", fix(frame.at[pos, "email"]), pos)
    for fmt in TEXT_DATE_FORMATS:
        for _ in range(count["text_date"]):
            pos = take()
            d = frame.at[pos, "created"].date()
            cust("text_date", "created", text_date(d, fmt), pos, note=f"{fmt}: {d.isoformat()}")
    for _ in range(count["duplicate_id"]):
        pos, other = take(), take()
        pool.append(other)
        cust("duplicate_id", "customer_id", frame.at[other, "customer_id"], pos, of_row=other + 2)
    for _ in range(count["expected_close_past"]):
        pos = take()
        frame.at[pos, "demand"] = schema.choice_label(schema.DEMANDS, "target", lang)
        frame.at[pos, "deal_status"] = schema.choice_label(schema.DEAL_STATUSES, "negotiating", lang)
        cust("expected_close_past", "expected_close", pd.Timestamp(today - dt.timedelta(days=int(rng.integers(10, 90)))))
    for _ in range(count["future_date"]):
        cust("future_date", "created", pd.Timestamp(today + dt.timedelta(days=int(rng.integers(20, 60)))))
    for _ in range(count["unknown_choice"]):
        cust("unknown_choice", "deal_status", UNKNOWN_CHOICES[("customers", "deal_status")][lang_index(lang)])

    fu = followups_frame(rng, followups, frame, grade, lang, today, owners)
    pu = purchases_frame(rng, purchases, frame, grade, lang, today)
    if dirt:
        items += followup_dirt(rng, fu, overrides["followups"], count, lang, today, n)
        items += purchase_dirt(rng, pu, overrides["purchases"], count, lang, n)
    for key, spec in (("customers", schema.CUSTOMERS), ("followups", schema.FOLLOWUPS), ("purchases", schema.PURCHASES)):
        df = {"customers": frame, "followups": fu, "purchases": pu}[key]
        for col in spec.columns:  # every schema column present, computed ones blank
            if col.key not in df:
                df[col.key] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]") if col.kind is Kind.DATE else (
                    np.nan if col.kind in (Kind.MONEY, Kind.NUMBER) else None)
    frame = frame[list(schema.CUSTOMERS.keys)]
    fu, pu = fu[list(schema.FOLLOWUPS.keys)], pu[list(schema.PURCHASES.keys)]
    items.sort(key=lambda d: (d.sheet, d.row, d.column or ""))
    return Sample(frame, fu, pu, lang, owners, {k: v for k, v in overrides.items() if v}, items)


def generate_frames(
    customers: int = 300,
    followups: int = 2000,
    purchases: int = 600,
    *,
    lang: str = "zh-CN",
    seed: int = 7,
    today: dt.date = TODAY,
    dirt: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(customers, followups, purchases) with the values a user would type (see `Sample.display_frames`)."""
    return generate_sample(customers, followups, purchases, lang=lang, seed=seed, today=today, dirt=dirt).display_frames()


def generate_workbook(
    path: Path,
    customers: int = 300,
    followups: int = 2000,
    purchases: int = 600,
    *,
    lang: str = "zh-CN",
    seed: int = 7,
    today: dt.date = TODAY,
    dirt: bool = True,
    manifest: bool = False,
) -> Path:
    """Write a complete sample CRM workbook (template + data). Big sizes stream (constant memory).
    With `manifest`, the dirt list is written beside it as `<stem>.dirt.json`."""
    sample = generate_sample(customers, followups, purchases, lang=lang, seed=seed, today=today, dirt=dirt)
    frames = {**sample.frames(), "service": service_frame(sample.customers, lang, today, seed)}  # 服务记录
    path = write_crm_workbook(Path(path), lang, owners=sample.owners, frames=frames, overrides=sample.overrides)
    if manifest:
        write_manifest(sample, path.with_suffix(".dirt.json"))
    return path


def write_manifest(sample: Sample, path: Path) -> Path:
    data = {
        "lang": sample.lang,
        "rows": {k: len(f) for k, f in sample.frames().items()},
        "dirt": [d.to_json(sample.lang) for d in sample.dirt],
    }
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate xlcrm sample workbooks / 生成 xlcrm 示例工作簿")
    parser.add_argument("--out", type=Path, default=Path("sample_workbooks"), help="output folder / 输出文件夹")
    parser.add_argument("--size", choices=sorted(SIZES), default="S", help="S = 300/2,000/600, M = 100k/1M/300k, L = 1M/1M/1M")
    parser.add_argument("--lang", choices=[*schema.LANGS, "both"], default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-dirt", action="store_true", help="clean data / 不加入脏数据")
    args = parser.parse_args(argv)
    langs = list(schema.LANGS) if args.lang in (None, "both") and args.size == "S" else [args.lang or "zh-CN"]
    c, f, p = SIZES[args.size]
    for lang in langs:
        name = SAMPLE_FILES[lang] if args.size == "S" else f"xlcrm_{args.size}_{'en' if lang == 'en' else 'zh'}.xlsx"
        start = time.perf_counter()
        out = generate_workbook(args.out / name, c, f, p, lang=lang, seed=args.seed, dirt=not args.no_dirt, manifest=True)
        print(f"{out}  {out.stat().st_size / 1e6:.1f} MB  {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
