"""File loaders, registered by name and chosen by file suffix."""

from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, decode_text, loaders
from ragtune.documents.loaders.docx import DocxLoader
from ragtune.documents.loaders.html import HtmlLoader
from ragtune.documents.loaders.pdf import PdfLoader
from ragtune.documents.loaders.records import CsvLoader, JsonlLoader
from ragtune.documents.loaders.text import MarkdownLoader, TextLoader

_BY_SUFFIX = {s: cls for cls in (TextLoader, MarkdownLoader, PdfLoader, HtmlLoader, DocxLoader, CsvLoader,
                                 JsonlLoader) for s in cls.suffixes}


def loader_for(path: Path, tables: bool = True) -> Loader | None:
    """A fresh loader for ``path``'s suffix, or None when the format is not supported; ``tables``: tables as
    row lines with their headers (documents.tables)."""
    cls = _BY_SUFFIX.get(path.suffix.lower())
    return cls(tables) if cls else None


__all__ = ["LoadError", "Loader", "decode_text", "loader_for", "loaders"]
