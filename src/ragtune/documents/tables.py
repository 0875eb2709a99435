"""Tables as text: each row one line with its table's title and its column headers (docs/INTERFACES: the table-row
format), from cell grids (HTML, DOCX, Markdown) or from the positioned words of a PDF page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.values import amounts

_MARK = re.compile(r"^(?:[—–-]+|[$€£%)]|n/?m)$", re.IGNORECASE)
"""Cell words that stand for a value without a number: a dash, a lone currency sign or "%", "n/m"."""
_VALUE_CHARS = frozenset("0123456789,.()%+-\u2212")
_SCALE = re.compile(r"\b(?:in|of)\s+(?:millions|thousands|billions)\b|\$\s*(?:and\s+\w+\s+)?in\s+(?:millions|thousands|"
                    r"billions)", re.IGNORECASE)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_FOOTNOTE = re.compile(r"^(?:\d{1,2}|\*+|\(\w\))\s+\S")
_CURRENCY = ("$", "€", "£")
_CURRENCY_SIGNS = str.maketrans("", "", "".join(_CURRENCY))
_LEADER = re.compile(r"(?:\s*\.){3,}\s*$")
"""Dot leaders that run from a row label to its first column ("Total assets.........")."""
_BOILERPLATE = re.compile(r"^(?:table\s*of\s*contents|index|page\s*\d+|\d{1,4}|[ivxlc]{1,6})$", re.IGNORECASE)


def row_line(title: str | None, label: str, cells: list[tuple[str, str]]) -> str:
    """One table row: ``title | label | header: cell | ...`` (an empty title or header is left out)."""
    parts = [title] if title else []
    parts.append(_LEADER.sub("", label))
    parts.extend(f"{h}: {c}" if h else c for h, c in cells if c)
    return " | ".join(" ".join(p.split()) for p in parts)


def grid_rows(grid: list[list[str]], title: str | None = None, header_rows: int = 1) -> list[str]:
    """Row lines of a table given as cell text, row by row: the first ``header_rows`` rows are the column headers
    (joined with a space per column), the first column of each other row is its label."""
    grid = [[" ".join(c.split()) for c in row] for row in grid if any(c.strip() for c in row)]
    if not grid:
        return []
    width = max(len(r) for r in grid)
    grid = [r + [""] * (width - len(r)) for r in grid]
    if len(grid) > header_rows:
        heads, body = [" ".join(dict.fromkeys(r[j] for r in grid[:header_rows] if r[j])) for j in range(width)], \
            grid[header_rows:]
    else:  # headers only: nothing to label the cells with
        heads, body = [""] * width, grid
    return [row_line(title, r[0], list(zip(heads[1:], r[1:], strict=True))) for r in body if any(r[1:])]


_MD_TABLE = re.compile(r"^[ \t]*\|?.*\|.*\n[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*\n"
                       r"(?:[ \t]*\|?.*\|.*(?:\n|$))*", re.MULTILINE)
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _md_cells(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") else line
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)]


def markdown_tables(text: str) -> str:
    """``text`` with each Markdown pipe table replaced by its row lines (title: the nearest heading above it)."""
    def rows(m: re.Match[str]) -> str:
        lines = m.group().rstrip("\n").splitlines()
        heading = None
        for h in _MD_HEADING.finditer(text, 0, m.start()):
            heading = h.group(1)
        grid = [_md_cells(lines[0]), *(_md_cells(ln) for ln in lines[2:])]
        return "\n".join(grid_rows(grid, heading)) + "\n"

    return _MD_TABLE.sub(rows, text)


@dataclass
class Word:
    text: str
    x0: float
    x1: float


def _is_value(text: str) -> bool:
    """A word that prints a cell's value: one number as the value grammar reads it (sign, parentheses, "$", "%"),
    or a mark."""
    if _MARK.match(text):
        return True
    bare = text.translate(_CURRENCY_SIGNS)
    found = amounts(bare) if bare and set(bare) <= _VALUE_CHARS else []
    return len(found) == 1 and found[0].end == len(bare) and set(bare[:found[0].start]) <= set("+-\u2212(")


def _cells(words: list[Word], gap: float) -> list[Word]:
    """Words merged into cells where they are closer than ``gap``."""
    out: list[Word] = []
    for w in words:
        if out and w.x0 - out[-1].x1 < gap:
            out[-1] = Word(f"{out[-1].text} {w.text}", out[-1].x0, w.x1)
        else:
            out.append(Word(w.text, w.x0, w.x1))
    return out


def _split_row(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """(label words, value cells) of a line: the values are the run of number-like words at its right end, a
    currency sign joined to the number after it and a percent sign to the number before it."""
    i = len(words)
    while i > 0 and _is_value(words[i - 1].text):
        i -= 1
    values: list[Word] = []
    for w in words[i:]:
        if values and (values[-1].text in _CURRENCY or w.text in ("%", ")")):
            values[-1] = Word(values[-1].text + w.text, values[-1].x0, w.x1)
        else:
            values.append(w)
    values = [v for v in values if v.text not in _CURRENCY]
    return words[:i], values


def _columns(rows: list[list[Word]], tol: float) -> list[tuple[float, float]]:
    """Column extents from the value cells of the data rows, clustered by their right edges (numbers align right)."""
    cells = sorted((v for r in rows for v in r), key=lambda v: v.x1)
    cols: list[list[Word]] = []
    for v in cells:
        if cols and v.x1 - cols[-1][-1].x1 <= tol:
            cols[-1].append(v)
        else:
            cols.append([v])
    return [(min(c.x0 for c in col), max(c.x1 for c in col)) for col in cols]


def _nearest(cols: list[tuple[float, float]], x0: float, x1: float) -> int:
    mid = (x0 + x1) / 2
    return min(range(len(cols)), key=lambda j: abs((cols[j][0] + cols[j][1]) / 2 - mid))


def page_tables(lines: list[list[Word]], gap: float, min_rows: int = 3) -> list[str]:
    """The text of a page whose lines are given as positioned words (left to right): runs of at least ``min_rows``
    lines with a label and values become row lines with the headers above them and the title above those; other
    lines are kept as they are. ``gap``: the space between words that separates two cells."""
    parsed = [_split_row(ln) for ln in lines]
    is_row = [bool(label) and bool(values) and not all(_YEAR.match(v.text) for v in values) for label, values in parsed]
    used = [False] * len(lines)
    blocks: dict[int, tuple[int, list[str]]] = {}  # first line of a table (its title) -> (end, row lines)
    for start, end in _runs(lines, is_row, min_rows):
        cols = _columns([parsed[k][1] for k in range(start, end) if is_row[k]], tol=2 * gap)
        top, h, names, stubs = _headers(lines, is_row, used, start, cols, gap)
        t, title = _title(lines, is_row, used, h, end, stubs)
        body = []
        for k in range(top, end):
            label, values = parsed[k]
            if not is_row[k]:
                body.append(" ".join(w.text for w in lines[k]))
                continue
            cells = [(names[_nearest(cols, v.x0, v.x1)] if len(values) <= len(cols) else "", v.text) for v in values]
            body.append(row_line(title, " ".join(w.text for w in label), cells))
        used[t:end] = [True] * (end - t)
        blocks[t] = (end, body)
    out: list[str] = []
    k = 0
    while k < len(lines):
        if k in blocks:
            k, body = blocks[k]
            out.extend(["", *body, ""])
        else:
            out.append(" ".join(w.text for w in lines[k]))
            k += 1
    return out


def _runs(lines: list[list[Word]], is_row: list[bool], min_rows: int) -> list[tuple[int, int]]:
    """(start, end) of the runs of row lines (short captions between them allowed) with ``min_rows`` rows or more."""
    runs, i, n = [], 0, len(lines)
    while i < n:
        if not is_row[i]:
            i += 1
            continue
        j, rows, last = i, 0, i
        while j < n and (is_row[j] or _inner(lines[j])):
            if is_row[j]:
                rows, last = rows + 1, j
            j += 1
        if rows >= min_rows:
            runs.append((i, last + 1))
        i = j
    return runs


def _headers(lines: list[list[Word]], is_row: list[bool], used: list[bool], start: int,
             cols: list[tuple[float, float]], gap: float) -> tuple[int, int, list[str], list[str]]:
    """The column headers above the rows starting at ``start``: (first line of the table body, including captions
    right above the rows; first header line; a header per column; text left of the columns on header lines)."""
    left = min(c[0] for c in cols)
    h, top = start, start
    header_lines: list[list[Word]] = []
    stubs: list[str] = []
    while h > 0 and len(header_lines) < 4 and not used[h - 1] and not is_row[h - 1]:
        ws = lines[h - 1]
        inside = [w for w in ws if w.x1 > left - gap]
        if _is_prose(ws) or not (inside or (not header_lines and start - h < 2 and _inner(ws))):
            break
        h -= 1
        if not inside:  # a caption of the rows ("Current assets:"), kept in the body
            top = h
            continue
        header_lines.insert(0, inside)
        stub = " ".join(w.text for w in ws if w.x1 <= left - gap)
        if stub:
            stubs.insert(0, stub)
    heads: list[list[str]] = [[] for _ in cols]
    for ws in header_lines:
        cells = _cells(ws, gap)
        if len(cells) >= len(cols):
            for c in cells:
                heads[_nearest(cols, c.x0, c.x1)].append(c.text)
        else:  # a spanning header ("Years Ended", "Q4 ... Full Year"): each column takes the nearest cell
            for j, col in enumerate(cols):
                heads[j].append(min(cells, key=lambda c, col=col: abs((c.x0 + c.x1 - col[0] - col[1]) / 2)).text)
    return top, h, [" ".join(dict.fromkeys(hs)) for hs in heads], stubs


def _title(lines: list[list[Word]], is_row: list[bool], used: list[bool], h: int, end: int,
           stubs: list[str]) -> tuple[int, str]:
    """(first line, title) of the table whose headers start at line ``h``: up to two short lines above them (no
    running header, page number or footnote), the header lines' text left of the columns, and the scale note."""
    t, title_lines = h, []
    while t > 0 and len(title_lines) < 2 and not used[t - 1] and not is_row[t - 1]:
        text = " ".join(w.text for w in lines[t - 1])
        if _is_prose(lines[t - 1]) or _FOOTNOTE.match(text):
            break
        if not _BOILERPLATE.match(text.strip()):
            title_lines.insert(0, text)
        t -= 1
    title = " ".join(title_lines + stubs)
    if not _SCALE.search(title):
        scale = next((" ".join(w.text for w in ln) for ln in lines[max(0, t - 3):end]
                      if len(ln) < 14 and _SCALE.search(" ".join(w.text for w in ln))), None)
        title = f"{title} {scale}".strip() if scale else title
    return t, title


def _is_prose(words: list[Word]) -> bool:
    text = " ".join(w.text for w in words)
    return len(words) > 14 or (len(words) > 6 and text.rstrip().endswith("."))


def _inner(words: list[Word]) -> bool:
    """A line inside a table that is no row: a short caption of the rows below ("Current assets:")."""
    return 0 < len(words) <= 14 and not _is_prose(words)
