"""The continuous loop: feedback -> data -> train -> evaluate -> promote or keep.

Each round takes the feedback gathered since the last round (a feedback-id cursor) and trains what
``training.loop.stages`` names, in order:

- ``reader``: the reader's models of ``ragtune tune reader`` (the yes/no verdict model and the answer-sentence
  scorer), retrained on the ``verdicts`` export of all the feedback so far (yes/no answers rated up or corrected,
  with the clauses they quote) after the rows of ``training.reader.questions``, if set. Each candidate is gated
  against its champion on labelled documents held out of its training, and promoted or rejected (``ReaderTuner``).
  Too few labelled documents skips it, with the reason recorded.
- ``sft`` and ``dpo``: the SFT export (corrected and accepted answers) and the DPO export (preferences) train an
  LLM candidate from the current LLM champion (SFT, then DPO on top); champion and candidate are scored on a
  frozen held-out set (a dataset's test split, identified by its sha256) and the candidate is promoted only when
  the paired bootstrap interval of the per-question metric difference lies above 0 (``gate.decide``); otherwise
  it is rejected and the champion stays.

Every round is appended to ``.ragtune/models/loop.json``: the feedback window, the training data hashes, the
held-out metrics, the intervals and the decisions."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import InputError, ModelError
from ragtune.feedback.records import normalize_question
from ragtune.model_registry import sha256_file
from ragtune.training.config import LoopConfig
from ragtune.training.data import PromptBuilder, dataset_folder, read_split
from ragtune.training.evaluate import means, score_answers
from ragtune.training.gate import decide
from ragtune.training.reader import ReaderTuner
from ragtune.training.sft import OnProgress, no_progress
from ragtune.training.verdicts import labels_file

if TYPE_CHECKING:
    from ragtune.training.resources import TrainingResources

BASE = "base"
LLM_STAGES = ("sft", "dpo")


@dataclass
class HeldOut:
    """The frozen evaluation set: a dataset's test split (first ``limit`` rows) and the sha256 of its file."""

    dataset: str
    path: Path
    sha256: str
    rows: list[dict[str, Any]]

    def describe(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "path": str(self.path), "sha256": self.sha256, "n": len(self.rows)}


@dataclass
class LoopResult:
    rounds: list[dict[str, Any]] = field(default_factory=list)
    champion: str | None = None
    stopped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "champion": self.champion, "stopped": self.stopped}


