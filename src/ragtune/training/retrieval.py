"""What the embedder and reranker trainers share: (question, relevant passage) pairs, hard negatives mined by BM25
and the dense embedder, nDCG@10 before and after training, and the run -> save -> register flow.

Two sources of pairs. A ragtune QA dataset: each row's ``chunk_ids`` are its relevant passages, the chunks of the
project's index (unanswerable questions are left out: their chunks are where they were written, not answers). A
BEIR folder: ``qrels/train.tsv``, with each corpus record written as ``ragtune eval retrieval`` indexes it (the
title heading the text). When a BEIR folder's records name their source document
(``metadata.document``), negatives and evaluation rankings are drawn only from the documents holding the split's
relevant passages, so a model trained on the train split never sees a passage of a test-only document."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ragtune.errors import InputError
from ragtune.model_registry import ModelVersion
from ragtune.training.config import RetrievalTuneConfig

if TYPE_CHECKING:
    from ragtune.training.resources import TrainingResources

OnProgress = Callable[[str, int, int | None, dict[str, Any]], None]
VALIDATION = ("validation", "dev")  # the first split found is the validation split


def no_progress(phase: str, completed: int, total: int | None, info: dict[str, Any]) -> None:
    pass


@dataclass
class RetrievalData:
    """Passages, questions and relevance judgements per split (``train`` and, when present, a validation split)."""

    source: str  # "qa" or "beir"
    folder: Path
    passages: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, dict[str, int]]]
    documents: dict[str, str] = field(default_factory=dict)  # passage -> source document (BEIR metadata)
    files: dict[str, Path] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def validation(self) -> str | None:
        return next((s for s in VALIDATION if self.qrels.get(s)), None)

    def positives(self, split: str) -> list[tuple[str, str]]:
        """(query id, passage id) for every relevant judgement of ``split``."""
        return [(q, p) for q, judged in self.qrels[split].items() for p, grade in judged.items() if grade > 0]

    def pool(self, split: str) -> list[str]:
        """The passages negatives and rankings of ``split`` come from (see the module docstring)."""
        if self.source == "beir" and len(self.documents) == len(self.passages):
            held = {self.documents[p] for _, p in self.positives(split)}
            return [p for p in self.passages if self.documents[p] in held]
        return list(self.passages)

    def summary(self) -> dict[str, Any]:
        counts = {f"{s}_queries": len(self.qrels[s]) for s in self.qrels}
        counts |= {f"{s}_pairs": len(self.positives(s)) for s in self.qrels}
        return {"source": self.source, "passages": len(self.passages), **counts, **self.left_out}


def load_retrieval_data(resources: TrainingResources, name: str) -> RetrievalData:
    """A BEIR folder (has ``corpus.jsonl``), else a QA dataset by name or folder."""
    from ragtune.training.data import dataset_folder

    folder = Path(name).expanduser()
    if (folder / "corpus.jsonl").is_file():
        return _from_beir(folder.resolve())
    try:
        qa_folder = dataset_folder(resources.workdir, name)
    except InputError:
        raise InputError(f"no dataset {name!r}: expected a QA dataset name under {resources.workdir / 'datasets'} "
                         "(`ragtune data synth`), a folder with train.jsonl, or a BEIR folder with corpus.jsonl, "
                         "queries.jsonl and qrels/train.tsv") from None
    return _from_qa(resources, qa_folder)


def _from_beir(folder: Path) -> RetrievalData:
    from ragtune.datasets.beir import load_corpus, load_qrels, load_queries

    corpus = load_corpus(folder / "corpus.jsonl")
    queries = load_queries(folder / "queries.jsonl")
    passages = {d.id: f"{d.title}\n\n{d.text}" if d.title.strip() and d.text.strip() else (d.text or d.title)
                for d in corpus.values()}
    documents = {d.id: d.document for d in corpus.values() if d.document is not None}
    qrels, files = {}, {"corpus": folder / "corpus.jsonl", "queries": folder / "queries.jsonl"}
    validation = next((s for s in VALIDATION if (folder / "qrels" / f"{s}.tsv").is_file()), None)
    for split in ["train"] + ([validation] if validation else []):
        path = folder / "qrels" / f"{split}.tsv"
        judged = {q: {p: g for p, g in j.items() if p in corpus} for q, j in load_qrels(path).items() if q in queries}
        qrels[split] = {q: j for q, j in judged.items() if any(g > 0 for g in j.values())}
        files[split] = path
    if not qrels["train"]:
        raise InputError(f"{files['train']}: no training pairs (no judged query is in queries.jsonl with a relevant "
                         "record in corpus.jsonl)")
    return RetrievalData("beir", folder, passages, queries, qrels, documents, files)


def _from_qa(resources: TrainingResources, folder: Path) -> RetrievalData:
    from ragtune.training.data import read_split

    ids, texts = resources.store.indexed_chunks()
    passages = dict(zip(ids, texts, strict=True))
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, dict[str, int]]] = {}
    files, left_out = {}, {}
    for split in ("train", *VALIDATION):
        rows = read_split(folder, split)
        if not rows or (split != "train" and any(qrels.get(s) for s in VALIDATION)):
            continue
        files[split] = folder / f"{split}.jsonl"
        judged, unlinked, missing, unanswerable = {}, 0, 0, 0
        for n, row in enumerate(rows):
            if row.get("type") == "unanswerable" or row.get("unanswerable"):
                unanswerable += 1  # its chunks are where it was written, not passages that answer it
                continue
            gold = [c for c in row.get("chunk_ids") or [] if isinstance(c, str)]
            found = [c for c in gold if c in passages]
            unlinked += not gold
            missing += bool(gold) and not found
            if found:
                qid = f"{split}:{row.get('id') or n}"
                queries[qid] = row["question"]
                judged[qid] = dict.fromkeys(found, 1)
        qrels[split] = judged
        left_out |= {f"{split}_without_chunk_ids": unlinked, f"{split}_chunks_not_indexed": missing,
                     f"{split}_unanswerable": unanswerable}
    if not qrels.get("train"):
        n = left_out.get("train_without_chunk_ids", 0) + left_out.get("train_chunks_not_indexed", 0)
        raise InputError(f"{folder / 'train.jsonl'}: no training pairs: a row needs chunk_ids of chunks in the "
                         f"index of {resources.root} ({n} rows had none or only chunks no longer indexed; "
                         "re-run `ragtune data synth` after re-ingesting)")
    return RetrievalData("qa", folder, passages, queries, qrels, {}, files, left_out)


# rankings ------------------------------------------------------------------------------------------------------

Ranking = dict[str, list[str]]  # query id -> passage ids, best first


def bm25_rankings(data: RetrievalData, split: str, k: int) -> Ranking:
    """BM25 (ragtune's tokenisation) over ``data.pool(split)`` for every query of ``split``."""
    import bm25s

    from ragtune.index.bm25 import BM25Index

    pool = data.pool(split)
    retriever = bm25s.BM25()
    retriever.index(BM25Index._tokenize([data.passages[p] for p in pool]), show_progress=False)
    qids = list(data.qrels[split])
    k = min(k, len(pool))
    docs, _ = retriever.retrieve(BM25Index._tokenize([data.queries[q] for q in qids]), k=k, show_progress=False,
                                 n_threads=1)
    return {q: [pool[i] for i in row] for q, row in zip(qids, docs.tolist(), strict=True)}


def dense_rankings(model, data: RetrievalData, split: str, k: int, batch_size: int = 32) -> Ranking:
    """Cosine ranking by a SentenceTransformer over ``data.pool(split)`` for every query of ``split``."""
    import numpy as np

    pool = data.pool(split)
    qids = list(data.qrels[split])
    encode = {"batch_size": batch_size, "normalize_embeddings": True, "convert_to_numpy": True,
              "show_progress_bar": False}
    docs = model.encode([data.passages[p] for p in pool], **encode)
    queries = model.encode([data.queries[q] for q in qids], **encode)
    order = np.argsort(-(queries @ docs.T), axis=1)[:, : min(k, len(pool))]
    return {q: [pool[i] for i in row] for q, row in zip(qids, order.tolist(), strict=True)}


def random_rankings(data: RetrievalData, split: str, k: int, seed: int) -> Ranking:
    """``k`` random passages of the pool per query: easy negatives, mostly from other documents, which teach a
    cross-encoder what the in-batch negatives teach an embedder."""
    import random

    rng = random.Random(seed)
    pool = data.pool(split)
    return {q: rng.sample(pool, min(k, len(pool))) for q in data.qrels[split]}


def ndcg_at_10(data: RetrievalData, split: str, ranking: Ranking) -> float:
    from ragtune.evaluation.retrieval import ir_metrics

    run = {q: {p: float(len(ranked) - i) for i, p in enumerate(ranked)} for q, ranked in ranking.items()}
    return ir_metrics(data.qrels[split], run)[0]["ndcg@10"]


def mine_negatives(rankings: list[Ranking], data: RetrievalData, split: str, per_query: dict[str, int]
                   ) -> dict[str, list[str]]:
    """Up to ``per_query[q]`` hard negatives per query: passages not judged for it, taken rank by rank from the
    rankings in turn (BM25 1st, dense 1st, BM25 2nd, ...), topped up in pool order when the rankings run short."""
    pool = data.pool(split)
    mined: dict[str, list[str]] = {}
    for q, judged in data.qrels[split].items():
        picked: dict[str, None] = {}
        for candidates in zip_longest(*(r[q] for r in rankings), fillvalue=None):
            picked.update((p, None) for p in candidates if p is not None and p not in judged)
        if len(picked) < per_query[q]:
            picked.update((p, None) for p in pool if p not in judged)
        mined[q] = list(picked)[: per_query[q]]
    return mined


# the shared run -------------------------------------------------------------------------------------------------

@dataclass
class RetrievalTuneResult:
    """What ``tune embedder`` / ``tune reranker`` produced."""

    version: ModelVersion
    train: dict[str, Any]
    data: dict[str, Any]
    evaluation: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version.model_dump(), "train": self.train, "data": self.data,
                "evaluation": self.evaluation}


