"""Configuration of fine-tuning (SFT, preference tuning, the continuous loop)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class LoRAConfig(_Strict):
    """The low-rank adapter trained on top of the frozen base model (PEFT ``LoraConfig``)."""

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: str | list[str] = Field(
        "all-linear", description="Module names to adapt, or 'all-linear' (every linear layer but the LM head).")


class RAFTConfig(_Strict):
    """Retrieval-augmented fine-tuning (``--rag``): each prompt is the grounded RAG prompt holding the gold
    chunk(s) among ``distractors`` other chunks retrieved for the question, so the model learns to find and cite
    the right passage and to ignore the rest."""

    distractors: int = Field(3, ge=0, description="Retrieved non-gold chunks per prompt.")
    p_gold: float = Field(1.0, ge=0, le=1, description="Share of prompts that hold the gold chunks (RAFT's P); "
                          "the others keep the answer but only distractors, which trains recall of the facts.")
    cite: bool = Field(True, description="Append the gold passages' [n] markers to the target answer.")


class SFTConfig(_Strict):
    """LoRA supervised fine-tuning (``ragtune tune sft``) on a dataset's train split; validation split for the
    eval loss, test split for the held-out token F1 / ROUGE-L of base and tuned model."""

    base_model: str | None = Field(None, description="Profile, GGUF file, model directory or hub id; default: "
                                   "the project's llm.model.")
    dataset: str = Field("synth", description="A dataset name under .ragtune/datasets/ or a folder with "
                         "train/validation/test.jsonl.")
    epochs: float = Field(2.0, gt=0)
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (beats epochs).")
    learning_rate: float = Field(2e-4, gt=0)
    lr_scheduler: str = "cosine"
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    batch_size: int = Field(8, ge=1, description="Examples per device and step, flattened padding-free.")
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(2048, ge=64, description="Longer examples (in tokens) are left out and counted.")
    lora: LoRAConfig = Field(default_factory=LoRAConfig)
    rag: bool = Field(False, description="Train on RAG prompts with distractor chunks (see raft).")
    raft: RAFTConfig = Field(default_factory=RAFTConfig)
    system_prompt: str = Field(
        "You are an assistant for questions about the user's documents. Answer briefly and precisely.",
        description="System message of closed-book (non-RAG) training and evaluation prompts.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on GPUs that support it and on CPUs with native bf16 (AVX512-BF16/AMX), "
        "else fp32.")
    threads: int | None = Field(None, ge=1, description="CPU threads (default: the cores available).")
    seed: int = 0
    save_steps: int = Field(10, ge=1, description="Checkpoint every N steps (for --resume).")
    merge: bool = Field(True, description="Also save the adapter merged into the base weights (merged/).")
    export_gguf: bool = Field(True, description="Convert the adapter to a GGUF LoRA so llama_cpp serves it.")
    evaluate: bool = Field(True, description="Score base and tuned model on the test split after training.")
    eval_limit: int | None = Field(None, ge=1, description="Score at most this many test questions.")


class TrainingConfig(_Strict):
    """``training:`` in ragtune.yaml."""

    sft: SFTConfig = Field(default_factory=SFTConfig)
