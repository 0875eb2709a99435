"""``ragtune tune expressions``: LoRA SFT of the expression writer (``answer.expressions``) on synthetic examples,
gated on held-out documents.

Examples are made from the corpus's table rows: the answer pack's ``cells`` give each value a passage states for a
line item in a period, and templates of the common calculations (change, % change, ratio, share, average of two
periods, sum) turn two of them into a question, the operand lines the writer is shown (with distractors from the
same passage, in shuffled order and named a, b...) and the expression that answers it. The LoRA is trained from
the current LLM with ``training.sft``'s settings, registered (kind ``expressions``), exported as a GGUF LoRA so
``llama_cpp`` serves it, and promoted only when the held-out documents' right-result rate (or valid-expression
rate, ``metric``) beats the champion's (the untuned LLM when there is none) beyond the noise (``gate.decide``)."""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ragtune.errors import InputError
from ragtune.generation.arithmetic import ExpressionError
from ragtune.generation.expressions import check, letters, prompt
from ragtune.model_registry import ADAPTER, ModelVersion
from ragtune.training.gate import decide
from ragtune.training.reader import held_out_documents
from ragtune.training.sft import LoRASFT, OnProgress, make_trainer, no_progress, progress_callback

if TYPE_CHECKING:
    from ragtune.llm import LLM
    from ragtune.packs.base import Cell
    from ragtune.training.config import ExpressionTuneConfig
    from ragtune.training.resources import TrainingResources

# (kind, question templates, expression over the two operands x and y): x, y are the line item in two periods
# ("two periods") or two line items in one period ("two items")
TEMPLATES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("two periods", ("What is the change in {item} from {p1} to {p2}?",
                     "By how much did {item} change between {p1} and {p2}?"), "y - x"),
    ("two periods", ("What is the percentage change in {item} from {p1} to {p2}?",
                     "What is the {p1} to {p2} growth rate of {item} (in percent)?"), "(y - x) / x * 100"),
    ("two periods", ("What is the average {item} of {p1} and {p2}?",
                     "What was the average of {item} between {p1} and {p2}?"), "(x + y) / 2"),
    ("two items", ("What is the ratio of {item} to {item2} in {p1}?",
                   "What is the {p1} {item} to {item2} ratio?"), "x / y"),
    ("two items", ("What is {item} as a % of {item2} in {p1}?",
                   "What is the {p1} {item} margin relative to {item2} (in percent)?"), "x / y * 100"),
    ("two items", ("What is the sum of {item} and {item2} in {p1}?",
                   "What were {item} plus {item2} in {p1} combined?"), "x + y"),
)


@dataclass
class WriterExample:
    """One synthetic example: the question, the operand lines shown, their values, the target expression."""

    document: str
    question: str
    lines: list[str]
    values: dict[str, float]
    expression: str

    def sft(self) -> dict[str, Any]:
        return {"prompt": prompt(self.question, self.lines),
                "completion": [{"role": "assistant", "content": self.expression}]}


def synthetic_examples(cells: dict[str, list[list[Cell]]], per_document: int, distractors: int,
                       seed: int) -> list[WriterExample]:
    """Up to ``per_document`` examples per document from the ``cells`` of each of its passages (a list per
    passage), over ``TEMPLATES``, each with up to ``distractors`` other values of the passage."""
    rng = random.Random(seed)
    out = []
    for document, passages in sorted(cells.items()):
        candidates = []
        for passage in passages:
            by_item: dict[str, list[Cell]] = defaultdict(list)
            by_period: dict[str, list[Cell]] = defaultdict(list)
            for c in passage:
                by_item[c.item.lower()].append(c)
                by_period[c.period].append(c)
            pairs = [("two periods", a, b) for same in by_item.values() for a in same for b in same
                     if a.period < b.period]
            pairs += [("two items", a, b) for same in by_period.values() for a in same for b in same
                      if a.item.lower() != b.item.lower()]
            candidates += [(kind, x, y, passage) for kind, x, y in pairs]
        for kind, x, y, passage in rng.sample(candidates, min(per_document, len(candidates))):
            templates = [t for t in TEMPLATES if t[0] == kind]
            _, questions, expression = rng.choice(templates)
            if "/ x" in expression and x.value == 0 or "/ y" in expression and y.value == 0:
                continue
            question = rng.choice(questions).format(item=x.item.lower(), item2=y.item.lower(), p1=x.period,
                                                    p2=y.period)
            others = [c for c in passage if c not in (x, y)]
            shown = [x, y, *rng.sample(others, min(distractors, len(others)))]
            rng.shuffle(shown)
            named = list(zip(letters(len(shown)), shown, strict=True))
            target = _rename(expression, {"x": shown.index(x), "y": shown.index(y)})
            lines = [f"{n} = {c.item.lower()} {c.period} = {c.printed} [1]" for n, c in named]
            out.append(WriterExample(document, question, lines, {n: c.value for n, c in named}, target))
    return out


