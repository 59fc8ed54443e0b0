"""The dedupe output as plain JSON, to prove a refactor changes no pair, score or reason.

    .venv/bin/python tests/dedupe_snapshot.py > tests/data/dedupe_snapshot.json   # only when a change is meant

Covers the two sample workbooks (what the Duplicates sheet shows) and a generated Chinese set
(every matching rule fires there). Scores are rounded to 9 digits: float noise is no change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from xlcrm.ops.dedupe import DedupeConfig, find_duplicates, reasons_text  # noqa: E402
from xlcrm.ops.dedupe_quality import chinese_quality_set  # noqa: E402
from xlcrm.workbook.reader import read_book  # noqa: E402

SAMPLES = ("xlcrm_sample_zh.xlsx", "xlcrm_sample_en.xlsx")


def _result_json(customers, config: DedupeConfig) -> dict:
    result = find_duplicates(customers, config)
    pairs = [
        {"a": str(r["a"]), "b": str(r["b"]), "score": round(float(r["score"]), 9),
         "weight": round(float(r["weight"]), 9),
         "zh": reasons_text(r["reasons"], "zh-CN"), "en": reasons_text(r["reasons"], "en")}
        for r in result.pairs.to_dict("records")
    ]
    return {"candidates": int(result.candidates), "pairs": pairs,
            "clusters": [[str(x) for x in c] for c in result.clusters]}


def snapshot() -> dict:
    out = {}
    for name in SAMPLES:
        book = read_book(REPO / "sample_workbooks" / name)
        out[name] = _result_json(book.customers, DedupeConfig.from_settings(book.settings))
    df, _ = chinese_quality_set(1500, seed=5)
    out["chinese_quality_set(1500, seed=5)"] = _result_json(df, DedupeConfig())
    return out


def dumps(snap: dict) -> str:
    """JSON with one pair per line: small, and a changed pair shows as one changed line."""
    line = lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True)  # noqa: E731
    parts = []
    for name in sorted(snap):
        s = snap[name]
        pairs = ",\n".join("    " + line(p) for p in s["pairs"])
        parts.append(f'  {line(name)}: {{"candidates": {s["candidates"]}, "clusters": {line(s["clusters"])},\n'
                     f'   "pairs": [\n{pairs}\n  ]}}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


if __name__ == "__main__":
    sys.stdout.write(dumps(snapshot()))
