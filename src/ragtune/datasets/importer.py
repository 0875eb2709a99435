"""Import user QA pairs from CSV or JSONL (a question and an answer column, like the KDD tutorial's
qa.csv). Optional columns: id, type, chunk_ids, sources (JSON lists, or ``;``-separated in CSV).
Every problem is reported with the file and line; nothing is written unless the whole file is valid."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.datasets.dedup import NearDuplicateFilter
from ragtune.datasets.qa import QAPair, Rating
from ragtune.datasets.synth import DatasetReport, finish, split_config
from ragtune.errors import InputError

if TYPE_CHECKING:
    from ragtune.datasets.config import DatasetsConfig
    from ragtune.index.embedder import Embedder

MAX_ERRORS = 10


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(";") if v.strip()]


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) for each row of a CSV or JSONL file."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.DictReader(f)
                return [(reader.line_num, row) for row in reader]
        if suffix in (".jsonl", ".ndjson"):
            records = []
            for i, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    records.append((i, json.loads(line)))
                except json.JSONDecodeError as e:
                    raise InputError(f"{path} line {i}: not valid JSON ({e.msg})") from None
            return records
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except csv.Error as e:
        raise InputError(f"{path}: not valid CSV ({e})") from None
    raise InputError(f"{path}: expected a .csv or .jsonl file")


def parse_pairs(path: Path, question_column: str = "question", answer_column: str = "answer") -> list[QAPair]:
    """Validated pairs of the file; raises InputError listing up to MAX_ERRORS problems by line."""
    records = read_records(path)
    if not records:
        raise InputError(f"{path}: no rows")
    errors: list[str] = []
    pairs: list[QAPair] = []
    for line, rec in records:
        if not isinstance(rec, dict):
            errors.append(f"{path} line {line}: expected an object with {question_column!r} and {answer_column!r}")
            continue
        problems = [f"missing {col!r}" if col not in rec else f"empty {col!r}"
                    for col in (question_column, answer_column) if not str(rec.get(col) or "").strip()]
        if problems:
            found = ", ".join(map(repr, rec)) or "none"
            errors.append(f"{path} line {line}: {' and '.join(problems)} (columns: {found})")
            continue
        pairs.append(QAPair(str(rec[question_column]), str(rec[answer_column]), str(rec.get("type") or "user"),
                            _as_list(rec.get("chunk_ids")), _as_list(rec.get("sources")), Rating(True, "imported"),
                            str(rec.get("id") or "")))
    if errors:
        more = f"\n... and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        raise InputError(f"{len(errors)} invalid row(s):\n" + "\n".join(errors[:MAX_ERRORS]) + more)
    return pairs


def import_qa(embedder: Embedder, cfg: DatasetsConfig, workdir: Path, path: str | Path, name: str = "imported",
              question_column: str = "question", answer_column: str = "answer", split_by: str | None = None,
              seed: int | None = None) -> DatasetReport:
    """Validate, deduplicate (by ``embedder``) and split a user QA file into ``workdir/datasets/<name>/`` with a
    card."""
    started = time.perf_counter()
    seed = cfg.synth.seed if seed is None else seed
    split_cfg = split_config(cfg.split, split_by)
    path = Path(path)
    pairs = parse_pairs(path, question_column, answer_column)
    keep = set(NearDuplicateFilter(embedder, split_cfg.dedup_threshold).filter([p.question for p in pairs]))
    rejected = []
    for i, p in enumerate(pairs):
        if i not in keep:
            p.rating = Rating(False, "near_duplicate")
            rejected.append(p)
    extra = {"generator": f"imported from {path.name}", "source_file": str(path.resolve()), "rows": len(pairs),
             "rejections": {"near_duplicate": len(rejected)} if rejected else {}}
    return finish(workdir, embedder, name, "imported", [p for i, p in enumerate(pairs) if i in keep], rejected,
                  split_cfg, seed, extra, started)