class RetrievalTuner:
    """Loads pairs, mines negatives, trains (a subclass's ``base``, ``build``, ``score``), saves the model as a new
    registry version of ``kind`` and scores it on the validation split before and after."""

    kind: ClassVar[str]

    def __init__(self, resources: TrainingResources, config: RetrievalTuneConfig) -> None:
        self.resources = resources
        self.config = config
        self.registry = resources.registry

    def run(self, on_progress: OnProgress | None = None) -> RetrievalTuneResult:
        import torch
        from transformers import PrinterCallback, set_seed

        from ragtune.training.sft import default_threads

        report = on_progress or no_progress
        cfg = self.config
        data = load_retrieval_data(self.resources, cfg.dataset)
        base_dir, parent = self.base()
        set_seed(cfg.seed)
        torch.set_num_threads(cfg.threads or default_threads())
        negatives = self.mine(data, report) if cfg.negatives and cfg.mine else {}
        run_dir = self.registry.root / "runs" / f"{self.kind}-{_key(cfg, data)}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        trainer, examples = self.build(data, negatives, base_dir, run_dir)
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(progress_callback(report))
        evaluation: dict[str, Any] = {}
        if cfg.evaluate and data.validation:
            evaluation = {"split": data.validation, "queries": len(data.qrels[data.validation]),
                          "before": self.score(trainer.model, data, data.validation, before=True)}
        t0 = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - t0
        train = {"steps": trainer.state.global_step, "train_loss": round(output.training_loss, 4),
                 "seconds": round(seconds, 1), "examples": examples, "threads": torch.get_num_threads()}
        if evaluation:
            report("evaluate", 0, 1, {})
            evaluation["after"] = self.score(trainer.model, data, data.validation)
            report("evaluate", 1, 1, {"ndcg@10": evaluation["after"]})
        staging = run_dir / "version"
        trainer.model.save_pretrained(str(staging))
        (staging / "train_queries.json").write_text(json.dumps(
            {"dataset_dir": str(data.folder), "queries": {q: data.queries[q] for q in data.qrels["train"]}},
            ensure_ascii=False), encoding="utf-8")
        metrics = {"seconds": train["seconds"], "steps": train["steps"], "train_loss": train["train_loss"],
                   "examples": examples, "pairs": len(data.positives("train"))}
        if evaluation:
            metrics |= {"val_ndcg@10_before": evaluation["before"], "val_ndcg@10": evaluation["after"]}
        config = {self.kind: cfg.model_dump(mode="json"), "base_model": base_dir, "source": data.source,
                  "dataset_dir": str(data.folder)}
        version = self.registry.add(self.kind, staging, parent=parent, metrics=metrics,  # type: ignore[arg-type]
                                    data_files=data.files, config=config)
        shutil.rmtree(run_dir, ignore_errors=True)
        return RetrievalTuneResult(version, train, data.summary(), evaluation)

    def mine(self, data: RetrievalData, report: OnProgress) -> dict[str, list[str]]:
        """Negatives for the train split from BM25, the project's dense embedder and/or random passages."""
        need = {q: self.config.negatives * sum(g > 0 for g in judged.values())
                for q, judged in data.qrels["train"].items()}
        k = max(need.values()) + max(len(j) for j in data.qrels["train"].values())
        rankings = []
        report("mine", 0, len(self.config.mine), {})
        for i, source in enumerate(self.config.mine):
            if source == "bm25":
                rankings.append(bm25_rankings(data, "train", k))
            elif source == "dense":
                rankings.append(dense_rankings(load_encoder(self.resources.embedder.path), data, "train", k))
            else:
                rankings.append(random_rankings(data, "train", k, self.config.seed))
            report("mine", i + 1, len(self.config.mine), {"source": source})
        return mine_negatives(rankings, data, "train", need)

    def base(self) -> tuple[str, str | None]:
        """(folder of the model to start from, its registry version id or None)."""
        raise NotImplementedError

    def build(self, data: RetrievalData, negatives: dict[str, list[str]], base_dir: str, run_dir: Path
              ) -> tuple[Any, int]:
        """The trainer over the training examples, and how many examples there are."""
        raise NotImplementedError

    def score(self, model, data: RetrievalData, split: str, before: bool = False) -> float:
        """nDCG@10 on ``split`` with ``model`` (``before``: the model before training)."""
        raise NotImplementedError


