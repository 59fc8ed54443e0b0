"""Refactoring the matcher must not move a single pair: compare with the JSON taken before it."""

from __future__ import annotations

import json
from pathlib import Path

from dedupe_snapshot import snapshot

SNAPSHOT = Path(__file__).parent / "data" / "dedupe_snapshot.json"


def test_dedupe_output_matches_the_snapshot():
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(snapshot(), ensure_ascii=False))
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name]["clusters"] == expected[name]["clusters"], name
        assert got[name]["candidates"] == expected[name]["candidates"], name
        assert got[name]["pairs"] == expected[name]["pairs"], name
    # the samples have duplicates planted on purpose: an empty result would be a broken test
    assert all(expected[name]["pairs"] for name in expected)


def test_the_duplicates_sheet_matches_the_snapshot():
    """What the user sees: the 查重 / Duplicates sheet `dedupe` writes on both samples, cell for cell."""
    from duplicates_sheet_snapshot import snapshot as sheet_snapshot

    expected = json.loads((SNAPSHOT.parent / "duplicates_sheet_snapshot.json").read_text(encoding="utf-8"))
    got = sheet_snapshot()
    assert got.keys() == expected.keys()
    for lang in expected:
        assert len(expected[lang]) > 10, lang  # header + planted duplicate groups
        assert got[lang] == expected[lang], lang
