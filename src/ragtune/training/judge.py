"""AI feedback: an LLM judge compares two answers to a question and the verdict goes into the feedback store.

Each pair is judged twice, with the answers' positions swapped, to remove the judge's order bias: only a
verdict that holds in both orders counts; inconsistent verdicts, and replies the judge's text does not parse
to, are ties (and counted as such). ``judge_agreement`` compares the judge with human votes on the pairs both
have judged (plain agreement, Cohen's kappa and the confusion counts).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

from ragtune.errors import InputError
from ragtune.feedback.records import Feedback, StoredAnswer, normalize_question
from ragtune.feedback.store import FeedbackStore

if TYPE_CHECKING:
    from ragtune.llm import LLM
    from ragtune.training.resources import TrainingResources

Label = Literal["a", "b", "tie"]
LABELS: tuple[Label, ...] = ("a", "b", "tie")
INSTRUCTION = (
    "You compare two answers to the same question and decide which one is better: correct, complete and "
    "supported by the reference or the passages. Reply with one letter: A if answer A is better, B if answer B "
    "is better. Reply TIE only if they are equally good."
)
MAX_PASSAGES = 3
PASSAGE_CHARS = 600
_LEAD = re.compile(r"^\W*(A|B)\b")
_NAMED = re.compile(r"\banswer\s*\(?(A|B)\b", re.IGNORECASE)
_TIE = re.compile(r"\b(tie|equal(ly)?|both|neither)\b", re.IGNORECASE)


def judge_messages(question: str, first: str, second: str, reference: str | None = None,
                   passages: Iterable[str] = ()) -> list[dict[str, str]]:
    """The judge's prompt with ``first`` shown as answer A and ``second`` as answer B."""
    parts = [f"Question: {question}"]
    if reference:
        parts.append(f"Reference answer: {reference}")
    else:
        parts += [f"Passage {i}: {p[:PASSAGE_CHARS]}" for i, p in enumerate(passages, start=1)]
    parts += [f"Answer A: {first}", f"Answer B: {second}", "Which answer is better, A or B?"]
    return [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": "\n\n".join(parts)}]


def parse_verdict(text: str) -> Label | None:
    """'a', 'b' or 'tie' from the judge's reply (a leading letter, "Answer B", or a tie word); None when none."""
    for pattern in (_LEAD, _NAMED):
        if m := pattern.search(text.strip()):
            return m.group(1).lower()  # type: ignore[return-value]
    return "tie" if _TIE.search(text) else None


_SWAP: dict[Label | None, Label | None] = {"a": "b", "b": "a", "tie": "tie", None: None}


@dataclass
class Verdict:
    """The judge's decision on (a, b). ``status``: consistent (same verdict in both orders), inconsistent or
    unparseable (both are ties). ``a_first``/``b_first``: the verdict of each order, in terms of a and b."""

    preferred: Label
    status: Literal["consistent", "inconsistent", "unparseable"]
    a_first: Label | None
    b_first: Label | None
    replies: list[str]
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def comment(self) -> str:
        return (f"position-swapped judge: A-first says {self.a_first or '?'}, B-first says {self.b_first or '?'} "
                f"({self.status})")


class PairwiseJudge:
    """Asks an LLM which of two answers is better, in both orders; deterministic (temperature 0)."""

    def __init__(self, llm: LLM, max_tokens: int = 8) -> None:
        self.llm = llm
        self.max_tokens = max_tokens

    @property
    def model(self) -> str:
        return self.llm.model_id

    def compare(self, question: str, answer_a: str, answer_b: str, reference: str | None = None,
                passages: Iterable[str] = ()) -> Verdict:
        passages = list(passages)[:MAX_PASSAGES]
        gens = [self.llm.generate(judge_messages(question, x, y, reference, passages), max_tokens=self.max_tokens,
                                  temperature=0.0)
                for x, y in ((answer_a, answer_b), (answer_b, answer_a))]
        a_first = parse_verdict(gens[0].text)
        b_first = _SWAP[parse_verdict(gens[1].text)]
        if a_first is None or b_first is None:
            preferred, status = "tie", "unparseable"
        elif a_first == b_first:
            preferred, status = a_first, "consistent"
        else:
            preferred, status = "tie", "inconsistent"
        return Verdict(preferred, status, a_first, b_first, [g.text.strip() for g in gens],
                       sum(g.prompt_tokens for g in gens), sum(g.completion_tokens for g in gens))


# ------------------------------------------------------------------------------------------- the store

Pair = tuple[int, int]  # two answer ids, lower first


def candidate_pairs(store: FeedbackStore, judge_model: str) -> list[Pair]:
    """Pairs of stored answers to the same question with different texts that this judge has not judged yet."""
    judged = {_key(fb.answer_a, fb.answer_b) for fb in store.feedback(kinds=["preference"], source="ai")
              if fb.judge_model == judge_model}
    by_question: dict[str, list[StoredAnswer]] = {}
    for a in store.answers():
        by_question.setdefault(normalize_question(a.question), []).append(a)
    pairs = []
    for group in by_question.values():
        for x, y in combinations(group, 2):
            if x.answer.strip() != y.answer.strip() and _key(x.id, y.id) not in judged:
                pairs.append(_key(x.id, y.id))
    return sorted(pairs)


def reference_answers(resources: TrainingResources, dataset: str | None) -> dict[str, str]:
    """Reference answers by question from a QA dataset's train and validation splits (never the test split,
    which is held out for evaluation); empty when the dataset does not exist."""
    from ragtune.training.data import dataset_folder, read_split

    if dataset is None:
        return {}
    try:
        folder = dataset_folder(resources.workdir, dataset)
    except InputError:
        return {}
    return {normalize_question(r["question"]): r["answer"] for split in ("train", "validation")
            for r in read_split(folder, split)}


@dataclass
class JudgeReport:
    judge_model: str
    pairs: int = 0
    preferred: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("consistent", "inconsistent",
                                                                           "unparseable"), 0))
    with_reference: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    feedback_ids: list[int] = field(default_factory=list)
    agreement: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge_pairs(resources: TrainingResources, pairs: list[Pair] | None = None, limit: int | None = None,
                reference_dataset: str | None = "synth", on_start: Callable[[int], None] | None = None,
                on_pair: Callable[[str], None] | None = None) -> JudgeReport:
    """Judge answer pairs (default: every pair of answers to the same question this judge has not judged) and
    store each verdict as an AI preference. The judge is ``bench.judge`` (default: the project's LLM)."""
    from ragtune.evaluation.bench import judge_llm

    store = resources.feedback()
    llm = judge_llm(resources.judge, resources.llm_config, lambda: resources.llm_for(None))
    judge = PairwiseJudge(llm, resources.judge.max_tokens)
    todo = candidate_pairs(store, judge.model) if pairs is None else [_key(*p) for p in pairs]
    if limit is not None:
        todo = todo[:limit]
    answers = {a.id: a for a in store.answers(ids={i for p in todo for i in p})}
    missing = sorted({i for p in todo for i in p} - set(answers))
    if missing:
        raise InputError(f"no answer with id {', '.join(map(str, missing))} in {store.path}")
    references = reference_answers(resources, reference_dataset)
    report = JudgeReport(judge.model)
    if on_start:
        on_start(len(todo))
    for a_id, b_id in todo:
        a, b = answers[a_id], answers[b_id]
        reference = references.get(normalize_question(a.question))
        passages = list({c.chunk_id: c.text for c in [*a.context, *b.context]}.values())
        verdict = judge.compare(a.question, a.answer, b.answer, reference, passages)
        report.feedback_ids.append(store.add_preference(a_id, b_id, verdict.preferred, source="ai",
                                                        judge_model=judge.model, comment=verdict.comment()))
        report.pairs += 1
        report.preferred[verdict.preferred] += 1
        report.status[verdict.status] += 1
        report.with_reference += reference is not None
        report.prompt_tokens += verdict.prompt_tokens
        report.completion_tokens += verdict.completion_tokens
        if on_pair:
            on_pair(f"{a_id} vs {b_id}: {verdict.preferred}")
    report.agreement = judge_agreement(store, judge.model)
    return report


