"""The end-to-end demo on the bundled contracts: ingest, a few cited answers, synthetic QA, LoRA SFT, and the
benchmark of RAG against fine-tuning (arms ``ARMS``) on the bundled human-labelled questions with its HTML
report. ``ragtune demo`` runs these steps;
each step reuses what an earlier run finished (the index, the dataset, the SFT version, the bench answers)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ragtune.demo import BENCH_QUESTIONS, CORPUS, QUESTIONS

if TYPE_CHECKING:
    from ragtune.datasets.synth import DatasetReport
    from ragtune.generation.answer import Answer
    from ragtune.model_registry import ModelVersion
    from ragtune.project import Project
    from ragtune.training.sft import OnProgress

ARMS = ["base", "rag", "rag-advanced", "sft", "rag+sft"]
BENCH_RUN = "demo"

# Written into the demo project's ragtune.yaml: sized so that the whole demo fits in about 25 minutes on two CPU
# cores (docs/benchmarking.md has the measured times).
SETTINGS: dict[str, Any] = {
    "datasets": {"synth": {"n": 160}, "split": {"validation": 0.1, "test": 0.15}},
    "training": {"sft": {"epochs": 2.0, "learning_rate": 2e-4}},
    "bench": {"arms": ARMS},
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


@dataclass
class Step:
    """What one step produced and whether it was reused from an earlier run."""

    name: str
    reused: bool
    detail: dict[str, Any] = field(default_factory=dict)


class Demo:
    """The demo project in ``directory`` (created with ``SETTINGS`` on first use) on the documents of ``corpus``
    (default: the bundled contracts)."""

    def __init__(self, directory: str | Path, corpus: str | Path = CORPUS) -> None:
        from ragtune.project import Project

        directory = Path(directory)
        if not (directory / "ragtune.yaml").exists():
            project = Project.init(directory, name="demo", domain="contracts")
            data = _merge(yaml.safe_load(project.config_path.read_text(encoding="utf-8")), SETTINGS)
            project.config_path.write_text("# ragtune demo project; see docs/configuration.md\n"
                                           + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        self.project: Project = Project(directory)
        self.source = Path(corpus)
        self.corpus = self.project.root / "corpus"
        self.seconds: dict[str, float] = {}

    @contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(time.perf_counter() - t0, 1)

    def ingest(self, on_start: Callable[[int], None] | None = None,
               on_file: Callable[[str, int], None] | None = None):
        """Copy the documents into the project's ``corpus/`` and index them (unchanged files are skipped)."""
        if not self.corpus.exists():
            shutil.copytree(self.source, self.corpus)
        with self._timed("ingest"):
            return self.project.ingest([self.corpus], on_start=on_start, on_file=on_file)

    def sample_answers(self, questions: list[str] | None = None) -> list[Answer]:
        """Cited RAG answers to the sample questions (one of them not answerable from the contracts)."""
        with self._timed("answers"):
            return [self.project.ask(q) for q in (QUESTIONS if questions is None else questions)]

    def dataset(self, n: int | None = None, on_start: Callable[[int], None] | None = None,
                on_slot: Callable[[str], None] | None = None) -> tuple[Step, DatasetReport]:
        """The synthetic QA dataset ``synth`` (train/validation/test), generated unless it exists."""
        from ragtune.datasets.io import dataset_dir, load_card
        from ragtune.datasets.synth import DatasetReport

        folder = dataset_dir(self.project.workdir, "synth")
        if (folder / "card.json").is_file():
            return Step("dataset", True), DatasetReport(folder, load_card(self.project.workdir, "synth"))
        with self._timed("dataset"):
            return Step("dataset", False), self.project.synthesize(n=n, on_start=on_start, on_slot=on_slot)

    def sft_config(self, max_steps: int | None = None, epochs: float | None = None):
        overrides = {"max_steps": max_steps, "epochs": epochs}
        config = self.project.config.training.sft
        return type(config).model_validate(config.model_dump() | {k: v for k, v in overrides.items() if v is not None})

    def tune(self, max_steps: int | None = None, epochs: float | None = None,
             on_progress: OnProgress | None = None) -> tuple[Step, ModelVersion]:
        """LoRA SFT on the dataset's train split, scored against the base model on its test split; an SFT version
        trained with the same settings on the same data is reused."""
        from ragtune.model_registry import ModelRegistry, sha256_file
        from ragtune.training.data import dataset_folder
        from ragtune.training.sft import LoRASFT

        config = self.sft_config(max_steps, epochs)
        train = sha256_file(dataset_folder(self.project.workdir, config.dataset) / "train.jsonl")
        wanted = config.model_dump(mode="json")
        for version in reversed(ModelRegistry(self.project.workdir).list("sft")):
            if version.data_hashes.get("train") == train and version.config.get("sft") == wanted \
                    and "test_token_f1" in version.metrics:
                return Step("sft", True), version
        with self._timed("sft"):
            result = LoRASFT(self.project.training_resources, config).run(on_progress=on_progress)
        return Step("sft", False, {"train": result.train, "warnings": result.warnings}), result.version

    def bench(self, limit: int | None = None, on_start: Callable[[int], None] | None = None,
              on_answer: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Every arm of ``ARMS`` on the human-labelled questions ``BENCH_QUESTIONS`` (bench run ``demo``; answers
        given before are reused), checked for overlap with the synthetic training data."""
        from ragtune.evaluation.bench import run_bench

        with self._timed("bench"):
            return run_bench(self.project.bench_system, ARMS, BENCH_QUESTIONS, limit=limit, run=BENCH_RUN,
                             on_start=on_start, on_answer=on_answer)

    def report(self) -> dict[str, str]:
        """The HTML (and Markdown, JSON, CSV) report of the demo's bench run."""
        from ragtune.report import write_report

        with self._timed("report"):
            return write_report(self.project.workdir, BENCH_RUN)

    def run(self, limit: int | None = None, max_steps: int | None = None, epochs: float | None = None,
            n: int | None = None) -> dict[str, Any]:
        """All steps without progress display; returns what each produced (``ragtune demo --json``)."""
        ingest = self.ingest()
        answers = self.sample_answers()
        data_step, data = self.dataset(n)
        sft_step, version = self.tune(max_steps, epochs)
        results = self.bench(limit)
        return {"project": str(self.project.root), "ingest": ingest.to_dict(),
                "answers": [a.to_dict() for a in answers], "dataset": {"reused": data_step.reused, **data.to_dict()},
                "sft": {"reused": sft_step.reused, **sft_step.detail, "version": version.model_dump()},
                "bench": {k: results[k] for k in ("run", "run_dir", "test_set_sha256", "n_questions", "seed",
                                                  "leakage", "arms")},
                "report": self.report(), "seconds": self.seconds}

    def close(self) -> None:
        self.project.close()
