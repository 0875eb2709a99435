"""Configuration of evaluation and benchmarking (``bench:`` in ragtune.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Cadence = Literal["never", "yearly", "half-yearly", "quarterly", "monthly", "weekly", "daily"]
CHANGES_PER_MONTH: dict[str, float] = {"never": 0.0, "yearly": 1 / 12, "half-yearly": 1 / 6, "quarterly": 1 / 3,
                                       "monthly": 1.0, "weekly": 52 / 12, "daily": 365 / 12}

DEFAULT_METRICS = ["exact_match", "token_f1", "rouge_l", "answer_check", "semantic_similarity",
                   "answer_correctness", "faithfulness", "answer_relevancy", "context_precision", "context_recall",
                   "citation_accuracy", "correct_refusal", "false_refusal", "false_answer"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class JudgeConfig(_Strict):
    """The LLM that grades answers against the reference (``answer_correctness``)."""

    model: str | None = Field(None, description="A profile, GGUF, model directory or served model name; "
                                                "None: the project's own LLM (`llm.model`).")
    backend: Literal["llama_cpp", "transformers", "openai"] | None = Field(
        None, description="None: the project's `llm.backend`.")
    base_url: str | None = Field(None, description="Server of an openai-backend judge.")
    max_tokens: int = Field(8, ge=1, description="Tokens of the judge's verdict.")
    mode: Literal["auto", "on"] = Field(
        "auto", description="auto: first grade control answers (reference answers graded as the answer to their own "
        "question and to another one); use the judge only if it sorts min_accuracy of them right, else "
        "answer_correctness is not measured. on: always use the judge.")
    controls: int = Field(8, ge=2, description="Control answers for auto (half right, half wrong).")
    min_accuracy: float = Field(0.75, ge=0, le=1, description="Control-answer accuracy the judge needs in auto mode.")


class BenchConfig(_Strict):
    """``bench:`` in ragtune.yaml: which arms and metrics ``ragtune bench`` runs, how results are tested,
    priced and reported."""

    arms: list[str] = Field(default_factory=lambda: ["base", "rag"], description="Arms to benchmark "
                            "(comma-separated on the command line): base, rag, rag-advanced, rag:PIPELINE, sft, "
                            "sft+dpo, rag+sft, sft:VERSION.")
    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS),
                               description="Metrics to score (comma-separated on the command line).")
    primary_metric: str = Field("token_f1", description="The quality metric of plots, cost per correct and advise.")
    correct_threshold: float = Field(0.5, ge=0, le=1, description="An answer counts as correct when its "
                                                                  "primary metric is at least this.")
    support_overlap: float = Field(0.6, gt=0, le=1, description="Share of a claim's content words a passage must "
                                                                "contain to support it.")
    bootstrap_samples: int = Field(2000, ge=100, description="Resamples of the bootstrap intervals.")
    permutations: int = Field(10000, ge=100, description="Permutations of the paired tests.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level of the paired tests (Holm-corrected).")
    power: float = Field(0.8, gt=0, lt=1, description="Power of the paired tests' minimum detectable difference "
                                                      "and questions-needed estimates.")
    seed: int = Field(0, description="Seed of the bootstrap and permutation tests.")
    price_sheet: str = Field("laptop-cpu", description="A preset name (laptop-cpu, cloud-gpu, openai-api) or a "
                                                       "YAML file (relative to the project).")
    target: float = Field(0.5, ge=0, le=1, description="The primary-metric level the report's recommendation "
                                                       "aims for (`advise --target-f1` overrides it).")
    queries_per_month: int = Field(10000, ge=1, description="The volume the report prices by default.")
    data_changes: Cadence = Field("quarterly", description="How often the documents change (report default).")
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
