"""Training examples from a QA dataset (rows {id, question, answer, type, chunk_ids, sources, rating}):
closed-book prompts, or RAG prompts with the gold chunks among retrieved distractors (RAFT), as TRL
prompt-completion conversations, so the model's own chat template formats them and the loss covers the answer
only."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.datasets.beir import read_jsonl
from ragtune.documents.chunkers.base import sentences
from ragtune.documents.models import Chunk
from ragtune.errors import InputError
from ragtune.generation.prompts import NO_ANSWER, grounded_messages
from ragtune.llm import Message
from ragtune.text import content_words
from ragtune.training.config import SFTConfig

if TYPE_CHECKING:
    from ragtune.training.resources import TrainingResources

SPLITS = ("train", "validation", "test")


def dataset_folder(workdir: Path, name: str) -> Path:
    """A dataset name under ``workdir/datasets/`` (``workdir``: a project's ``.ragtune/``) or a folder holding
    ``train.jsonl``."""
    for folder in (workdir / "datasets" / name, Path(name).expanduser()):
        if (folder / "train.jsonl").is_file():
            return folder.resolve()
    raise InputError(f"no dataset {name!r} in {workdir.parent}: run `ragtune data synth` first, or give a folder "
                     "with train.jsonl (and validation.jsonl, test.jsonl)")


def read_split(folder: Path, split: str) -> list[dict[str, Any]]:
    """Rows of ``<folder>/<split>.jsonl`` (an empty list when the file is missing)."""
    path = folder / f"{split}.jsonl"
    if not path.is_file():
        return []
    rows = []
    for n, row in read_jsonl(path):
        if not (isinstance(row.get("question"), str) and isinstance(row.get("answer"), str)
                and row["question"].strip() and row["answer"].strip()):
            raise InputError(f"{path} line {n}: expected an object with non-empty 'question' and 'answer' strings")
        rows.append(row)
    return rows


def supporting_sentence(answer: str, passages: list[tuple[int, Chunk]]) -> tuple[int, str]:
    """(passage number, sentence): the sentence of the numbered passages sharing the most of the answer's
    content words (the first on ties), white space folded."""
    wanted = content_words(answer)
    best = (-1, passages[0][0], " ".join(passages[0][1].text.split()))
    for n, chunk in passages:
        for start, end in sentences(chunk.text, (0, len(chunk.text))):
            text = " ".join(chunk.text[start:end].split())
            if text and (overlap := len(wanted & content_words(text))) > best[0]:
                best = (overlap, n, text)
    return best[1], best[2]


class PromptBuilder:
    """Builds the prompts of one training mode. Closed-book: system prompt + question. RAG: the grounded prompt
    ``ask`` uses, over the gold chunks and ``raft.distractors`` chunks retrieved for the question."""

    def __init__(self, resources: TrainingResources, config: SFTConfig) -> None:
        self.resources = resources
        self.config = config

    @property
    def mode(self) -> str:
        return "rag" if self.config.rag else "closed_book"

    def closed_book(self, question: str) -> list[Message]:
        return [{"role": "system", "content": self.config.system_prompt}, {"role": "user", "content": question}]

    def example(self, row: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
        """A prompt-completion example, or None when a RAG example's gold chunks are no longer in the index."""
        answer = row["answer"].strip()
        if not self.config.rag:
            prompt = self.closed_book(row["question"])
        else:
            raft = self.config.raft
            gold_ids = list(row.get("chunk_ids") or [])
            gold = self.resources.store.chunks(gold_ids) if gold_ids else []
            if gold_ids and not gold:
                return None
            hits = self.resources.retrieve(row["question"], top_k=raft.distractors + len(gold_ids)).hits
            wanted = {c.id for c in gold} | set(gold_ids)
            distractors = [h.chunk for h in hits if h.chunk.id not in wanted][: raft.distractors]
            with_gold = bool(gold) and rng.random() < raft.p_gold
            chunks = distractors + (gold if with_gold else [])
            rng.shuffle(chunks)
            if with_gold and answer != NO_ANSWER:
                gold_set = {c.id for c in gold}
                numbers = [i for i, c in enumerate(chunks, start=1) if c.id in gold_set]
                if raft.quote:
                    n, sentence = supporting_sentence(answer, [(i, chunks[i - 1]) for i in numbers])
                    answer = f'"{sentence}" [{n}]\nAnswer: {answer}'
                elif raft.cite:
                    answer += " " + "".join(f"[{i}]" for i in numbers)
            prompt = grounded_messages(row["question"], chunks)
        return {"id": str(row.get("id", "")), "prompt": prompt,
                "completion": [{"role": "assistant", "content": answer}]}

    def examples(self, rows: list[dict[str, Any]], seed: int) -> tuple[list[dict[str, Any]], int]:
        """Examples for ``rows`` and how many rows were left out (gold chunks missing from the index)."""
        rng = random.Random(seed)
        built = [self.example(row, rng) for row in rows]
        return [e for e in built if e is not None], sum(e is None for e in built)

    def eval_messages(self, question: str) -> list[Message]:
        """The prompt a question is scored with: closed-book, or the grounded prompt over what retrieval finds."""
        if not self.config.rag:
            return self.closed_book(question)
        return grounded_messages(question, [h.chunk for h in self.resources.retrieve(question).hits])
