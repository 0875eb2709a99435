"""The AI rater: accepts or rejects each draft pair with a reason. Cheap rule checks first (length,
question form, answer supported by its chunks, question not copied, multi-hop uses both chunks,
unanswerable really unanswered), then an LLM judge. In ``auto`` mode the judge is used only if it sorts
control pairs (a chunk's own sentence vs a sentence of another chunk) well enough: a 135M model cannot,
and a judge that rejects at random would only throw good pairs away."""

from __future__ import annotations

import re
from typing import Any

from ragtune.datasets.config import RaterConfig
from ragtune.datasets.context import SynthContext
from ragtune.datasets.generators.base import Draft
from ragtune.datasets.qa import Rating
from ragtune.datasets.text import QA_WORDS, clip, longest_copied_run, sentences, stems, support, words
from ragtune.errors import ModelError
from ragtune.generation.prompts import NO_ANSWER
from ragtune.text import content_words

ANSWER_PROBLEMS = frozenset({"answer_empty", "answer_too_long", "answer_in_question", "answer_not_supported"})
JUDGE_SYSTEM = ("You check answers against a text. Reply with one word: Yes if the text supports the answer to "
                "the question, No if it does not.")
_VERDICT = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def judge_messages(evidence: str, question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": f"Text: {clip(evidence, 2000)}\n\nQuestion: {question}\nAnswer: {answer}\n\n"
                                        "Does the text support this answer? Reply Yes or No."}]


def parse_verdict(text: str) -> bool | None:
    m = _VERDICT.search(text[:40])
    return None if m is None else m.group(1).lower() == "yes"


class Rater:
    """``rate`` returns Rating(accepted, reason); ``calibrate`` decides whether the judge is used."""

    def __init__(self, config: RaterConfig, ctx: SynthContext) -> None:
        self.config = config
        self.ctx = ctx
        self.use_judge = config.judge == "on"
        self.calibration: dict[str, Any] = {"mode": config.judge}

    def rate(self, draft: Draft) -> Rating:
        reason = self.rule_check(draft)
        if reason:
            return Rating(False, reason)
        if self.use_judge and draft.pair.answer != NO_ANSWER:
            verdict = self.judge(draft.evidence, draft.pair.question, draft.pair.answer)
            if verdict is False:
                return Rating(False, "judge_rejected")
            return Rating(True, "rules+judge" if verdict else "rules (judge unsure)")
        return Rating(True, "rules")

    def rule_check(self, draft: Draft) -> str | None:
        c, q, a = self.config, draft.pair.question, draft.pair.answer
        if len(words(q)) < c.min_question_words:
            return "question_too_short"
        if len(q) > c.max_question_chars:
            return "question_too_long"
        if not q.endswith("?"):
            return "not_a_question"
        if longest_copied_run(q, draft.evidence) > c.max_copied_words:
            return "question_copied"
        if a == NO_ANSWER:
            return self._answerable(q)
        if self._grounding(draft) < c.min_question_support:
            return "question_not_grounded"
        if len(draft.chunks) > 1 and not self._needs_all(q, draft):
            return "single_chunk"
        if not words(a):
            return "answer_empty"
        if len(a) > c.max_answer_chars:
            return "answer_too_long"
        if stems(a) <= stems(q):
            return "answer_in_question"
        if support(a, draft.evidence) < c.min_support:
            return "answer_not_supported"
        return None

    def _grounding(self, draft: Draft) -> float:
        """Share of the question's content words, besides its chunks' document names and section headings,
        that occur in its chunks (0 when it names nothing else: 'What is the Supply Agreement?')."""
        pool = self.ctx.pool
        named = " ".join(f"section {pool.name(ch)} {ch.metadata.get('section', '')}" for ch in draft.chunks)
        asked = stems(draft.pair.question) - stems(named)
        return len(asked & stems(draft.evidence)) / len(asked) if asked else 0.0

    def _answerable(self, question: str) -> str | None:
        """An unanswerable question must mention something that none of the chunks retrieved for it (with
        their document's name) mention."""
        pool = self.ctx.pool
        for chunk in pool.search(question, 5):
            if support(question, f"{pool.name(chunk)}\n{chunk.text}") == 1.0:
                return "possibly_answerable"
        return None

    @staticmethod
    def _needs_all(question: str, draft: Draft) -> bool:
        """The question mentions, for each chunk, a content word that the other chunks lack."""
        used = stems(question)
        vocab = [stems(ch.text) for ch in draft.chunks]
        return all(used & v - set().union(*(o for j, o in enumerate(vocab) if j != i)) for i, v in enumerate(vocab))

    def judge(self, evidence: str, question: str, answer: str) -> bool | None:
        return parse_verdict(self.ctx.generate(judge_messages(evidence, question, answer), max_tokens=4,
                                               temperature=0.0))

    def calibrate(self) -> dict[str, Any]:
        """``auto``: ask the judge about control pairs; use it only at ``judge_min_accuracy`` or better."""
        if self.config.judge != "auto":
            return self.calibration
        pool, rng = self.ctx.pool, self.ctx.rng
        correct = total = 0
        try:
            for _ in range(2 * self.config.judge_controls):  # chunks without usable sentences are skipped
                if total >= self.config.judge_controls:
                    break
                chunk, other = pool.next(), pool.next()
                own, foreign = sentences(chunk.text), sentences(other.text)
                if not own or not foreign:
                    continue
                fact = rng.choice(own)
                named = content_words(fact, QA_WORDS)
                question = f"What does the text say about {max((w for w in words(fact) if w in named), key=len)}?"
                correct += self.judge(chunk.text, question, fact) is True
                correct += self.judge(chunk.text, question, rng.choice(foreign)) is False
                total += 2
        except ModelError as e:
            self.calibration.update(used=False, note=f"judge unavailable: {e}")
            return self.calibration
        accuracy = correct / total if total else 0.0
        self.use_judge = accuracy >= self.config.judge_min_accuracy
        self.calibration.update(used=self.use_judge, controls=total, accuracy=round(accuracy, 3))
        return self.calibration
