"""Feedback records: the answers shown, the four kinds of feedback on them, and the rows of an import file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from ragtune.errors import InputError

Source = Literal["human", "ai"]
KINDS = ("rating", "preference", "ranking", "edit")


def normalize_question(question: str) -> str:
    """Questions that differ only in whitespace are the same question."""
    return " ".join(question.split())


class ContextChunk(BaseModel):
    """A retrieved chunk the answer was generated from (extra keys of ``Answer.chunks`` are ignored)."""

    model_config = ConfigDict(extra="ignore")

    chunk_id: str
    text: str
    source: str | None = None
    page: int | None = None


class StoredAnswer(BaseModel):
    """An answer that was shown, as stored."""

    id: int
    question: str
    answer: str
    context: list[ContextChunk]
    model: str | None
    pipeline: str | None
    details: dict[str, Any]
    created_at: datetime


class _Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    comment: str | None = None
    source: Source = "human"
    judge_model: str | None = Field(None, description="The judge model; required when source is ai.")
    rater: str | None = Field(None, description="Who gave the feedback (a user name or id), if known.")
    id: int | None = Field(None, description="Set by the store.")
    created_at: datetime | None = Field(None, description="Default: when it is stored.")

    @model_validator(mode="after")
    def _judge(self):
        if self.source == "ai" and not self.judge_model:
            raise ValueError("feedback from an ai source needs judge_model")
        if self.source == "human" and self.judge_model:
            raise ValueError("judge_model is only for source ai")
        return self

    @property
    def answer_ids(self) -> list[int]:
        raise NotImplementedError


class Rating(_Feedback):
    """Thumbs up or down on one answer."""

    kind: Literal["rating"] = "rating"
    answer_id: int
    rating: Literal["up", "down"]

    @property
    def answer_ids(self) -> list[int]:
        return [self.answer_id]


class Preference(_Feedback):
    """Answer A versus answer B to the same question, and which is better."""

    kind: Literal["preference"] = "preference"
    answer_a: int
    answer_b: int
    preferred: Literal["a", "b", "tie"]

    @model_validator(mode="after")
    def _distinct(self):
        if self.answer_a == self.answer_b:
            raise ValueError("a preference compares two different answers")
        return self

    @property
    def answer_ids(self) -> list[int]:
        return [self.answer_a, self.answer_b]


class Ranking(_Feedback):
    """Answers to the same question ordered best first."""

    kind: Literal["ranking"] = "ranking"
    ranked: list[int] = Field(min_length=2, description="Answer ids, best first.")

    @field_validator("ranked")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("an answer appears twice in the ranking")
        return v

    @property
    def answer_ids(self) -> list[int]:
        return list(self.ranked)


class Edit(_Feedback):
    """A corrected version of an answer."""

    kind: Literal["edit"] = "edit"
    answer_id: int
    edited_answer: str = Field(min_length=1)

    @property
    def answer_ids(self) -> list[int]:
        return [self.answer_id]


Feedback = Annotated[Rating | Preference | Ranking | Edit, Field(discriminator="kind")]
FEEDBACK_ADAPTER = TypeAdapter(Feedback)


class FeedbackRow(BaseModel):
    """One line of an imported JSONL or CSV file. Answers are referenced by stored id (``answer_id``,
    ``answer_a_id``, ``answer_b_id``, ``ranked_ids``) or given as text with the ``question``
    (``answer``, ``answer_a``, ``answer_b``, ``ranked``); text answers are matched to a stored answer with
    the same question and text, or stored as new answers."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    kind: Literal["rating", "preference", "ranking", "edit"]
    question: str | None = None
    model: str | None = None
    answer_id: int | None = None
    answer: str | None = None
    rating: Literal["up", "down"] | None = None
    answer_a_id: int | None = None
    answer_a: str | None = None
    answer_b_id: int | None = None
    answer_b: str | None = None
    preferred: Literal["a", "b", "tie"] | None = None
    ranked_ids: list[int] | None = None
    ranked: list[str] | None = None
    edited_answer: str | None = None
    comment: str | None = None
    source: Source = "human"
    judge_model: str | None = None
    rater: str | None = None
    created_at: datetime | None = None

    @model_validator(mode="after")
    def _complete(self):
        refs = {"rating": [("answer_id", "answer")], "edit": [("answer_id", "answer")],
                "preference": [("answer_a_id", "answer_a"), ("answer_b_id", "answer_b")],
                "ranking": [("ranked_ids", "ranked")]}[self.kind]
        for by_id, by_text in refs:
            given = [f for f in (by_id, by_text) if getattr(self, f) is not None]
            if len(given) != 1:
                raise ValueError(f"a {self.kind} needs exactly one of {by_id} or {by_text}")
            if given[0] == by_text and not (self.question or "").strip():
                raise ValueError(f"{by_text} given as text needs the question")
        needed = {"rating": "rating", "preference": "preferred", "edit": "edited_answer"}.get(self.kind)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"a {self.kind} needs {needed}")
        return self


def validate_feedback(data: dict) -> Rating | Preference | Ranking | Edit:
    """A feedback record from its dict form (e.g. a web request body); InputError names what is wrong."""
    try:
        return FEEDBACK_ADAPTER.validate_python(data)
    except ValidationError as e:
        raise InputError(f"invalid feedback: {describe_error(e, union=True)}") from None


def describe_error(error: ValidationError, union: bool = False) -> str:
    """One line; ``union``: the error locations start with the tag of the Feedback union."""
    parts = []
    for e in error.errors():
        loc = ".".join(map(str, e["loc"][1:] if union else e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)
