"""Held-out scoring of a trained LLM version against its base model: both answer the dataset's test questions
with the prompts the version was trained with (closed-book or RAG), on the same engine, and are scored with
token F1, ROUGE-L and exact match. Per-question results are kept (``eval_test.jsonl`` in the version folder and
the base model's in ``models/base_eval/``) for paired statistics; base scores are cached by model, prompts and
test-file hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.config import LLMConfig
from ragtune.evaluation.metrics import exact_match, rouge_l, token_f1
from ragtune.generation.profiles import resolve_gguf
from ragtune.model_registry import ModelVersion, sha256_file
from ragtune.text import strip_markers
from ragtune.training.config import SFTConfig
from ragtune.training.data import PromptBuilder, dataset_folder, read_split

if TYPE_CHECKING:
    from ragtune.llm import LLM
    from ragtune.training.resources import TrainingResources

METRICS = ("token_f1", "rouge_l", "exact_match")


def score_answers(llm: LLM, builder: PromptBuilder, rows: list[dict[str, Any]], on_step=None) -> list[dict]:
    """Each row answered by ``llm`` and scored against its reference answer."""
    records = []
    for i, row in enumerate(rows, start=1):
        gen = llm.generate(builder.eval_messages(row["question"]))
        prediction = strip_markers(gen.text).strip()
        records.append({"id": row.get("id"), "question": row["question"], "reference": row["answer"],
                        "prediction": prediction, "completion_tokens": gen.completion_tokens,
                        **{m: round(f(prediction, row["answer"]), 4)
                           for m, f in zip(METRICS, (token_f1, rouge_l, exact_match), strict=True)}})
        if on_step:
            on_step(i)
    return records


def means(records: list[dict]) -> dict[str, float]:
    return {m: round(sum(r[m] for r in records) / len(records), 4) if records else 0.0 for m in METRICS}


def base_config(version: ModelVersion, served: LLMConfig) -> LLMConfig:
    """The base model of ``version`` on the engine that serves the version."""
    if served.lora_path:
        return served.model_copy(update={"lora_path": None})
    model, gguf = version.config["base_model"], version.config.get("base_gguf_file")
    backend = "llama_cpp" if resolve_gguf(gguf or model) is not None else "transformers"
    return served.model_copy(update={"backend": backend, "model": model, "gguf_file": gguf, "lora_path": None})


def evaluate_version(resources: TrainingResources, version_id: str, limit: int | None = None,
                     on_progress=None) -> dict[str, Any]:
    """Score a version and its base model on the test split of the version's dataset; stores ``test_*`` and
    ``base_*`` metrics in the registry and returns them."""
    from ragtune.generation.llms import load_llm

    registry = resources.registry
    version = registry.get(version_id)
    cfg = SFTConfig.model_validate(version.config["sft"])
    folder = Path(version.config.get("dataset_dir") or dataset_folder(resources.workdir, cfg.dataset))
    if not folder.is_dir():
        folder = dataset_folder(resources.workdir, cfg.dataset)
    rows = read_split(folder, "test")[: limit or cfg.eval_limit]
    if not rows:
        return {}
    builder = PromptBuilder(resources, cfg)
    served = registry.llm_config(version.id, resources.llm_config)
    report = on_progress or (lambda *a: None)

    def progress(label: str):
        report("evaluate", 0, len(rows), {"model": label})
        return lambda i: report("evaluate", i, len(rows), {"model": label})

    base_cfg = base_config(version, served)
    key = hashlib.sha256(json.dumps([base_cfg.model_dump(mode="json"), builder.mode, cfg.system_prompt,
                                     sha256_file(folder / "test.jsonl"), len(rows)]).encode()).hexdigest()[:16]
    cache = registry.root / "base_eval" / f"{key}.jsonl"
    if cache.is_file():
        base_records = [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()]
    else:
        base_records = score_answers(load_llm(base_cfg), builder, rows, progress("base"))
        _write_jsonl(cache, base_records)
    tuned_records = score_answers(resources.llm_for(version.id), builder, rows, progress(version.id))
    _write_jsonl(registry.folder(version) / "eval_test.jsonl", tuned_records)
    metrics = {f"test_{k}": v for k, v in means(tuned_records).items()}
    metrics |= {f"base_{k}": v for k, v in means(base_records).items()}
    metrics |= {"test_n": len(rows), "eval_mode": builder.mode, "leakage": leakage_check(resources, folder, rows)}
    registry.update_metrics(version.id, metrics)
    return metrics


def leakage_check(resources: TrainingResources, folder: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The test questions checked against the train split (``datasets.split.leakage_threshold``): a tuned model
    that saw a test question in training would be scored on memory."""
    from ragtune.datasets.leakage import check_leakage

    train = [r["question"] for r in read_split(folder, "train")]
    report = check_leakage(train, [r["question"] for r in rows], resources.embedder,
                           resources.datasets.split.leakage_threshold)
    return {"threshold": report.threshold, "n_train": report.n_train, "n_test": report.n_test,
            "n_leaked": report.n_leaked, "max_similarity": round(report.max_similarity, 4)}


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)
