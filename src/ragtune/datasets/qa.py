"""A question-answer pair and its JSONL row: {id, question, answer, type, chunk_ids, sources, rating}."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

SPLITS = ("train", "validation", "test")


@dataclass
class Rating:
    accepted: bool
    reason: str


@dataclass
class QAPair:
    """One pair, linked to the chunks it was written from and their source documents."""

    question: str
    answer: str
    type: str
    chunk_ids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    rating: Rating = field(default_factory=lambda: Rating(True, "unrated"))
    id: str = ""

    def __post_init__(self) -> None:
        self.question = " ".join(self.question.split())
        self.answer = " ".join(self.answer.split())
        if not self.id:
            key = "\0".join([self.question, *self.chunk_ids])
            self.id = "qa-" + hashlib.sha1(key.encode()).hexdigest()[:12]

    def to_row(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.question, "answer": self.answer, "type": self.type,
                "chunk_ids": list(self.chunk_ids), "sources": list(self.sources),
                "rating": {"accepted": self.rating.accepted, "reason": self.rating.reason}}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> QAPair:
        rating = row.get("rating") or {}
        return cls(question=row["question"], answer=row["answer"], type=row.get("type", "user"),
                   chunk_ids=list(row.get("chunk_ids") or []), sources=list(row.get("sources") or []),
                   rating=Rating(bool(rating.get("accepted", True)), str(rating.get("reason", "unrated"))),
                   id=str(row.get("id") or ""))
