"""The same command on the same workbook writes the same bytes, whatever Python's hash seed.

Style records used to be added in set order, so two identical runs wrote styles.xml (and the style
indexes in the sheets) differently — harmless to Excel, but it defeats diffing and reproducible builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path


def _run_due(sample: Path, folder: Path, seed: int) -> dict[str, bytes]:
    book = folder / f"seed{seed}.xlsx"
    shutil.copyfile(sample, book)
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    subprocess.run([sys.executable, "-m", "xlcrm", "due", str(book), "--today", "2026-11-20"], check=True,
                   env=env, capture_output=True)
    with zipfile.ZipFile(book) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_due_writes_the_same_bytes_under_any_hash_seed(sample_zh: Path, tmp_path: Path) -> None:
    first = _run_due(sample_zh, tmp_path, 1)
    second = _run_due(sample_zh, tmp_path, 2)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
