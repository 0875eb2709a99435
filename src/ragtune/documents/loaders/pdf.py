"""PDF text extraction with page numbers (PDFium through pypdfium2): each page's words with their positions,
grouped into lines top to bottom; with ``documents.tables`` the rows of its tables become row lines with their
headers (``ragtune.documents.tables``). Permission-only encryption (an empty user password, RC4 or AES) opens."""

from __future__ import annotations

import statistics
import threading
from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, loaders
from ragtune.documents.models import Page
from ragtune.documents.tables import Word, page_tables

_PDFIUM = threading.Lock()
"""PDFium is not thread-safe: one document is read at a time in a process."""
_BREAKS = frozenset("\x00\ufffe\ufeff")
_HYPHEN = str.maketrans({"\x02": "-", "\xad": "-"})
"""PDFium's marks for a hyphen at a line end."""
TABLE_GAP = 2.0
"""Words further apart than this many character widths are in different cells of a table row."""


@loaders.register("pdf")
class PdfLoader(Loader):
    suffixes = (".pdf",)
    paged = True

    def load(self, path: Path, data: bytes) -> list[Page]:
        import pypdfium2 as pdfium

        if not data.lstrip()[:5] == b"%PDF-":
            raise LoadError("not a PDF (no %PDF- header)")
        with _PDFIUM:
            try:
                pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as e:
                if "password" in str(e).lower():
                    raise LoadError("encrypted PDF: needs a password") from None
                raise LoadError(f"corrupt PDF: {e}") from None
            try:
                pages = [Page(i + 1, self.page_text(pdf[i])) for i in range(len(pdf))]
            except pdfium.PdfiumError as e:
                raise LoadError(f"corrupt PDF: {e}") from None
            finally:
                pdf.close()
        if not any(p.text.strip() for p in pages):
            raise LoadError("PDF has no extractable text (scanned? OCR it first)")
        return pages

    def page_text(self, page) -> str:
        """The page's lines, top to bottom; with tables, runs of table rows as row lines with their headers."""
        textpage = page.get_textpage()
        try:
            lines = page_lines(textpage)
        finally:
            textpage.close()
            page.close()
        if self.tables:
            return "\n".join(page_tables(lines, gap=TABLE_GAP)).strip()
        return "\n".join(" ".join(w.text for w in line) for line in lines)

    def title(self, path: Path, pages: list[Page]) -> str:
        return path.stem


def page_lines(textpage) -> list[list[Word]]:
    """The words of a PDFium text page as lines (top to bottom) of words (left to right), x in character widths
    (the page's median): a word ends at a space, a line break or a jump of half a line's height (back or forth);
    words whose bottoms are within 0.4 of a line's height share the line."""
    count = textpage.count_chars()
    text = textpage.get_text_range(0, count).translate(_HYPHEN) if count else ""
    words: list[list] = []  # [text, left, bottom, right, top]
    word: list | None = None
    for i, ch in enumerate(text):
        if ch.isspace() or ch in _BREAKS:
            word = None
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        height = top - bottom
        if word is not None and (abs(bottom - word[2]) > 0.5 * (word[4] - word[2] or 1)
                                 or abs(left - word[3]) > 0.5 * height):  # kerning overlaps; a jump is a new word
            word = None
        if word is None:
            word = [ch, left, bottom, right, top]
            words.append(word)
        else:
            word[0] += ch
            word[2], word[3], word[4] = min(word[2], bottom), max(word[3], right), max(word[4], top)
    if not words:
        return []
    unit = statistics.median((w[3] - w[1]) / len(w[0]) for w in words) or 1.0
    lines: list[list[list]] = []
    for w in sorted(words, key=lambda w: -w[2]):
        if lines and abs(w[2] - lines[-1][0][2]) <= 0.4 * (lines[-1][0][4] - lines[-1][0][2] or 1):
            lines[-1].append(w)
        else:
            lines.append([w])
    return [[Word(w[0], w[1] / unit, w[3] / unit) for w in sorted(line, key=lambda w: w[1])] for line in lines]
