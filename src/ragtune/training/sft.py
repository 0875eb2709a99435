"""LoRA supervised fine-tuning with PEFT + TRL's SFTTrainer, then merge, GGUF export, held-out scoring and
registration in the model registry.

Speed on CPUs comes from three settings (bench/sft_speed.py measures them against TRL's defaults): padding-free
batches (no pad tokens) run through ``varlen_sdpa`` attention (one fused causal SDPA per sequence instead of a
quadratic block mask), no gradient checkpointing (a 135M model's activations fit in memory), and bf16 autocast
where the CPU computes bf16 natively. Loss covers the answer tokens only (prompt-completion conversations
formatted by the model's own chat template). Checkpoints every ``save_steps`` make ``resume`` possible; seeds
are fixed. Under ``accelerate launch`` every process trains and the main one exports and registers."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import InputError
from ragtune.model_registry import ADAPTER, ModelVersion
from ragtune.training.config import SFTConfig
from ragtune.training.data import SPLITS, PromptBuilder, dataset_folder, read_split

if TYPE_CHECKING:
    from ragtune.training.resources import TrainingResources

# (phase, completed, total, info): phases "examples", "train", "merge", "export", "evaluate"
OnProgress = Callable[[str, int, int | None, dict[str, Any]], None]


@dataclass
class SFTResult:
    """What ``tune sft`` produced."""

    version: ModelVersion | None
    train: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version.model_dump() if self.version else None, "train": self.train,
                "examples": self.examples, "warnings": self.warnings}


def no_progress(phase: str, completed: int, total: int | None, info: dict[str, Any]) -> None:
    """The progress callback that reports nothing."""


def pick_precision(setting: str) -> str:
    """``auto``: bf16 on GPUs with bf16 and on CPUs with native bf16 (AVX512-BF16/AMX), else fp16 / fp32."""
    import torch

    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


def default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class LoRASFT:
    """Trains one LoRA version of the base model (or continues the adapter of ``parent``) on a QA dataset."""

    kind = "sft"

    def __init__(self, resources: TrainingResources, config: SFTConfig | None = None) -> None:
        self.resources = resources
        self.config = config or resources.training.sft
        self.registry = resources.registry

    # the base model
    @property
    def base_model(self) -> str:
        return self.config.base_model or self.resources.llm_config.model

    @property
    def base_gguf_file(self) -> str | None:
        return None if self.config.base_model else self.resources.llm_config.gguf_file

    def base_dir(self) -> str:
        """A transformers-loadable folder (or hub id) of the base model; GGUF bases are dequantised once."""
        from ragtune.generation.llms.transformers import hf_model_dir

        return hf_model_dir(self.base_model, self.base_gguf_file)

    # runs: checkpoints and the exact examples of one training run, for --resume
    def _runs(self) -> Path:
        return self.registry.root / "runs"

    def _request(self, parent: str | None) -> dict[str, Any]:
        folder = dataset_folder(self.resources.workdir, self.config.dataset)
        hashes = {s: _sha256(folder / f"{s}.jsonl") for s in SPLITS if (folder / f"{s}.jsonl").is_file()}
        return {"kind": self.kind, "config": self.config.model_dump(mode="json"), "base_model": self.base_model,
                "base_gguf_file": self.base_gguf_file, "parent": parent, "dataset_dir": str(folder),
                "data_hashes": hashes}

    def _interrupted_run(self) -> Path:
        runs = [p.parent for p in self._runs().glob(f"{self.kind}-*/run.json")]
        runs = [r for r in runs if last_checkpoint(r / "checkpoints")]
        if not runs:
            raise InputError(f"no interrupted {self.kind} run to resume in {self._runs()}")
        return max(runs, key=lambda r: (r / "run.json").stat().st_mtime)

    def run(self, resume: bool = False, parent: str | None = None,
            on_progress: OnProgress | None = None) -> SFTResult:
        """Train, save, merge, export, score and register; returns the new version (None on non-main ranks)."""
        from accelerate import PartialState

        report = on_progress or no_progress
        state = PartialState()
        if resume:
            run_dir = self._interrupted_run()
            request = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
            self.config = SFTConfig.model_validate(request["config"])
        else:
            if parent is not None:
                parent = self.registry.get(parent).id  # also resolves "champion"
            request = self._request(parent)
            key = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:12]
            run_dir = self._runs() / f"{self.kind}-{key}"
        result = SFTResult(None)
        with state.main_process_first():
            if state.is_main_process and not resume:
                shutil.rmtree(run_dir, ignore_errors=True)
                run_dir.mkdir(parents=True)
                result.examples = self._write_examples(request, run_dir, report)
                (run_dir / "run.json").write_text(json.dumps(request, indent=2), encoding="utf-8")
        trainer = self.build_trainer(run_dir, request["parent"], report)
        last = last_checkpoint(run_dir / "checkpoints") if resume else None
        t0 = time.perf_counter()
        output = trainer.train(resume_from_checkpoint=last)
        seconds = time.perf_counter() - t0
        if not trainer.is_world_process_zero():
            return result
        progress = next(c for c in trainer.callback_handler.callbacks if hasattr(c, "tokens"))
        tokens = progress.tokens
        result.train = {"steps": trainer.state.global_step, "resumed_from": checkpoint_step(last),
                        "train_loss": round(output.training_loss, 4), "seconds": round(seconds, 1),
                        "tokens": int(tokens), "tokens_per_s": round(tokens / seconds, 1) if seconds else None,
                        "precision": pick_precision(self.config.precision), "threads": _threads(self.config),
                        "batch": [trainer.args.per_device_train_batch_size, trainer.args.gradient_accumulation_steps]}
        if trainer.eval_dataset is not None:
            result.train["eval_loss"] = round(trainer.evaluate()["eval_loss"], 4)
        result.examples = result.examples or json.loads((run_dir / "examples.json").read_text(encoding="utf-8"))
        staging = run_dir / "version"
        shutil.rmtree(staging, ignore_errors=True)
        trainer.model.save_pretrained(staging / ADAPTER)
        trainer.processing_class.save_pretrained(staging / ADAPTER)
        folder = Path(request["dataset_dir"])
        config = {"sft": self.config.model_dump(mode="json"), "base_model": request["base_model"],
                  "base_gguf_file": request["base_gguf_file"], "dataset": self.config.dataset,
                  "dataset_dir": str(folder), "mode": "rag" if self.config.rag else "closed_book"}
        metrics = {k: v for k, v in result.train.items()
                   if k in ("train_loss", "eval_loss", "seconds", "tokens", "tokens_per_s")}
        metrics["examples"] = result.examples
        version = self.registry.add(self.kind, staging, parent=request["parent"], metrics=metrics,
                                    data_files={s: folder / f"{s}.jsonl" for s in request["data_hashes"]},
                                    config=config)
        shutil.rmtree(run_dir, ignore_errors=True)
        result.warnings += self.finish(version, report)
        result.version = self.registry.get(version.id)
        return result

    def _write_examples(self, request: dict[str, Any], run_dir: Path, report: OnProgress) -> dict[str, int]:
        """Build the prompt-completion examples once (RAG prompts retrieve), so a resumed run sees the same."""
        from transformers import AutoTokenizer

        from ragtune.generation.llms.transformers import hf_model_dir

        folder = Path(request["dataset_dir"])
        builder = PromptBuilder(self.resources, self.config)
        tokenizer = AutoTokenizer.from_pretrained(hf_model_dir(request["base_model"], request["base_gguf_file"]))
        counts: dict[str, int] = {}
        for split in ("train", "validation"):
            rows = read_split(folder, split)
            report("examples", 0, len(rows), {"split": split})
            examples, missing = builder.examples(rows, self.config.seed)
            kept = [e for e in examples if _length(tokenizer, e) <= self.config.max_length]
            counts |= {split: len(kept), f"{split}_too_long": len(examples) - len(kept),
                       f"{split}_gold_missing": missing}
            with (run_dir / f"{split}.jsonl").open("w", encoding="utf-8") as f:
                for e in kept:
                    f.write(json.dumps(e, ensure_ascii=False) + "\n")
            report("examples", len(rows), len(rows), {"split": split})
        if counts["train"] == 0:
            raise InputError(f"{folder}: no training examples (empty train split, or all longer than max_length "
                             f"{self.config.max_length} tokens)")
        (run_dir / "examples.json").write_text(json.dumps(counts), encoding="utf-8")
        return counts

    def build_trainer(self, run_dir: Path, parent: str | None = None, report: OnProgress | None = None):
        """The trainer over the run's examples: a new LoRA, or the parent version's adapter continued."""
        adapter = self.registry.folder(parent) / ADAPTER if parent is not None else None
        return make_trainer(self.base_dir(), self.config, _load_jsonl(run_dir / "train.jsonl"),
                            _load_jsonl(run_dir / "validation.jsonl"), run_dir / "checkpoints", adapter,
                            callbacks=[progress_callback(report or no_progress)])

    def finish(self, version: ModelVersion, report: OnProgress | None = None) -> list[str]:
        """Merge, export for llama_cpp and score a registered version as configured; returns warnings."""
        from ragtune.errors import ModelError
        from ragtune.generation.profiles import resolve_gguf
        from ragtune.training.evaluate import evaluate_version
        from ragtune.training.export import export_version

        report = report or no_progress
        cfg, warnings = self.config, []
        if cfg.merge:
            report("merge", 0, 1, {})
            export_version(self.registry, version.id, "merged")
            report("merge", 1, 1, {})
        if cfg.export_gguf:
            base_is_gguf = resolve_gguf(version.config["base_gguf_file"] or version.config["base_model"]) is not None
            report("export", 0, 1, {})
            try:
                export_version(self.registry, version.id, "lora" if base_is_gguf else "gguf")
            except ModelError as e:
                warnings.append(f"GGUF export failed, so llama_cpp cannot serve {version.id} yet: {e}")
            report("export", 1, 1, {})
        if cfg.evaluate and not warnings:
            evaluate_version(self.resources, version.id, on_progress=report)
        return warnings


def make_trainer(base_dir: str, cfg: SFTConfig, train: list[dict], validation: list[dict], output_dir: Path,
                 adapter: Path | None = None, callbacks: list | None = None):
    """TRL's SFTTrainer with ragtune's settings over prompt-completion examples."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, set_seed
    from trl import SFTConfig as TRLConfig
    from trl import SFTTrainer

    from ragtune.training.attention import register

    set_seed(cfg.seed)
    torch.set_num_threads(_threads(cfg))
    precision = pick_precision(cfg.precision)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    batch, accum = fit_batch(cfg.batch_size, cfg.grad_accum, max((_length(tokenizer, e) for e in train), default=0),
                             cfg.batch_tokens)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, attn_implementation=register())
    peft_config = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                             target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")
    if adapter is not None:
        model, peft_config = PeftModel.from_pretrained(model, str(adapter), is_trainable=True), None
    args = TRLConfig(
        output_dir=str(output_dir), seed=cfg.seed, data_seed=cfg.seed,
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps or -1,
        per_device_train_batch_size=batch, per_device_eval_batch_size=batch,
        gradient_accumulation_steps=accum, learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_ratio, weight_decay=cfg.weight_decay,
        padding_free=True, max_length=None, completion_only_loss=True, activation_checkpointing=False,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=not torch.cuda.is_available(),
        save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=2,
        eval_strategy="epoch" if validation else "no", logging_steps=1, report_to=[], disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(train),
                         eval_dataset=Dataset.from_list(validation) if validation else None,
                         processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)
    return trainer


