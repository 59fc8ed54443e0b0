"""Just enough VBA and AppleScript to replay how xlwings builds a Mac RunPython command line.

Executes the straight-line statements of a VBA procedure (assignments, `If … Then / Else /
End If`, `#If Mac Then / #Else / #End If` taking the Mac branch) with string expressions made of
literals, variables, `&` / `+` / `-` and the functions a test provides. Anything else raises, so
a change in xlwings' code shows up as a failing test rather than a silently skipped line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"]|"")*")|(?P<num>\d+)|(?P<name>[A-Za-z_][\w.]*\$?)|(?P<op>[&+\-(),=]))')


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read VBA expression at {expr[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class Vba:
    def __init__(self, variables: dict[str, object], functions: dict[str, Callable]):
        self.vars = {k.lower(): v for k, v in variables.items()}
        self.funcs = {k.lower(): f for k, f in functions.items()}

    def eval(self, expr: str) -> object:
        toks = _tokens(expr)
        value, rest = self._expr(toks)
        if rest:
            raise ValueError(f"unexpected {rest[0]!r} in {expr!r}")
        return value

    def _expr(self, toks):
        left, toks = self._term(toks)
        while toks and toks[0][1] in ("&", "+", "-"):
            op = toks[0][1]
            right, toks = self._term(toks[1:])
            if op == "&":
                left = f"{left}{right}"
            elif op == "+":
                left = left + right
            else:
                left = left - right
        return left, toks

    def _term(self, toks):
        kind, text = toks[0]
        toks = toks[1:]
        if kind == "str":
            return text[1:-1].replace('""', '"'), toks
        if kind == "num":
            return int(text), toks
        if text == "(":
            value, toks = self._expr(toks)
            return value, toks[1:]
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        if toks and toks[0][1] == "(":
            args, toks = [], toks[1:]
            while toks[0][1] != ")":
                value, toks = self._expr(toks)
                args.append(value)
                if toks[0][1] == ",":
                    toks = toks[1:]
            return self.funcs[text.lower()](*args), toks[1:]
        if text.lower() in self.funcs:
            return self.funcs[text.lower()](), toks
        return self.vars[text.lower()], toks

    def condition(self, text: str) -> bool:
        """`a = b`, `a <> b`, joined by `And`."""
        result = True
        for part in text.split(" And "):
            op = " <> " if " <> " in part else " = "
            left, right = part.rsplit(op, 1)
            result = result and ((self.eval(left) == self.eval(right)) is (op == " = "))
        return result

    def run(self, lines: list[str]) -> None:
        """Execute statements; `If`/`#If Mac` blocks choose a branch, other lines must be assignments."""
        stack: list[bool] = []  # is the current branch taken?
        for raw in lines:
            line = re.sub(r"\s+'[^\"]*$", "", raw).strip()  # trailing comment without quotes
            if not line or line.startswith("'"):
                continue
            low = line.lower()
            active = all(stack)
            if low == "#if mac then":
                stack.append(True)
            elif low.startswith("if ") and low.endswith(" then"):
                stack.append(active and self.condition(line[3:-5]))
            elif low in ("#else", "else"):
                stack[-1] = not stack[-1]
            elif low in ("#end if", "end if"):
                stack.pop()
            elif not active:
                continue
            else:
                m = re.match(r"^([A-Za-z_]\w*)\s*=\s*(.+)$", line)
                if not m:
                    raise ValueError(f"not a statement the simulator knows: {line!r}")
                self.vars[m.group(1).lower()] = self.eval(m.group(2))


def procedure(module: str, name: str) -> list[str]:
    """The body lines of `Sub name` / `Function name` in module text."""
    m = re.search(rf"^(?:Public |Private )?(Sub|Function) {name}\(.*?$(.*?)^End \1", module, re.M | re.S)
    if not m:
        raise ValueError(f"{name} not found")
    return m.group(2).splitlines()


def applescript_shell_command(script: str, fields: dict[str, str]) -> str:
    """Evaluate `set ShellCommand to …` of xlwings' AppleScript with the handler's split fields."""
    m = re.search(r"set ShellCommand to (.*?)\n\ttry", script, re.S)
    if not m:
        raise ValueError("ShellCommand not found in the AppleScript")
    expr = m.group(1).replace("¬\n", " ")
    out, pos = [], 0
    for part in re.finditer(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\w+))\s*(?:&|$)', expr):
        if part.start() != pos:
            raise ValueError(f"cannot read AppleScript at {expr[pos:]!r}")
        pos = part.end()
        if part.group(2):
            out.append(fields[part.group(2)])
        else:  # AppleScript string literal: \" and \\ escapes
            out.append(re.sub(r"\\(.)", r"\1", part.group(1)))
    if pos != len(expr.rstrip()):
        raise ValueError(f"cannot read AppleScript at {expr[pos:]!r}")
    return "".join(out)