class FeedbackLoop:
    """Runs rounds of the loop on a project; its history lives in ``models/loop.json``."""

    def __init__(self, resources: TrainingResources, config: LoopConfig | None = None, max_steps: int | None = None,
                 epochs: float | None = None) -> None:
        self.resources = resources
        self.config = config or resources.training.loop
        self.registry = resources.registry
        self.state_file = self.registry.root / "loop.json"
        self.folder = self.registry.root / "loop"
        self.overrides = {k: v for k, v in {"max_steps": max_steps, "epochs": epochs}.items() if v is not None}

    # state
    def history(self) -> dict[str, Any]:
        """``{"heldout": {...}, "rounds": [...]}`` (empty before the first round)."""
        if not self.state_file.is_file():
            return {"heldout": None, "rounds": []}
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ModelError(f"{self.state_file}: unreadable loop history: {e}") from None

    def _save(self, state: dict[str, Any]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".loop.", suffix=".json", dir=self.state_file.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(state, indent=2, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_file)

    def cursor(self, state: dict[str, Any]) -> int | None:
        """The last feedback id an earlier round used (None: none yet)."""
        return state["rounds"][-1]["feedback"]["last_id"] if state["rounds"] else None

    def heldout(self, state: dict[str, Any]) -> HeldOut:
        """The held-out set; it must hash as it did in the first round."""
        name = self.config.dataset or self.resources.training.sft.dataset
        path = dataset_folder(self.resources.workdir, name) / "test.jsonl"
        rows = read_split(path.parent, "test")[: self.config.eval_limit]
        if not rows:
            raise InputError(f"dataset {name!r} has no test split to hold out: run `ragtune data synth` or "
                             "`ragtune data import` first")
        held = HeldOut(name, path, sha256_file(path), rows)
        frozen = state.get("heldout")
        if frozen and (frozen["sha256"], frozen["n"]) != (held.sha256, len(rows)):
            raise InputError(f"the held-out set changed since the loop began ({path}: sha256 {held.sha256[:12]}, "
                             f"{len(rows)} questions; recorded {frozen['sha256'][:12]}, {frozen['n']}): rounds are "
                             f"only comparable on one frozen set; restore it, or move {self.state_file} aside to "
                             "start a new loop history")
        return held

    # the loop
    def run(self, rounds: int = 3, on_progress: OnProgress | None = None) -> LoopResult:
        """Up to ``rounds`` rounds; stops early when no new feedback arrives (within ``wait_s``)."""
        report = on_progress or no_progress
        result = LoopResult()
        for _ in range(rounds):
            state = self.history()
            held = self.heldout(state) if set(self.config.stages) & set(LLM_STAGES) else None
            last = self._wait_for_feedback(self.cursor(state), report)
            if last is None:
                result.stopped = f"no new feedback since feedback id {self.cursor(state) or 0}"
                break
            record = self.round(len(state["rounds"]) + 1, self.cursor(state), last, held, report)
            state["heldout"] = state.get("heldout") or (held.describe() if held else None)
            state["rounds"].append(record)
            self._save(state)
            result.rounds.append(record)
        champion = self.registry.champion("llm")
        result.champion = champion.id if champion else None
        return result

    def _wait_for_feedback(self, cursor: int | None, report: OnProgress) -> int | None:
        """The newest feedback id once at least ``min_feedback`` records arrived after ``cursor``; None when
        they did not within ``wait_s``."""
        deadline = time.monotonic() + self.config.wait_s
        while True:
            new = self.resources.feedback().feedback(after_id=cursor)
            if len(new) >= self.config.min_feedback:
                return new[-1].id
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            report("wait", len(new), self.config.min_feedback, {"feedback_after": cursor or 0})
            time.sleep(min(5.0, remaining))

    def round(self, number: int, cursor: int | None, last: int, held: HeldOut | None, report: OnProgress
              ) -> dict[str, Any]:
        """One round on the feedback with ``cursor < id <= last``; returns its record."""
        from ragtune.datasets.exports import feedback_dataset
        from ragtune.training.dpo import DPO

        started = _now()
        champion = self.registry.champion("llm")
        champion_id = champion.id if champion else None
        store = self.resources.feedback()
        dpo = DPO(self.resources, self.resources.training.dpo.model_copy(update={**self.overrides,
                                                                                     "evaluate": False}))
        sft_rows = feedback_dataset(store, "sft", after_id=cursor, until_id=last) if "sft" in self.config.stages \
            else []
        dpo_rows = dpo.rows(after_id=cursor, until_id=last) if "dpo" in self.config.stages else []
        questions = {normalize_question(r["question"]) for r in held.rows} if held else set()
        asked = {normalize_question(m["content"]) for r in sft_rows for m in r["messages"] if m["role"] == "user"}
        asked |= {normalize_question(m["content"]) for r in dpo_rows for m in r["prompt"] if m["role"] == "user"}
        record: dict[str, Any] = {
            "round": number, "started": started, "champion": champion_id or BASE,
            "feedback": {"after_id": cursor, "last_id": last, "sft_rows": len(sft_rows), "dpo_rows": len(dpo_rows),
                         "heldout_overlap": len(asked & questions)},
            "heldout": held.describe() if held else None, "trained": [],
        }
        if "reader" in self.config.stages:
            record["reader"] = self.reader_round(number, last, report)
            record["trained"] += [{"kind": m["model"], "version": m["version"]["id"], "rows": record["reader"]["rows"],
                                   "decision": m["decision"]} for m in record["reader"].get("models", [])]
        if not sft_rows and not dpo_rows:
            return record | self.reader_decision(record) | {"finished": _now()}
        window = {"after_id": cursor, "last_id": last}
        parent = champion_id
        if sft_rows:
            version = self._train_sft(number, sft_rows, parent, report)
            record["trained"].append({"kind": "sft", "version": version.id, "rows": len(sft_rows),
                                      "data_sha256": version.data_hashes.get("train")})
            parent = version.id
        if dpo_rows:
            version = dpo.run(parent=parent, rows=dpo_rows, feedback=window, on_progress=report).version
            record["trained"].append({"kind": "dpo", "version": version.id, "rows": len(dpo_rows),
                                      "data_sha256": version.data_hashes.get("train")})
            parent = version.id
        candidate = parent
        champion_scores = self.evaluate(champion_id, held, report)
        candidate_scores = self.evaluate(candidate, held, report)
        gate = decide(self.config.metric, [r[self.config.metric] for r in champion_scores],
                      [r[self.config.metric] for r in candidate_scores], seed=self.config.seed,
                      samples=self.config.bootstrap_samples, level=self.config.level)
        if gate.promote:
            self.registry.promote(candidate)
        else:
            for step in record["trained"]:
                self.registry.reject(step["version"])
        metrics = {"champion": means(champion_scores), "candidate": means(candidate_scores)}
        self.registry.update_metrics(candidate, {f"heldout_{k}": v for k, v in metrics["candidate"].items()}
                                     | {"heldout_sha256": held.sha256, "gate": gate.to_dict(), "loop_round": number})
        return record | {"candidate": candidate, "metrics": metrics, "gate": gate.to_dict(),
                         "decision": "promoted" if gate.promote else "rejected", "reason": gate.reason,
                         "finished": _now()}

    def reader_round(self, number: int, last: int, report: OnProgress) -> dict[str, Any]:
        """The reader's models retrained on the labelled questions (``training.reader.questions``, if set) and the
        ``verdicts`` export of the feedback up to ``last``; each gated by ``ReaderTuner``. Its record: the rows, and
        per model the gate and decision, or why it was skipped."""
        from ragtune.datasets.exports import feedback_dataset
        from ragtune.evaluation.questions import QuestionSet

        config = self.resources.training.reader
        records = [q.to_dict() | {"id": f"labels-{q.id}"}
                   for q in (QuestionSet.read(labels_file(config.questions, "reader")).questions
                             if config.questions else [])]
        feedback = feedback_dataset(self.resources.feedback(), "verdicts", until_id=last)
        records += [r | {"id": f"feedback-{r['id']}"} for r in feedback]
        done: dict[str, Any] = {"rows": len(records), "feedback_rows": len(feedback)}
        if not feedback:
            return done | {"skipped": "no yes/no answer was rated up or corrected yet"}
        folder = self.folder / f"round-{number}" / "reader"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "questions.jsonl"
        QuestionSet.from_records(records, str(path)).write_jsonl(path)
        try:
            result = ReaderTuner(self.resources, config.model_copy(update={"questions": str(path)})).run(report)
        except InputError as e:
            return done | {"skipped": str(e)}
        return done | {"questions": str(path), "models": [m.to_dict() for m in result.models],
                       "heldout": result.heldout}

    def reader_decision(self, record: dict[str, Any]) -> dict[str, Any]:
        """The decision of a round that trained no LLM: promoted when a reader model was, rejected when all were,
        skipped (with why) when none was trained."""
        reader = record.get("reader") or {}
        if models := reader.get("models"):
            promoted = any(m["decision"] == "promoted" for m in models)
            return {"candidate": ", ".join(m["version"]["id"] for m in models),
                    "decision": "promoted" if promoted else "rejected",
                    "reason": "; ".join(f"{m['model']} {m['version']['id']}: {m['gate']['reason']}" for m in models)}
        why = [f"reader: {reader['skipped']}"] if reader.get("skipped") else []
        if set(self.config.stages) & set(LLM_STAGES):
            why.append("no SFT or DPO rows in the new feedback (only ties or votes without a winner)")
        return {"decision": "skipped", "reason": "; ".join(why)}

    def _train_sft(self, number: int, rows: list[dict[str, Any]], parent: str | None, report: OnProgress):
        """LoRA SFT from ``parent`` on the round's corrected and accepted answers (written as a QA dataset)."""
        from ragtune.training.sft import LoRASFT

        folder = self.folder / f"round-{number}" / "sft"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "train.jsonl").open("w", encoding="utf-8") as f:
            for r in rows:
                question = next(m["content"] for m in r["messages"] if m["role"] == "user")
                answer = next(m["content"] for m in r["messages"] if m["role"] == "assistant")
                key = hashlib.sha1(f"{question}\0{answer}".encode()).hexdigest()[:12]
                f.write(json.dumps({"id": f"fb-{key}", "question": question, "answer": answer},
                                   ensure_ascii=False) + "\n")
        config = self.resources.training.sft.model_copy(
            update={**self.overrides, "dataset": str(folder), "evaluate": False, "merge": False, "rag": False})
        return LoRASFT(self.resources, config).run(parent=parent, on_progress=report).version

    def evaluate(self, version_id: str | None, held: HeldOut, report: OnProgress) -> list[dict[str, Any]]:
        """Per-question scores of a version (None: the base model) on the held-out set, with the closed-book
        prompts of SFT; cached by model, prompts, engine settings and held-out hash."""
        sft = self.resources.training.sft.model_copy(update={"rag": False})
        label = version_id or BASE
        key = hashlib.sha256(json.dumps([label, held.sha256, len(held.rows), sft.system_prompt,
                                         self.resources.llm_config.model_dump(mode="json")]).encode()).hexdigest()[:16]
        cache = self.folder / "eval" / f"{label}-{key}.jsonl"
        if cache.is_file():
            return [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines() if line.strip()]
        report("evaluate", 0, len(held.rows), {"model": label})
        records = score_answers(self.resources.llm_for(version_id), PromptBuilder(self.resources, sft), held.rows,
                                lambda i: report("evaluate", i, len(held.rows), {"model": label}))
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        tmp.replace(cache)
        return records


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
