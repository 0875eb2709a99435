"""Configuration of multi-document analysis (``compare:`` in ragtune.yaml)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ragtune.generation.expressions import ExpressionsConfig


class CompareConfig(BaseModel):
    """``ragtune compare``: per document, retrieve ``top_k`` chunks for the aspect and answer with ``strategy``
    (map), then compare the rows (reduce). An empty generation is retried ``retries`` times, then degrades."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    top_k: int = Field(3, ge=1)
    pipeline: str | None = Field(None, description="Retrieval pipeline per document (default: retrieval.pipeline).")
    strategy: str | None = Field(None, description="Answer strategy of the map (default: answer.strategy): extract "
                                 "and extract+generate quote each document's clause, verbatim and cited, and the "
                                 "synthesis is a template of key terms; generate has the LLM summarise each "
                                 "document's passages and compare the summaries.")
    map_max_tokens: int = Field(160, ge=8)
    reduce_max_tokens: int = Field(256, ge=8)
    retries: int = Field(1, ge=0)


class AnswerConfig(BaseModel):
    """``answer:`` in ragtune.yaml: how answers are made from the retrieved passages (``strategy``: extract,
    extract+generate or generate; docs/benchmarking.md has the measurements behind the default)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    strategy: str = Field("extract", description="extract: the best sentences, verbatim and cited, no "
                          "LLM; extract+generate: the LLM reads only those sentences and answers in the form the "
                          "question asks for (answer.pack's forms), the sentences attached; generate: the LLM "
                          "reads every passage.")
    sentences: int = Field(2, ge=1, description="Sentences the extractive strategies select.")
    scorer: str = Field("embedder", description="What scores sentences against the question: embedder (cosine) "
                        "or a cross-encoder (a registry version id, champion: the scorer `ragtune tune reader` "
                        "or `tune loop` promoted, the embedder until there is one; a local folder or hub id).")
    max_sentence_chars: int = Field(600, ge=40, description="Longer sentences are cut at a word boundary.")
    form_bonus: float = Field(0.3, ge=0, description="Added to the score of a sentence that holds the kind of "
                              "value the question asks for (``answer.pack``'s ``states_form``); 0 turns it "
                              "off.")
    pack: str = Field("generic", description="The answer pack: a domain's rules for the kind of value a question "
                      "asks for, yes/no verdicts and document answers (generic: none; contracts; docs/packs.md).")
    pack_options: dict[str, Any] = Field(default_factory=dict, description="Options of the pack, validated by its "
                                         "Config (yes_threshold, head_chars; docs/packs.md).")
    verdicts: str | None = Field(None, description="Yes/no questions answered by a trained verdict model "
                                 "(`ragtune tune verdicts`, `tune reader` or `tune loop`: a registry version id, "
                                 "champion, or its folder), from every passage of their document; other questions, "
                                 "and all while there is no champion, keep the pack's yes_threshold.")
    max_tokens: int = Field(32, ge=4, description="Length of extract+generate's short answer.")
    expressions: ExpressionsConfig = Field(default_factory=ExpressionsConfig, description="extract+compute's "
                                           "expression writer: the LLM writes the arithmetic over the operands "
                                           "read when the pack knows no formula (docs/packs.md).")

    @model_validator(mode="after")
    def _known_pack(self) -> AnswerConfig:
        from ragtune.packs import packs

        packs.get(self.pack).Config(**self.pack_options)  # an unknown pack or option is a validation error
        return self