def _rename(expression: str, positions: dict[str, int]) -> str:
    """``expression`` with the template names x and y as the offered operands' letters at ``positions``."""
    return re.sub(r"\b[xy]\b", lambda m: letters(positions[m[0]] + 1)[-1], expression)


def right(example: WriterExample, reply: str) -> tuple[bool, bool]:
    """(valid, right): whether ``reply`` checks as an expression over the example's operands, and whether its
    value is the target's (to 1e-6 relative)."""
    try:
        _, value = check(reply, example.values)
    except ExpressionError:
        return False, False
    target = check(example.expression, example.values)[1]
    return True, abs(value - target) <= 1e-6 * max(1.0, abs(target))


def score(llm: LLM, examples: list[WriterExample], max_tokens: int = 48) -> list[tuple[bool, bool, str]]:
    """(valid, right, reply) of ``llm`` as the writer on each example, at temperature 0."""
    out = []
    for e in examples:
        reply = llm.generate(prompt(e.question, e.lines), max_tokens=max_tokens, temperature=0.0).text.strip()
        out.append((*right(e, reply), reply))
    return out


@dataclass
class ExpressionTuneResult:
    """What ``tune expressions`` produced: the version, the examples, the held-out rates before and after, the
    gate."""

    version: ModelVersion
    examples: dict[str, int]
    before: dict[str, float]
    after: dict[str, float]
    gate: dict[str, Any]
    train: dict[str, Any] = field(default_factory=dict)

    @property
    def decision(self) -> str:
        return "promoted" if self.gate["promote"] else "rejected"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"version": self.version.model_dump(), "decision": self.decision}


class ExpressionTuner:
    """Builds the writer's examples from the indexed table rows, trains, registers and gates one version."""

    kind = "expressions"

    def __init__(self, resources: TrainingResources, config: ExpressionTuneConfig) -> None:
        self.resources = resources
        self.config = config
        self.registry = resources.registry

    def corpus_cells(self) -> dict[str, list[list[Cell]]]:
        """The answer pack's ``cells`` of every indexed chunk, per document."""
        pack, store = self.resources.answer_pack(), self.resources.store
        ids, _ = store.indexed_chunks(context=False)
        out: dict[str, list[list[Cell]]] = defaultdict(list)
        for chunk in store.chunks(ids):
            if found := pack.cells(chunk.text):
                out[chunk.doc_source].append(found)
        return dict(out)

    def run(self, cells: dict[str, list[list[Cell]]] | None = None,
            on_progress: OnProgress | None = None) -> ExpressionTuneResult:
        """Train and gate one version on ``cells`` (default: the index's, ``corpus_cells``)."""
        cfg, report = self.config, on_progress or no_progress
        cells = self.corpus_cells() if cells is None else cells
        if len(cells) < 2:
            raise InputError(f"tune expressions needs table rows of at least 2 documents (the answer pack "
                             f"{self.resources.answer_pack().name!r} read them in {len(cells)}): ingest filings with "
                             "tables under answer.pack: finance")
        report("examples", 0, 1, {})
        documents = sorted(cells)
        held = {documents[d] for d in held_out_documents(documents, cfg.test_share, cfg.seed, keep=1)}
        examples = synthetic_examples(cells, cfg.per_document, cfg.distractors, cfg.seed)
        train = [e for e in examples if e.document not in held]
        test = [e for e in examples if e.document in held][: cfg.test_examples]
        if not train or not test:
            raise InputError(f"tune expressions: {len(train)} training and {len(test)} held-out examples from the "
                             f"table rows of {len(documents)} documents; both need at least one")
        report("examples", 1, 1, {"train": len(train), "test": len(test)})
        sft_cfg = self.resources.training.sft.model_copy(update={
            "base_model": cfg.base_model, "max_steps": cfg.max_steps, "epochs": cfg.epochs,
            "learning_rate": cfg.learning_rate, "batch_size": cfg.batch_size, "seed": cfg.seed})
        sft = LoRASFT(self.resources, sft_cfg)
        run_dir = self.registry.root / "runs" / f"{self.kind}-{int(time.time() * 1000)}"
        trainer = make_trainer(sft.base_dir(), sft_cfg, [e.sft() for e in train], [], run_dir / "checkpoints",
                               callbacks=[progress_callback(report)])
        t0 = time.perf_counter()
        output = trainer.train()
        seconds = round(time.perf_counter() - t0, 1)
        staging = run_dir / "version"
        trainer.model.save_pretrained(staging / ADAPTER)
        trainer.processing_class.save_pretrained(staging / ADAPTER)
        for name, rows in (("train", train), ("heldout", test)):
            with (staging / f"{name}.jsonl").open("w", encoding="utf-8") as f:
                for e in rows:
                    f.write(json.dumps(asdict(e)) + "\n")
        counts = {"train": len(train), "test": len(test), "documents": len(documents), "held_out_documents": len(held)}
        train_info = {"steps": trainer.state.global_step, "train_loss": round(output.training_loss, 4),
                      "seconds": seconds}
        version = self.registry.add(self.kind, staging, metrics={"examples": counts, **train_info},
                                    data_files={n: staging / f"{n}.jsonl" for n in ("train", "heldout")},
                                    config={"tune": cfg.model_dump(mode="json"), "base_model": sft.base_model,
                                            "base_gguf_file": sft.base_gguf_file})
        shutil.rmtree(run_dir, ignore_errors=True)
        return self.judge(version, test, counts, train_info, report)

    def judge(self, version: ModelVersion, test: list[WriterExample], counts: dict[str, int],
              train_info: dict[str, Any], report: OnProgress) -> ExpressionTuneResult:
        """Export the version for llama_cpp, score it and the champion on the held-out examples, gate it."""
        from ragtune.training.export import export_version

        cfg = self.config
        report("export", 0, 1, {})
        export_version(self.registry, version.id, "lora")
        report("export", 1, 1, {})
        champion = self.registry.champion(self.kind)
        scored = {}
        for n, (who, ref) in enumerate((("before", champion.id if champion else None), ("after", version.id))):
            report("evaluate", n, 2, {"model": ref or "base"})
            scored[who] = score(self.resources.llm_for(ref), test, cfg.max_tokens)
        report("evaluate", 2, 2, {})
        index = 1 if cfg.metric == "right" else 0
        gate = decide(f"expression_{cfg.metric}", [float(s[index]) for s in scored["before"]],
                      [float(s[index]) for s in scored["after"]], seed=cfg.seed, samples=cfg.bootstrap_samples,
                      level=cfg.level)
        rates = {who: {"valid": sum(s[0] for s in v) / len(v), "right": sum(s[1] for s in v) / len(v)}
                 for who, v in scored.items()}
        folder = self.registry.folder(version)
        with (folder / "eval_heldout.jsonl").open("w", encoding="utf-8") as f:
            for e, b, a in zip(test, scored["before"], scored["after"], strict=True):
                f.write(json.dumps({"question": e.question, "target": e.expression, "before": b[2], "after": a[2]})
                        + "\n")
        self.registry.update_metrics(version.id, {"heldout_valid": rates["after"]["valid"],
                                                  "heldout_right": rates["after"]["right"],
                                                  "champion": champion.id if champion else "base",
                                                  "before": rates["before"], "gate": gate.to_dict()})
        version = self.registry.promote(version.id) if gate.promote else self.registry.reject(version.id)
        return ExpressionTuneResult(version, counts, rates["before"], rates["after"], gate.to_dict(), train_info)