def fit_batch(batch_size: int, grad_accum: int, longest: int, batch_tokens: int | None) -> tuple[int, int]:
    """(examples per device batch, accumulation steps): ``batch_size`` x ``grad_accum`` examples per optimizer
    step, with at most ``batch_tokens`` tokens (examples x ``longest``) in a batch, one example at least."""
    if batch_tokens is None or batch_size * longest <= batch_tokens:
        return batch_size, grad_accum
    total, fits = batch_size * grad_accum, max(1, batch_tokens // longest)
    batch = max(d for d in range(1, min(fits, batch_size) + 1) if total % d == 0)
    return batch, total // batch


def progress_callback(report: OnProgress):
    """A TrainerCallback reporting steps, loss and learning rate; keeps the tokens TRL counted."""
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        def __init__(self) -> None:
            self.info: dict[str, Any] = {}
            self.tokens = 0

        def on_train_begin(self, args, state, control, **kwargs):
            report("train", state.global_step, state.max_steps, self.info)

        def on_step_end(self, args, state, control, **kwargs):
            report("train", state.global_step, state.max_steps, self.info)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            self.tokens = int(logs.get("num_tokens", self.tokens))
            self.info = {**self.info, **{k: round(v, 4) for k, v in logs.items()
                                         if k in ("loss", "eval_loss", "learning_rate") and isinstance(v, float)}}
            report("train", state.global_step, state.max_steps, self.info)

    return ProgressCallback()


def _threads(cfg: SFTConfig) -> int:
    return cfg.threads or default_threads()


def _sha256(path: Path) -> str:
    from ragtune.model_registry import sha256_file

    return sha256_file(path)


def _length(tokenizer, example: dict[str, Any]) -> int:
    return len(tokenizer.apply_chat_template(example["prompt"] + example["completion"], tokenize=True,
                                             return_dict=True)["input_ids"])


def _load_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [{k: v for k, v in json.loads(line).items() if k != "id"} for line in f if line.strip()]


def last_checkpoint(folder: Path) -> str | None:
    """The newest complete checkpoint (Trainer writes trainer_state.json last; a kill can leave a partial one)."""
    done = [p for p in folder.glob("checkpoint-*") if p.name[11:].isdigit() and (p / "trainer_state.json").is_file()]
    return str(max(done, key=lambda p: int(p.name[11:]))) if done else None


def checkpoint_step(checkpoint: str | None) -> int:
    """The step a checkpoint folder was saved at (0 for None)."""
    return int(checkpoint.rsplit("-", 1)[1]) if checkpoint else 0