# ------------------------------------------------------------------------------------------- agreement

def _key(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def _oriented(a: int, b: int, preferred: Label) -> tuple[Pair, Label]:
    """The verdict on (a, b) restated for the pair with the lower id first."""
    return _key(a, b), preferred if a < b else _SWAP[preferred]  # type: ignore[return-value]


def pair_labels(feedback: Iterable[Feedback], answers: dict[int, StoredAnswer] | None = None) -> dict[Pair, Label]:
    """Pairwise verdicts (lower answer id first; the latest wins) from preferences, rankings and, when
    ``answers`` are given, from votes: per question, an answer voted up (net) beats one voted down (net)."""
    labels: dict[Pair, Label] = {}
    votes: Counter[int] = Counter()
    for fb in feedback:
        if fb.kind == "preference":
            pair, label = _oriented(fb.answer_a, fb.answer_b, fb.preferred)
            labels[pair] = label
        elif fb.kind == "ranking":
            for hi, lo in combinations(fb.ranked, 2):
                pair, label = _oriented(hi, lo, "a")
                labels[pair] = label
        elif fb.kind == "rating":
            votes[fb.answer_id] += 1 if fb.rating == "up" else -1
    if answers:
        by_question: dict[str, list[int]] = {}
        for a in votes:
            if votes[a] != 0 and a in answers:
                by_question.setdefault(normalize_question(answers[a].question), []).append(a)
        for voted in by_question.values():
            for x, y in combinations(voted, 2):
                if (votes[x] > 0) != (votes[y] > 0):
                    pair, label = _oriented(x, y, "a" if votes[x] > 0 else "b")
                    labels.setdefault(pair, label)
    return labels


def cohen_kappa(pairs: list[tuple[str, str]], labels: Iterable[str] = LABELS) -> float | None:
    """Cohen's kappa of two raters' labels; None when chance agreement is 1 (a single label used by both)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(x == y for x, y in pairs) / n
    first, second = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    expected = sum(first[k] * second[k] for k in labels) / n**2
    return None if expected == 1 else (observed - expected) / (1 - expected)


def judge_agreement(store: FeedbackStore, judge_model: str | None = None) -> dict[str, Any]:
    """Agreement of AI preferences (one judge model, or all) with human votes on the pairs both judged:
    ``n``, ``agree``, ``agreement`` (share), ``kappa`` (Cohen's, over a/b/tie), ``confusion[human][ai]``."""
    human_fb = store.feedback(source="human")
    voted = {fb.answer_id for fb in human_fb if fb.kind == "rating"}
    human = pair_labels(human_fb, {a.id: a for a in store.answers(ids=voted)})
    ai = pair_labels(fb for fb in store.feedback(kinds=["preference"], source="ai")
                     if judge_model is None or fb.judge_model == judge_model)
    both = [(human[p], ai[p]) for p in sorted(set(human) & set(ai))]
    confusion = {h: {a: sum(1 for x, y in both if (x, y) == (h, a)) for a in LABELS} for h in LABELS}
    agree = sum(x == y for x, y in both)
    return {"judge_model": judge_model, "n": len(both), "agree": agree,
            "agreement": agree / len(both) if both else None, "kappa": cohen_kappa(both), "confusion": confusion,
            "human_pairs": len(human), "ai_pairs": len(ai)}