def training_args(cfg: RetrievalTuneConfig, run_dir: Path) -> dict[str, Any]:
    """Trainer arguments both trainers share (no checkpoints: a run takes minutes)."""
    import torch

    from ragtune.training.sft import pick_precision

    precision = pick_precision(cfg.precision)
    return {"output_dir": str(run_dir / "checkpoints"), "seed": cfg.seed, "data_seed": cfg.seed,
            "num_train_epochs": cfg.epochs, "max_steps": cfg.max_steps or -1,
            "per_device_train_batch_size": cfg.batch_size, "learning_rate": cfg.learning_rate,
            "warmup_steps": cfg.warmup_ratio, "lr_scheduler_type": "linear", "bf16": precision == "bf16",
            "fp16": precision == "fp16", "use_cpu": not torch.cuda.is_available(), "save_strategy": "no",
            "eval_strategy": "no", "logging_steps": 1, "report_to": [], "disable_tqdm": True,
            "dataloader_num_workers": 0}


def quiet_trainer(trainer_cls: type) -> type:
    """The sentence-transformers trainer class without its model-card callback, which scans the training data
    behind a progress bar of its own (a version's provenance lives in the registry)."""
    return type(trainer_cls.__name__, (trainer_cls,), {"add_model_card_callback": lambda self, defaults: None})


def load_encoder(path: str):
    """A SentenceTransformer from a local folder (cached per process, like the project's embedder)."""
    from ragtune.index.embedder import load_sentence_transformer

    return load_sentence_transformer(path, "cpu")


def progress_callback(report: OnProgress):
    """A TrainerCallback reporting steps, loss and learning rate."""
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        def __init__(self) -> None:
            self.info: dict[str, Any] = {}

        def on_step_end(self, args, state, control, **kwargs):
            report("train", state.global_step, state.max_steps, self.info)

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.info = {k: float(f"{v:.4g}") for k, v in (logs or {}).items()
                         if k in ("loss", "learning_rate") and isinstance(v, float)}
            report("train", state.global_step, state.max_steps, self.info)

    return ProgressCallback()


def _key(cfg: RetrievalTuneConfig, data: RetrievalData) -> str:
    return hashlib.sha256(json.dumps([cfg.model_dump(mode="json"), str(data.folder)]).encode()).hexdigest()[:12]
