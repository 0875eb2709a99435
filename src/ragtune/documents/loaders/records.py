"""CSV and JSONL files: one page per record, so a citation points at the record (row or line)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, decode_text, loaders
from ragtune.documents.models import Page


def _render(record: dict) -> str:
    return "\n".join(f"{k}: {v}" for k, v in record.items() if v not in (None, ""))


@loaders.register("csv")
class CsvLoader(Loader):
    suffixes = (".csv", ".tsv")
    paged = True

    def load(self, path: Path, data: bytes) -> list[Page]:
        text = decode_text(data)
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        try:
            rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
        except csv.Error as e:
            raise LoadError(f"malformed CSV: {e}") from None
        pages = [Page(i + 2, _render(row)) for i, row in enumerate(rows)]  # page = line number in file
        if not pages:
            raise LoadError("CSV has a header but no records")
        return pages


@loaders.register("jsonl")
class JsonlLoader(Loader):
    suffixes = (".jsonl", ".ndjson")
    paged = True

    def load(self, path: Path, data: bytes) -> list[Page]:
        pages = []
        for i, line in enumerate(decode_text(data).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise LoadError(f"invalid JSON on line {i}: {e.msg}") from None
            pages.append(Page(i, _render(record) if isinstance(record, dict) else str(record)))
        return pages
