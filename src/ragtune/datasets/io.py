"""The dataset folder ``<project>/.ragtune/datasets/<name>/``: train/validation/test.jsonl, rejected.jsonl,
a Hugging Face DatasetDict under hf/ and the data card (card.json, card.md). A folder is written next to
the old one and swapped in at the end, so an interrupted run never leaves a half-written dataset."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ragtune.datasets.card import render_card
from ragtune.datasets.qa import SPLITS, QAPair
from ragtune.errors import InputError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def datasets_dir(workdir: Path) -> Path:
    """Where the datasets of the project with ``workdir`` (its ``.ragtune/``) live."""
    return workdir / "datasets"


def dataset_dir(workdir: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise InputError(f"dataset name {name!r}: use letters, digits, '_', '-' and '.' (at most 64)")
    return datasets_dir(workdir) / name


def _write_jsonl(path: Path, pairs: list[QAPair]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(p.to_row(), ensure_ascii=False) + "\n")


def _write_hf(folder: Path, splits: dict[str, list[QAPair]]) -> str | None:
    """Save a DatasetDict with save_to_disk; returns why it was not written (``datasets`` missing)."""
    try:
        from datasets import Dataset, DatasetDict, Features, Sequence, Value
    except ImportError:
        return "the `datasets` package is not installed (pip install 'ragtune[train]')"
    features = Features({"id": Value("string"), "question": Value("string"), "answer": Value("string"),
                         "type": Value("string"), "chunk_ids": Sequence(Value("string")),
                         "sources": Sequence(Value("string")),
                         "rating": {"accepted": Value("bool"), "reason": Value("string")}})
    data = DatasetDict({s: Dataset.from_dict({k: [p.to_row()[k] for p in pairs] for k in features}, features=features)
                        for s, pairs in splits.items()})  # from_dict: from_list cannot type an empty split
    data.save_to_disk(str(folder / "hf"))
    return None


def write_dataset(workdir: Path, name: str, splits: dict[str, list[QAPair]], rejected: list[QAPair],
                  card: dict[str, Any]) -> Path:
    """Write the dataset atomically (replacing one of the same name); fills ``card["files"]``."""
    final = dataset_dir(workdir, name)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=final.parent))
    try:
        for split in SPLITS:
            _write_jsonl(tmp / f"{split}.jsonl", splits[split])
        _write_jsonl(tmp / "rejected.jsonl", rejected)
        hf_missing = _write_hf(tmp, splits)
        card["files"] = {"jsonl": [f"{s}.jsonl" for s in SPLITS], "rejected": "rejected.jsonl",
                         "hf": None if hf_missing else "hf", **({"hf_note": hf_missing} if hf_missing else {})}
        (tmp / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "card.md").write_text(render_card(card), encoding="utf-8")
        old = final.with_name(f".{name}.old")
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def load_split(workdir: Path, name: str = "synth", split: str = "test") -> list[dict[str, Any]]:
    """Rows of one split: {id, question, answer, type, chunk_ids, sources, rating}."""
    if split not in (*SPLITS, "rejected"):
        raise InputError(f"split {split!r}: expected one of {', '.join(SPLITS)} or rejected")
    path = dataset_dir(workdir, name) / f"{split}.jsonl"
    if not path.is_file():
        raise InputError(f"no dataset {name!r} in {workdir.parent}: run `ragtune data synth --name {name}` "
                         "or `ragtune data import FILE`")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_card(workdir: Path, name: str = "synth") -> dict[str, Any]:
    path = dataset_dir(workdir, name) / "card.json"
    if not path.is_file():
        known = sorted(p.parent.name for p in datasets_dir(workdir).glob("*/card.json"))
        hint = f" (datasets: {', '.join(known)})" if known else ""
        raise InputError(f"no dataset {name!r} in {workdir.parent}{hint}")
    return json.loads(path.read_text(encoding="utf-8"))
