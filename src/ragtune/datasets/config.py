"""Configuration of dataset building: synthetic QA generators, the rater, deduplication and splits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class GeneratorConfig(_Strict):
    """Options every generator has. ``weight`` is its share of the mix (weights are normalised)."""

    weight: float = Field(0.2, ge=0, description="Share of the mix (weights are normalised).")


class LLMGeneratorConfig(GeneratorConfig):
    """Generators that prompt the project's LLM for a ``Question: ... / Answer: ...`` pair."""

    max_tokens: int = Field(96, ge=8, description="Tokens the model may write for the pair.")
    temperature: float = Field(0.4, ge=0, description="Sampling temperature.")
    max_retries: int = Field(1, ge=0, description="Extra LLM calls when the output cannot be parsed.")
    focus_sentences: int = Field(2, ge=1, description="Sentences of the chunk shown to the model.")
    fallback_answer: bool = Field(True, description="When the model's answer is not supported by the chunk, "
                                                    "answer with the sentences the question was written from.")


class ExtractiveConfig(GeneratorConfig):
    """Questions built from a chunk without an LLM: definitions and section headings."""

    weight: float = Field(0.3, ge=0, description="Share of the mix (weights are normalised).")
    max_answer_chars: int = Field(400, ge=40, description="Longest answer kept, in characters.")


class GeneratorsConfig(_Strict):
    """One section per registered generator; the row ``type`` is the generator's name."""

    factual: LLMGeneratorConfig = Field(default_factory=lambda: LLMGeneratorConfig(weight=0.3, focus_sentences=1))
    reasoning: LLMGeneratorConfig = Field(default_factory=lambda: LLMGeneratorConfig(weight=0.15, max_tokens=128))
    multi_hop: LLMGeneratorConfig = Field(default_factory=lambda: LLMGeneratorConfig(weight=0.15, max_tokens=128,
                                                                                     focus_sentences=1))
    unanswerable: LLMGeneratorConfig = Field(default_factory=lambda: LLMGeneratorConfig(weight=0.1, max_tokens=48,
                                                                                        fallback_answer=False))
    extractive: ExtractiveConfig = Field(default_factory=ExtractiveConfig)


class RaterConfig(_Strict):
    """Accept or reject each pair: cheap rule checks, then (when it proves able to) an LLM judge."""

    min_question_words: int = Field(4, ge=1)
    max_question_chars: int = Field(300, ge=20)
    max_answer_chars: int = Field(600, ge=20)
    min_support: float = Field(0.75, ge=0, le=1, description="Share of the answer's content words found in its "
                                                                 "chunks.")
    min_question_support: float = Field(0.5, ge=0, le=1, description="Share of the question's content words found "
                                                                          "in its chunks (it is about them).")
    max_copied_words: int = Field(12, ge=3, description="Longest run of words the question may copy from its chunk.")
    judge: Literal["auto", "on", "off"] = Field(
        "auto", description="auto: use the LLM judge only if it sorts control pairs (known good and bad) well enough."
    )
    judge_controls: int = Field(8, ge=2, description="Control pairs for the auto calibration (half good, half bad).")
    judge_min_accuracy: float = Field(0.75, ge=0, le=1)


class SplitConfig(_Strict):
    """Deduplication and the train/validation/test split."""

    by: Literal["question", "document"] = "question"
    validation: float = Field(0.1, ge=0, lt=1)
    test: float = Field(0.2, ge=0, lt=1, description="Share of the pairs held out for testing (with the default "
                        "300 pairs, 60 questions: fewer cannot separate arms by the differences that matter).")
    min_test: int = Field(60, ge=0, description="Test questions below which the dataset card warns that a benchmark "
                          "on the split can tell apart only large differences (0: no warning, for a split that "
                          "no benchmark uses).")
    dedup_threshold: float = Field(0.92, gt=0, le=1, description="Cosine similarity of questions above which the "
                                                                  "later one is a near-duplicate and dropped.")
    leakage_threshold: float = Field(0.85, gt=0, le=1, description="No test or validation question may be this "
                                                                    "similar to a training question.")

    @model_validator(mode="after")
    def _check(self) -> SplitConfig:
        if self.validation + self.test >= 1:
            raise ValueError("validation + test must leave room for training (sum below 1)")
        return self


class SynthConfig(_Strict):
    """``ragtune data synth``: how many pairs, from which generators, with which seed."""

    n: int = Field(300, ge=1, description="Pairs wanted (accepted after rating and deduplication).")
    seed: int = Field(0, description="Seed of the chunk order, the generator mix and the splits.")
    max_attempts: int = Field(3, ge=1, description="Candidates tried per wanted pair before giving up on it.")
    min_chunk_tokens: int = Field(30, ge=1, description="Chunks shorter than this are not used.")
    generators: GeneratorsConfig = Field(default_factory=GeneratorsConfig)


class DatasetsConfig(_Strict):
    """``datasets:`` in ragtune.yaml."""

    synth: SynthConfig = Field(default_factory=SynthConfig)
    rater: RaterConfig = Field(default_factory=RaterConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
