"""Tool sheets built ahead, in a forked child, while the write edits the user's sheets.

Why: the write's main thread renders Basic Info and the sheets that get marks, then builds the tool
sheets (Due Today, Issues, … — the M book: 0.75–1.0 s), one after the other on one core, while the
other core only deflates and checks what is done. A tool sheet needs nothing the earlier edits make
but style indexes: each cell format it uses is derived in styles.xml (`StyleBook.derive`), and a
format that is new there takes the next free index, so the numbers depend on what was derived
before — by Basic Info's computed cells and the marks, in the parent, while the child builds.

So a child forked before the first edit (`xlcrm.forked`: it sees the plan and the package
copy-on-write) builds the sheets with its own copy of the StyleBook. A format the book had at the
fork keeps its index (it is found by its content, in the parent too); a new one is written as a
token of the same width as the index it will likely get (` s="\\x01#A"` for a three-digit index),
and the child notes every derive it made. When the write reaches a sheet's own edit, `take` makes
those derives again, in the same order — the very derives the build in the parent would make there,
so styles.xml is numbered as it always was — and writes each token's index over it in place. A
token is unmistakable: escaped cell text never holds a \\x01 (XML forbids it; `escape_text` drops
it), and each one found must sit in an ` s="…"` attribute. An index of another width (or 0, which
is no attribute at all) is put in by a slower pass. The child also finds the tokens and checks the
sheet's XML with digits in their place, so the parent, which writes only digits there, need not
parse it again; a thread takes the child's result off the pipe as soon as it comes.

Only for SheetReplace edits without charts whose sheet no other edit of the plan touches, and only
for enough cells to be worth a process and few enough to take back at once (the L book's tool
sheets stay in the parent, built and freed one at a time under `HELD_BUDGET`). The child joins rows
in Python, never with polars, whose thread pool does not survive a fork (the bytes are the same).
Anything odd — no child, a child that failed, another code name, a format the book had with
another index, a token that is not in place — and that sheet is built in the parent as usual.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ...forked import Forked
from ..edits import CellStyle, EditPlan, SheetReplace
from ..package_check import well_formed
from .toolsheet import ToolSheetXml, build_tool_sheet, code_name_of

MIN_CELLS = 200_000  # below this the sheets take ~0.2 s: not worth a process
MAX_CELLS = 4_000_000  # above this their XML (40+ bytes a cell) is more than the parent should take at once
# The sheets are wanted only once the user's sheets are edited: the child yields the cores to the
# parent and to the streamed sheets' scan, which the parent waits for sooner.
NICE = 10
MARK = 0x01  # starts a token; never in a sheet's XML otherwise
_FIRST_LETTER, _LETTERS = 0x23, 92  # a token's number, after the mark, in the ASCII characters # … ~ (no quote)
_ATTR = b' s="'


class ChildStyles:
    """The child's StyleBook, as `build_tool_sheet` sees it: formats the book had keep their index,
    new ones get a token `width` characters wide; every derive is logged for `take`."""

    def __init__(self, book, width: int):
        self.book = book
        self.first_new = book.format_count  # formats from here on were derived in the child
        self.width = width
        self.log: list[tuple[CellStyle, int]] = []

    def derive(self, base: int | None, style: CellStyle) -> int | str:
        index = self.book.derive(base, style)
        self.log.append((style, index))
        if index < self.first_new:
            return index
        return _token(index - self.first_new, self.width)


@dataclass
class _Built:
    """One tool sheet as the child built it."""

    sheet: ToolSheetXml  # its XML (a bytearray) with tokens for the formats new in the child
    at: np.ndarray  # where the tokens are
    number: np.ndarray  # and which each is
    log: list[tuple[CellStyle, int]]  # every derive the build made, with the child's index, in order
    first_new: int  # the child's indexes from here on are tokens
    width: int  # of each token
    code_name: str | None  # the sheet's code name it kept
    warned: list[tuple[Warning, type]]  # what the build warned, to be warned again in the parent


class TokenSpace(Exception):
    """More new formats than tokens of this width can number."""


def _token(k: int, width: int) -> str:
    letters = []
    for _ in range(width - 1):
        k, digit = divmod(k, _LETTERS)
        letters.append(chr(_FIRST_LETTER + digit))
    if k:
        raise TokenSpace
    return chr(MARK) + "".join(reversed(letters))


def _token_width(formats: int) -> int:
    """The width of the indexes the next new formats will likely get (at least two: a mark and a letter)."""
    return max(2, len(str(formats)))


class ToolSheetsAhead:
    """The plan's tool sheets, built in a forked child (see the module doc); `take` one when its edit comes."""

    def __init__(self, editor, plan: EditPlan):
        self._index: dict[int, int] = {}  # id(edit) → its place in the plan
        self._built: dict[int, _Built | None] | None = None  # by place in the plan, once received
        self._forked: Forked | None = None
        self._receiver: threading.Thread | None = None
        edits = _candidates(plan)
        if not edits:
            return
        cells = sum(len(b.df) * max(len(b.df.columns), 1) for _, edit in edits for b in edit.blocks)
        pkg, wb, styles = editor.pkg, editor.wb, editor.styles
        parent = os.getpid()

        def build_all() -> dict[int, _Built | None] | None:
            if os.getpid() == parent:  # the child failed: each sheet is built when its edit comes
                return None
            child_styles = ChildStyles(styles, _token_width(styles.format_count))
            out: dict[int, _Built | None] = {}
            for i, edit in edits:
                entry = wb.find(edit.sheet)
                code_name = code_name_of(pkg.read(entry.part)) if entry is not None and pkg.exists(entry.part) else None
                child_styles.log = []
                try:
                    with warnings.catch_warnings(record=True) as caught:  # warned again by `take`, in the parent
                        warnings.simplefilter("always")
                        built = build_tool_sheet(edit, child_styles, code_name=code_name, polars=False)
                except TokenSpace:
                    out[i] = None
                    continue
                # Sent as a bytearray, so the parent writes the indexes into it in place; the tokens
                # are found here, on this core.
                built.xml = bytearray().join(built.xml)
                tokens = _find_tokens(built.xml, child_styles.width)
                if tokens is None:
                    out[i] = None
                    continue
                built.well_formed = _well_formed_with_digits(built.xml, tokens[0], child_styles.width)
                out[i] = _Built(built, *tokens, child_styles.log, child_styles.first_new, child_styles.width,
                                code_name, [(w.message, w.category) for w in caught])
            return out

        forked = Forked(build_all, worth_it=MIN_CELLS <= cells <= MAX_CELLS, nice=NICE)
        if forked.forked:  # else each sheet is built when its edit comes, as without this
            self._forked = forked
            self._index = {id(edit): i for i, edit in edits}
            # Taken off the pipe as soon as the child sends it (reading and waiting release the GIL),
            # not when the first sheet's edit comes.
            self._receiver = threading.Thread(target=self._receive, name="xlcrm-toolsheets", daemon=True)
            self._receiver.start()

    def _receive(self) -> None:
        try:
            self._built = self._forked.result() or {}
        except BaseException:  # noqa: BLE001 — (only an interpreter shutting down): built in the parent
            self._built = {}

    def take(self, edit: SheetReplace, styles, code_name: str | None) -> ToolSheetXml | None:
        """This edit's sheet with the workbook's style indexes in place, or None: build it here."""
        i = self._index.pop(id(edit), None)
        if i is None or self._forked is None:
            return None
        self._receiver.join()
        built = self._built.pop(i, None)
        if built is None or built.code_name != code_name:
            return None
        indexes: dict[int, int] = {}  # token number → the index the parent derives
        for style, child_index in built.log:  # the derives the build here would make, in its order
            index = styles.derive(None, style)
            if child_index < built.first_new:
                if index != child_index:
                    return None
            else:
                indexes[child_index - built.first_new] = index
        xml = _fill_tokens(built.sheet.xml, built.at, built.number, indexes, built.width)
        if xml is None:
            return None
        for message, category in built.warned:
            warnings.warn(message, category, stacklevel=2)
        # Checked in the child with digits for the tokens: digits in their place leave it well-formed.
        built.sheet.well_formed = built.sheet.well_formed and len(xml) == len(built.sheet.xml)
        built.sheet.xml = xml
        return built.sheet

    def __enter__(self) -> ToolSheetsAhead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the child and what it built (after the write, or when it failed: the child is
        then waited for — it only builds, and a hung one is killed after `forked.STALL_SECONDS`)."""
        if self._receiver is not None:
            self._receiver.join()
            self._receiver = None
        self._forked = None
        self._built = None


def _find_tokens(xml: bytes | bytearray, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(where, which): each token's position in `xml` and its number (in the child); None if a mark
    is not a token `width` wide in an ` s="…"` attribute."""
    data = np.frombuffer(xml, dtype=np.uint8)
    at = np.flatnonzero(data == MARK)
    if len(at) and (int(at[0]) < len(_ATTR) or int(at[-1]) + width >= data.size):
        return None
    for j, byte in enumerate(_ATTR):  # every mark opens an s="…" attribute …
        if not (data[at - len(_ATTR) + j] == byte).all():
            return None
    if not (data[at + width] == ord('"')).all():  # … that closes after `width` characters
        return None
    number = np.zeros(len(at), dtype=np.int64)
    for j in range(1, width):
        letter = data[at + j].astype(np.int64) - _FIRST_LETTER
        if ((letter < 0) | (letter >= _LETTERS)).any():
            return None
        number = number * _LETTERS + letter
    return at, number


