"""Preference tuning from the feedback store, shared by DPO (``dpo.py``) and KTO (``kto.py``).

The training rows are the store's TRL exports (``prompt/chosen/rejected`` or ``prompt/completion/label``), with
the closed-book system prompt of SFT added, so TRL formats them with the model's own chat template. Training
starts from the LLM champion's adapter (TRL keeps a frozen copy of it as the reference model) or, without a
champion, from a new LoRA adapter on the base model (the reference is the base, adapters disabled). The result is
registered as a ``dpo``/``kto`` version whose parent is what it trained from, exported to a GGUF LoRA for
llama_cpp like SFT versions, and optionally scored on the SFT dataset's test split. Runs checkpoint every
``save_steps`` and ``resume`` continues the last interrupted one with its own data and settings."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ragtune.errors import InputError
from ragtune.model_registry import ADAPTER, ModelVersion
from ragtune.training.config import PreferenceConfig
from ragtune.training.sft import LoRASFT, OnProgress, checkpoint_step, last_checkpoint, no_progress

if TYPE_CHECKING:
    from ragtune.training.resources import TrainingResources

CHAMPION = "champion"
_REPORTED = ("train_loss", "rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected", "kl")


@dataclass
class TuneResult:
    """What ``tune dpo`` / ``tune kto`` produced."""

    version: ModelVersion | None
    train: dict[str, Any] = field(default_factory=dict)
    examples: int = 0
    feedback: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version.model_dump() if self.version else None, "train": self.train,
                "examples": self.examples, "feedback": self.feedback, "warnings": self.warnings}


class PreferenceTuner:
    """LoRA preference tuning of the LLM on feedback rows; subclasses name the TRL trainer and export format."""

    kind: ClassVar[str]

    def __init__(self, resources: TrainingResources, config: PreferenceConfig | None = None) -> None:
        self.resources = resources
        self.config = config or getattr(resources.training, self.kind)
        self.registry = resources.registry
        self.sft = LoRASFT(resources)  # the base model, the prompt format and the finishing steps

    # data
    def rows(self, after_id: int | None = None, until_id: int | None = None) -> list[dict[str, Any]]:
        """This method's export of the feedback in the window, in the closed-book prompt format."""
        from ragtune.datasets.exports import feedback_dataset

        rows = feedback_dataset(self.resources.feedback(), self.kind, after_id=after_id, until_id=until_id,
                                source=self.config.source, with_context=self.config.with_context)
        system = {"role": "system", "content": self.sft.config.system_prompt}
        return [{**r, "prompt": r["prompt"] if r["prompt"][0]["role"] == "system" else [system, *r["prompt"]]}
                for r in rows]

    def check(self, rows: list[dict[str, Any]]) -> None:
        """Raise InputError when the rows cannot train this method."""
        if not rows:
            raise InputError(f"no {self.kind.upper()} training rows in the feedback store (window): add ratings, "
                             "preferences, rankings or edits (`ragtune feedback add ...`), or judge answer pairs "
                             "(`ragtune tune judge`)")

    def trl_trainer(self, model, args: dict[str, Any], train, tokenizer, peft_config, callbacks):
        """The TRL trainer of this method over ``train`` (a datasets.Dataset)."""
        raise NotImplementedError

    # runs
    def _runs(self) -> Path:
        return self.registry.root / "runs"

    def resolve_parent(self, parent: str | None) -> str | None:
        """``champion`` (default): the current LLM champion, or None (the base model) when there is none."""
        if parent in (None, "base"):
            return None
        if parent == CHAMPION:
            champion = self.registry.champion("llm")
            return champion.id if champion else None
        return self.registry.get(parent).id

    def run(self, parent: str | None = CHAMPION, rows: list[dict[str, Any]] | None = None,
            feedback: dict[str, Any] | None = None, resume: bool = False,
            on_progress: OnProgress | None = None) -> TuneResult:
        """Train, register, export and (optionally) score a new version. ``rows`` default to the export of all
        feedback; ``feedback`` describes their window (recorded in the version's config)."""
        report = on_progress or no_progress
        if resume:
            run_dir = self._interrupted_run()
            request = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
            self.config = type(self.config).model_validate(request["config"])
        else:
            parent = self.resolve_parent(parent)
            rows = self.rows() if rows is None else rows
            self.check(rows)
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            base = self.registry.get(parent).config if parent else {"base_model": self.sft.base_model,
                                                                    "base_gguf_file": self.sft.base_gguf_file}
            request = {"kind": self.kind, "config": self.config.model_dump(mode="json"), "parent": parent,
                       "base_model": base["base_model"], "base_gguf_file": base.get("base_gguf_file"),
                       "feedback": {"rows": len(rows), **(feedback or {})},
                       "data_sha256": hashlib.sha256(data.encode()).hexdigest()}
            key = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:12]
            run_dir = self._runs() / f"{self.kind}-{key}"
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            (run_dir / "train.jsonl").write_text(data, encoding="utf-8")
            (run_dir / "run.json").write_text(json.dumps(request, indent=2), encoding="utf-8")
        trainer = self.build_trainer(run_dir, request, report)
        last = last_checkpoint(run_dir / "checkpoints") if resume else None
        t0 = time.perf_counter()
        output = trainer.train(resume_from_checkpoint=last)
        seconds = time.perf_counter() - t0
        logs = [h for h in trainer.state.log_history if "loss" in h]
        result = TuneResult(None, examples=len(trainer.train_dataset), feedback=request["feedback"])
        result.train = {"steps": trainer.state.global_step, "resumed_from": checkpoint_step(last),
                        "train_loss": round(output.training_loss, 4), "seconds": round(seconds, 1),
                        **{k: round(float(logs[-1][k]), 4) for k in _REPORTED[1:] if logs and k in logs[-1]}}
        staging = run_dir / "version"
        shutil.rmtree(staging, ignore_errors=True)
        trainer.model.save_pretrained(staging / ADAPTER, selected_adapters=["default"])
        trainer.processing_class.save_pretrained(staging / ADAPTER)
        eval_folder = self._eval_folder()
        config = {self.kind: self.config.model_dump(mode="json"), "sft": self.sft.config.model_dump(mode="json"),
                  "base_model": request["base_model"], "base_gguf_file": request["base_gguf_file"],
                  "dataset": self.sft.config.dataset, "dataset_dir": str(eval_folder) if eval_folder else None,
                  "mode": "closed_book", "feedback": request["feedback"]}
        version = self.registry.add(self.kind, staging, parent=request["parent"],
                                    metrics={**{k: v for k, v in result.train.items() if k in _REPORTED},
                                             "seconds": result.train["seconds"],
                                             "examples": {"train": result.examples}},
                                    data_files={"train": run_dir / "train.jsonl"}, config=config)
        shutil.rmtree(run_dir, ignore_errors=True)
        result.warnings += self.finish(version, report, evaluate=self.config.evaluate and eval_folder is not None)
        result.version = self.registry.get(version.id)
        return result

    def finish(self, version: ModelVersion, report: OnProgress, evaluate: bool) -> list[str]:
        """GGUF LoRA export for llama_cpp and optional scoring, through the SFT trainer's finishing steps (the
        merged folder is made on demand by `ragtune models export`)."""
        sft = self.sft.config.model_copy(update={"merge": False, "export_gguf": True, "evaluate": evaluate})
        return LoRASFT(self.resources, sft).finish(version, report)

    def _eval_folder(self) -> Path | None:
        from ragtune.training.data import dataset_folder

        try:
            folder = dataset_folder(self.resources.workdir, self.sft.config.dataset)
        except InputError:
            return None
        return folder if (folder / "test.jsonl").is_file() else None

    def _interrupted_run(self) -> Path:
        runs = [p.parent for p in self._runs().glob(f"{self.kind}-*/run.json")]
        runs = [r for r in runs if any((r / "checkpoints").glob("checkpoint-*"))]
        if not runs:
            raise InputError(f"no interrupted {self.kind} run to resume in {self._runs()}")
        return max(runs, key=lambda r: (r / "run.json").stat().st_mtime)

    def build_trainer(self, run_dir: Path, request: dict[str, Any], report: OnProgress | None = None):
        """The TRL trainer over the run's rows: the parent's adapter continued (TRL copies it as the frozen
        reference) or a new LoRA adapter on the base model (the reference is the base)."""
        import torch
        from datasets import Dataset
        from peft import LoraConfig, PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, set_seed

        from ragtune.generation.llms.transformers import hf_model_dir
        from ragtune.training.sft import default_threads, pick_precision, progress_callback

        cfg, parent = self.config, request["parent"]
        set_seed(cfg.seed)
        torch.set_num_threads(cfg.threads or default_threads())
        base = hf_model_dir(request["base_model"], request["base_gguf_file"])
        precision = pick_precision(cfg.precision)
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        peft_config = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                 target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")
        if parent is not None:
            model = PeftModel.from_pretrained(model, str(self.registry.folder(parent) / ADAPTER), is_trainable=True)
            peft_config = None
        with (run_dir / "train.jsonl").open(encoding="utf-8") as f:
            train = Dataset.from_list([json.loads(line) for line in f if line.strip()])
        args = dict(
            output_dir=str(run_dir / "checkpoints"), seed=cfg.seed, data_seed=cfg.seed,
            num_train_epochs=cfg.epochs, max_steps=cfg.max_steps or -1, per_device_train_batch_size=cfg.batch_size,
            gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate,
            lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_ratio, beta=cfg.beta,
            max_length=cfg.max_length, gradient_checkpointing=False, bf16=precision == "bf16",
            fp16=precision == "fp16", use_cpu=not torch.cuda.is_available(), save_strategy="steps",
            save_steps=cfg.save_steps, save_total_limit=2, logging_steps=1, report_to=[], disable_tqdm=True,
            dataloader_num_workers=0,
        )
        callbacks = [progress_callback(report or no_progress)]
        trainer = self.trl_trainer(model, args, train, tokenizer, peft_config, callbacks)
        trainer.remove_callback(PrinterCallback)
        return trainer

