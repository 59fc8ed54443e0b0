"""A block's `<row>` elements joined column-wise by polars (Rust, on every core, without the GIL).

Python builds a list's rows at ~0.6 µs a cell (the L book's Due Today: 9.4M cells, 5.5 s of its
9.5 s). Here the same pieces — `columns.cell_shapes`, the grammar `columns.cells_xml` writes cell
by cell — are joined by `polars.concat_str` a slice of rows at a time (and a computed column's
cells per row, `cells_joined`). Where polars is not installed, or for a block too small to be worth
loading it (`worth_it`), the caller joins them in Python; tests compare the two byte for byte.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .cellxml import cell_tags
from .columns import Kinds, Shape, cell_shapes

# Below this many cells Python joins a block about as fast as polars is loaded (0.1 s from a warm
# disk, more from a cold one: its library is 170 MB), so small books never load it.
MIN_CELLS = 200_000
_UNTRIED = object()
pl = _UNTRIED  # polars once imported; None where it is not installed (optional: Python joins then)


def _polars():
    global pl
    if pl is _UNTRIED:
        try:
            with warnings.catch_warnings():
                # polars warns, and then crashes, on a processor without the instructions its build
                # needs (an old office PC): there, as where it is not installed, Python joins instead.
                warnings.simplefilter("error", RuntimeWarning)
                import polars
        except Exception:  # ImportError, that warning, or any other failure to load
            pl = None
        else:
            pl = polars
    return pl


def installed() -> bool:
    return _polars() is not None


def worth_it(cells: int) -> bool:
    """Whether to join this many cells with polars."""
    return cells >= MIN_CELLS and installed()


@dataclass
class PreparedColumn:
    """One column's pieces, ready to join: cell i is `open + row + shapes[codes[i]][0] + texts[i] +
    shapes[codes[i]][1]`, or nothing when that shape is None (see `columns.cell_shapes`)."""

    open: str
    codes: np.ndarray
    shapes: list[Shape]
    texts: list[str]  # or, once `compact`, a polars String Series of the same texts

    @classmethod
    def of(cls, p: str, letter: str, kinds: Kinds, texts: list[str], sattr: Callable[[str, int], str | None],
           variants: list[int] | None = None) -> PreparedColumn:
        """A column's cells (`cells_xml`'s arguments); its styles are derived here, in cells_xml's order."""
        codes, shapes = cell_shapes(p, kinds, texts, sattr, variants)
        return cls(cell_tags(p).open + letter, codes, shapes, texts)

    def compact(self) -> PreparedColumn:
        """This column with its texts as one Arrow column instead of a str object per cell: a block's
        columns wait for each other before `rows_xml` joins them, and the L book's Due Today held its
        9.4M cells as Python strs (~0.6 GB) while they did; as Arrow they take ~0.1 GB."""
        codes = self.codes.astype(np.uint8 if len(self.shapes) <= 256 else np.uint32)  # (int64: 8 bytes a cell)
        return PreparedColumn(self.open, codes, self.shapes, _text_series(self.texts))

    def aligned(self, positions: np.ndarray, n: int) -> PreparedColumn:
        """This column's cells at `positions` of n rows, nothing in the others."""
        if len(positions) == n:
            return self
        codes = np.full(n, len(self.shapes), dtype=np.int64)  # the appended None: nothing
        codes[positions] = self.codes
        texts = np.full(n, "", dtype=object)
        texts[positions] = self.texts
        return PreparedColumn(self.open, codes, [*self.shapes, None], texts.tolist())


def rows_xml(p: str, columns: list[PreparedColumn], first: int, n: int, heights: list[str] | None,
             rows_per_piece: int) -> Iterator[bytes]:
    """The UTF-8 `<row>` elements of rows first..first+n-1, `rows_per_piece` rows to a piece, each
    piece joined only when it is taken.

    `heights[i]` is row i's height attributes ("" for none); None when no row has any."""
    if n == 0 or not columns:
        return
    pl = _polars()
    data: dict[str, object] = {"r": pl.int_range(first, first + n, eager=True).cast(pl.String)}
    if heights is not None:
        data["h"] = pl.Series(heights, dtype=pl.String)
    cells = []
    for j, column in enumerate(columns):
        data[f"t{j}"] = _text_series(column.texts)
        cells.append(_cell_expr(j, column, data))
    frame = pl.DataFrame(data)
    row = pl.concat_str([pl.lit('<row r="'), pl.col("r"), pl.lit('"'),
                         pl.col("h") if heights is not None else pl.lit(""), pl.lit(">"), *cells, pl.lit("</row>")])
    for start in range(0, n, rows_per_piece):
        yield _utf8(frame.slice(start, rows_per_piece).select(row.alias("x")).to_series())


def cells_joined(columns: list[PreparedColumn], rows: list[int]) -> list[bytes]:
    """Per row, its cells of every column side by side (a row's `<c>` elements, no row tag), as UTF-8.

    Each column is aligned to `rows` (`texts[i]` is row `rows[i]`'s; see `PreparedColumn.aligned`).
    The rows are cut from the joined column's Arrow data (one copy), never made Python strs first:
    `to_list` and an `encode` per row were a fifth of Basic Info's rendering in a profile of the L book."""
    pl = _polars()
    data: dict[str, object] = {"r": pl.Series(rows, dtype=pl.Int64).cast(pl.String)}
    cells = [_cell_expr(j, column, data) for j, column in enumerate(columns)]
    for j, column in enumerate(columns):
        data[f"t{j}"] = _text_series(column.texts)
    # with_columns, not select: a column whose cells are all left out is a literal, and a select of
    # literals alone would give one row, not one per row.
    return _utf8_rows(pl.DataFrame(data).with_columns(pl.concat_str(cells).alias("x"))["x"])


def _text_series(texts):
    """A column's texts as a polars String Series (as they are, if they are one already)."""
    pl = _polars()
    return texts if isinstance(texts, pl.Series) else pl.Series(texts, dtype=pl.String)


def _cell_expr(j: int, column: PreparedColumn, data: dict):
    """The polars expression of column j's cells; the per-cell pieces it needs are added to `data`."""
    pl = _polars()
    shapes = column.shapes
    kept = [s is not None for s in shapes]
    if len(shapes) == 1:  # one shape for the whole column (the usual case): plain literals
        if shapes[0] is None:
            return pl.lit("")
        middle, tail = pl.lit(shapes[0][0]), pl.lit(shapes[0][1])
    else:  # each row's shape looked up as its rows are joined: a column of them would be a string a cell
        data[f"c{j}"] = pl.Series(column.codes, dtype=pl.UInt32)
        codes = list(range(len(shapes)))
        middle, tail = (pl.col(f"c{j}").replace_strict(codes, [s[side] if s else "" for s in shapes],
                                                       return_dtype=pl.String) for side in (0, 1))
    cell = pl.concat_str([pl.lit(column.open), pl.col("r"), middle, pl.col(f"t{j}"), tail])
    if all(kept):
        return cell
    data[f"k{j}"] = pl.Series(np.asarray(kept, dtype=bool)[column.codes])
    return pl.when(pl.col(f"k{j}")).then(cell).otherwise(pl.lit(""))


def _utf8_rows(series) -> list[bytes]:
    """Each value of a string column (no nulls) as its UTF-8 bytes."""
    out: list[bytes] = []
    for chunk, offsets in _arrow_chunks(series):
        if chunk.null_count:
            raise ValueError("a joined row is null")  # concat_str of a null: a text that was None
        base = int(offsets[0])
        blob = chunk.buffers()[2].slice(base, int(offsets[-1]) - base).to_pybytes()
        bounds = (offsets - base).tolist()
        out += [blob[a:b] for a, b in zip(bounds, bounds[1:])]
    return out


def _arrow_chunks(series):
    """(large_string chunk, its value offsets) of a polars string column, chunk by chunk."""
    import pyarrow as pa

    chunks = series.to_arrow()
    for chunk in (chunks.chunks if isinstance(chunks, pa.ChunkedArray) else [chunks]):
        if not pa.types.is_large_string(chunk.type):
            chunk = chunk.cast(pa.large_string())
        yield chunk, np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]


def _utf8(series) -> bytes:
    """The concatenated UTF-8 of a string column (its Arrow data buffers, copied once)."""
    out = []
    for chunk, offsets in _arrow_chunks(series):
        if len(offsets) > 1:
            out.append(chunk.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes())
    return b"".join(out)
