"""Reading feedback import files: JSON Lines or CSV rows, each with its line number (docs/feedback.md)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from ragtune.errors import InputError


def raise_if_errors(errors: list[str], shown: int = 20) -> None:
    """Raise one InputError listing the first ``shown`` errors, if there are any."""
    if errors:
        more = f"\n... and {len(errors) - shown} more" if len(errors) > shown else ""
        raise InputError(f"nothing imported; {len(errors)} bad row(s):\n" + "\n".join(errors[:shown]) + more)


_LIST_COLUMNS = ("ranked_ids", "ranked")


def read_rows(path: Path) -> Iterator[tuple[int, dict | str]]:
    """(line number, row dict or an error message) for each row of a .jsonl or .csv file."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            if suffix in (".jsonl", ".ndjson"):
                for n, text in enumerate(fh, start=1):
                    if text.strip():
                        yield n, _json_object(text)
            elif suffix == ".csv":
                yield from _csv_rows(fh)
            else:
                raise InputError(f"{path}: unknown feedback file type {suffix!r} (use .jsonl or .csv)")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e})") from None


def _json_object(text: str) -> dict | str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return f"not valid JSON ({e.msg})"
    return data if isinstance(data, dict) else "expected a JSON object"


def _csv_rows(fh) -> Iterator[tuple[int, dict | str]]:
    """CSV with a header row; empty cells are absent values; ranked_ids and ranked hold JSON arrays."""
    reader = csv.DictReader(fh)
    start = 2
    for record in reader:
        if None in record:
            yield start, "more cells than header columns"
        else:
            row: dict = {k: v for k, v in record.items() if v not in ("", None)}
            for key in _LIST_COLUMNS:
                if key in row:
                    try:
                        row[key] = json.loads(row[key])
                    except json.JSONDecodeError:
                        yield start, f"{key}: expected a JSON array, like [3, 5, 7] or [\"first\", \"second\"]"
                        break
            else:
                yield start, row
        start = reader.line_num + 1