def _well_formed_with_digits(xml: bytearray, at: np.ndarray, width: int) -> bool:
    """Is `xml` well-formed XML with each token as digits? (In the child, on its core: the parent, which
    writes only digits over the tokens, then need not parse the sheet again.)"""
    probe = bytearray(xml)
    data = np.frombuffer(probe, dtype=np.uint8)
    for j in range(width):
        data[at + j] = ord("1")
    return well_formed(bytes(probe)) is None


def _fill_tokens(xml: bytearray, at: np.ndarray, number: np.ndarray, indexes: dict[int, int],
                 width: int) -> bytes | None:
    """`xml` with the token at each position `at` (`_find_tokens`) replaced by its number's index;
    None if one has no index. In place when every index is as wide as the tokens (the usual case);
    other widths and 0 (no attribute at all, as the parent's build writes it) by a slower pass.
    (A mark the child did not find would be left, and the written part's XML check refuses it.)"""
    if not len(at):
        return bytes(xml)
    known = np.fromiter(indexes, dtype=np.int64, count=len(indexes))
    data = np.frombuffer(xml, dtype=np.uint8)
    if not (np.isin(number, known).all() and (data[at] == MARK).all()):
        return None
    if all(index and len(str(index)) == width for index in indexes.values()):
        digits = np.zeros((max(indexes) + 1, width), dtype=np.uint8)
        for k, index in indexes.items():
            digits[k] = np.frombuffer(str(index).encode("ascii"), dtype=np.uint8)
        for j in range(width):
            data[at + j] = digits[number, j]
        return bytes(xml)
    texts = {_token(k, width).encode("latin-1"): (_ATTR + b"%d\"" % index if index else b"")
             for k, index in indexes.items()}
    return re.sub(rb' s="\x01[#-~]+"', lambda m: texts[m.group(0)[len(_ATTR):-1]], bytes(xml))


def _candidates(plan: EditPlan) -> list[tuple[int, SheetReplace]]:
    """(place in the plan, edit) of the SheetReplace edits without charts whose sheet only they touch."""
    touches = Counter(edit.sheet.casefold() for edit in plan.edits)
    return [
        (i, edit) for i, edit in enumerate(plan.edits)
        if isinstance(edit, SheetReplace) and not edit.charts and touches.get(edit.sheet.casefold()) == 1
    ]
