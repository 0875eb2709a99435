"""Loader interface: bytes of one file -> pages of text."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from ragtune.documents.models import Page
from ragtune.registry import Registry


class LoadError(Exception):
    """A file cannot be turned into text; the message is the reason shown in the ingest summary."""


class Loader(ABC):
    """Turns one file's bytes into pages. ``suffixes`` are the file endings it handles."""

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    paged: ClassVar[bool] = False

    def __init__(self, tables: bool = True) -> None:
        self.tables = tables  # table rows as lines with their headers (documents.tables)

    @abstractmethod
    def load(self, path: Path, data: bytes) -> list[Page]:
        """Pages of ``data`` (read from ``path``); raises LoadError with a reason."""

    def title(self, path: Path, pages: list[Page]) -> str:
        return path.stem


def decode_text(data: bytes) -> str:
    """Decode text files: UTF-8 (with or without BOM) or UTF-16 with BOM; binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(f"not valid UTF-8 text (byte {e.start})") from None


loaders: Registry[Loader] = Registry("loader")
