"""Training data from the feedback store, in TRL's conversational formats (one JSON object a line).

- ``sft``: ``{"messages": [user, assistant]}`` from answers rated up (more up than down votes, not edited)
  and from edited answers (the correction is the target).
- ``dpo``: ``{"prompt": [user], "chosen": [assistant], "rejected": [assistant]}`` from preferences (ties
  dropped), rankings (every higher/lower pair), edits (correction over original) and, per question, every
  answer rated up over every answer rated down or edited.
- ``kto``: ``{"prompt": [user], "completion": [assistant], "label": bool}``: answers rated up are true, rated
  down false; an edit gives its correction true and the original false.
- ``verdicts``: the labelled questions ``ragtune tune verdicts`` learns from, ``{"id", "question", "answer",
  "label": "Yes" | "No", "document", "contexts"}``, from yes/no questions whose answer was rated up (its own
  verdict) or corrected (the verdict the correction leads with). ``document`` is the source of the answer's first
  passage; ``contexts`` (for Yes) are the quoted sentences of the correction, or of the answer when the
  correction quotes nothing. A rating down says the answer was wrong, not which verdict is right, so it is not
  used. The latest feedback on a (question, document) wins.

The prompt is the user's question. With ``with_context`` it is the grounded prompt the answer was generated
from (system instruction plus its retrieved passages; for a pair, those of the chosen answer). Only feedback
in the window (``since`` a time, ``after_id`` a feedback id, one ``source``) is used.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import datetime
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from ragtune.errors import InputError
from ragtune.feedback.records import Feedback, Source, StoredAnswer, normalize_question
from ragtune.feedback.store import FeedbackStore
from ragtune.generation.answer_forms import parse_yes_no
from ragtune.text import YES_NO_QUESTION, strip_markers

Format = Literal["sft", "dpo", "kto", "verdicts"]
FORMATS: tuple[str, ...] = ("sft", "dpo", "kto", "verdicts")


def feedback_dataset(store: FeedbackStore, format: Format, since: datetime | None = None,
                     after_id: int | None = None, source: Source | None = None,
                     with_context: bool = False, until_id: int | None = None) -> list[dict]:
    """The rows of one export format, in feedback order, without duplicates. ``until_id`` ends the window
    (inclusive), so that several exports read the same feedback even while more is being added."""
    window = store.feedback(since=since, after_id=after_id, source=source)
    return _rows(store, format, [fb for fb in window if until_id is None or fb.id <= until_id], with_context)


def export_feedback(store: FeedbackStore, format: Format, out: str | Path, since: datetime | None = None,
                    after_id: int | None = None, source: Source | None = None,
                    with_context: bool = False) -> dict[str, Any]:
    """Write ``feedback_dataset`` rows to a JSONL file (atomically). ``last_feedback_id`` is the cursor to pass
    as ``after_id`` next time, to get only the feedback gathered since."""
    window = store.feedback(since=since, after_id=after_id, source=source)
    rows = _rows(store, format, window, with_context)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    return {"format": format, "path": str(out), "rows": len(rows), "feedback_used": len(window),
            "last_feedback_id": max((fb.id for fb in window), default=after_id)}


def _rows(store: FeedbackStore, format: Format, window: list[Feedback], with_context: bool) -> list[dict]:
    if format not in FORMATS:
        raise InputError(f"unknown export format {format!r}; available: {', '.join(FORMATS)}")
    answers = {a.id: a for a in store.answers(ids={i for fb in window for i in fb.answer_ids})}
    votes: Counter[int] = Counter()
    edits: dict[int, str] = {}  # the latest correction of each answer
    for fb in window:
        if fb.kind == "rating":
            votes[fb.answer_id] += 1 if fb.rating == "up" else -1
        elif fb.kind == "edit":
            edits[fb.answer_id] = fb.edited_answer
    good = [a for a in votes if votes[a] > 0 and a not in edits]
    bad = [a for a in dict.fromkeys([*votes, *edits]) if votes[a] < 0 or a in edits]

    def prompt(a: StoredAnswer) -> list[dict]:
        return _prompt(a, with_context)

    rows: list[dict] = []
    if format == "verdicts":
        return _verdict_rows(answers, window)
    if format == "sft":
        for a in dict.fromkeys([*good, *edits]):
            rows.append({"messages": [*prompt(answers[a]), _assistant(edits.get(a, answers[a].answer))]})
    elif format == "kto":
        for a in dict.fromkeys([*votes, *edits]):
            ans = answers[a]
            if a in edits:
                rows.append(_kto(prompt(ans), edits[a], True))
            if a in good or a in bad:
                rows.append(_kto(prompt(ans), ans.answer, a in good))
    else:
        pairs: list[tuple[StoredAnswer, str, str]] = []  # (answer whose prompt is used, chosen, rejected)
        for fb in window:
            if fb.kind == "preference" and fb.preferred != "tie":
                win, lose = (fb.answer_a, fb.answer_b) if fb.preferred == "a" else (fb.answer_b, fb.answer_a)
                pairs.append((answers[win], answers[win].answer, answers[lose].answer))
            elif fb.kind == "ranking":
                pairs += [(answers[hi], answers[hi].answer, answers[lo].answer)
                          for hi, lo in combinations(fb.ranked, 2)]
        pairs += [(answers[a], text, answers[a].answer) for a, text in edits.items()]
        by_question: dict[str, list[int]] = {}
        for a in bad:
            by_question.setdefault(normalize_question(answers[a].question), []).append(a)
        for a in good:
            for b in by_question.get(normalize_question(answers[a].question), []):
                pairs.append((answers[a], answers[a].answer, answers[b].answer))
        rows = [{"prompt": prompt(ans), "chosen": [_assistant(c)], "rejected": [_assistant(r)]}
                for ans, c, r in pairs if c.strip() != r.strip()]
    return _unique(rows)


_LEAD = re.compile(r"^\W*(?:yes|no)\b[\s.,;:!-]*(?:the closest passages:\s*)?", re.IGNORECASE)


def _quoted(text: str) -> list[str]:
    """The sentences a yes/no answer quotes after its verdict, without citation markers (none under 5 words)."""
    rest = strip_markers(_LEAD.sub("", text.strip(), count=1)).strip()
    return [rest] if len(rest.split()) >= 5 else []


def _verdict_rows(answers: dict[int, StoredAnswer], window: list[Feedback]) -> list[dict]:
    latest: dict[tuple[str, str], dict] = {}
    for fb in window:
        if fb.kind not in ("rating", "edit") or (fb.kind == "rating" and fb.rating != "up"):
            continue
        ans = answers[fb.answer_id]
        source = next((c.source for c in ans.context if c.source), None)
        if source is None or not YES_NO_QUESTION.match(" ".join(ans.question.lower().split())):
            continue
        text = fb.edited_answer if fb.kind == "edit" else ans.answer
        said = parse_yes_no(text)
        if said is None:
            continue
        contexts = (_quoted(text) or (_quoted(ans.answer) if parse_yes_no(ans.answer) else [])) if said else []
        key = (normalize_question(ans.question), source)
        latest.pop(key, None)  # keep feedback order, the latest last
        latest[key] = {"id": f"answer-{ans.id}", "question": ans.question, "answer": "Yes" if said else "No",
                       "label": "Yes" if said else "No", "document": source, "contexts": contexts}
    return list(latest.values())


def _prompt(answer: StoredAnswer, with_context: bool) -> list[dict]:
    if not (with_context and answer.context):
        return [{"role": "user", "content": answer.question}]
    from ragtune.documents.models import Chunk
    from ragtune.generation.prompts import grounded_messages

    chunks = [Chunk(c.chunk_id, c.source or "", c.text, 0, len(c.text), c.page, 0) for c in answer.context]
    return grounded_messages(answer.question, chunks)


def _assistant(text: str) -> dict:
    return {"role": "assistant", "content": text}


def _kto(prompt: list[dict], completion: str, label: bool) -> dict:
    return {"prompt": prompt, "completion": [_assistant(completion)], "label": label}


def _unique(rows: list[dict]) -> list[dict]:
    seen: set[str] = set()
    kept = []
    for row in rows:
        key = json.dumps(row, sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept
