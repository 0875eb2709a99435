"""``ragtune bench``: every arm answers the same frozen question set; answers are scored, aggregated with
bootstrap intervals and paired tests, and priced.

A run lives in ``.ragtune/bench/<run>/`` (named by the question file's hash unless given a name):
``questions.jsonl`` (the frozen set), ``run.json`` (its hash), ``answers.jsonl`` (one line per arm and
question, appended as each finishes, so an interrupted bench resumes where it stopped), ``results.json``.
``--limit N`` evaluates the first N questions of the set; the results' ``test_set_sha256`` is the hash of
the questions evaluated, and a larger limit later reuses the answers already given.
A saved answer is reused while its arm's fingerprint (model, pipeline, index, prompt) is unchanged, and its
scores while the metric settings are unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import asdict
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import ConfigError, InputError
from ragtune.evaluation.arms import Arm, make_arms
from ragtune.evaluation.config import BenchConfig
from ragtune.evaluation.cost import ArmUsage, CostModel, Deployment, load_price_sheet
from ragtune.evaluation.questions import Question, QuestionSet, check_overlap, load_questions
from ragtune.evaluation.stats import bootstrap_mean, holm, paired_test, percentile

if TYPE_CHECKING:
    from ragtune.config import LLMConfig
    from ragtune.evaluation.config import JudgeConfig
    from ragtune.evaluation.metrics import Metric
    from ragtune.evaluation.system import BenchSystem
    from ragtune.index.embedder import Embedder
    from ragtune.index.store import Store
    from ragtune.llm import LLM


def bench_dir(workdir: Path) -> Path:
    """The bench runs of the project with ``workdir`` (its ``.ragtune/``)."""
    return workdir / "bench"


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class AnswerLog:
    """``answers.jsonl``: one record per (arm, question); a later line replaces an earlier one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[tuple[str, str], dict]:
        if not self.path.exists():
            return {}
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):  # a line cut by a crash: drop it, it is answered again
            data = data[: data.rfind(b"\n") + 1]
            with open(self.path, "r+b") as f:
                f.truncate(len(data))
        records = {}
        for line in data.decode("utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                records[(rec["arm"], rec["qid"])] = rec
        return records

    def append(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


def judge_llm(j: JudgeConfig, llm: LLMConfig, base: Callable[[], LLM]) -> LLM:
    """The configured judge: the project's LLM (``base``, configured by ``llm``) unless ``j`` (``bench.judge``)
    names another model."""
    update = {k: v for k, v in {"model": j.model, "backend": j.backend, "base_url": j.base_url}.items() if v}
    if not update:
        return base()
    from ragtune.generation.llms import load_llm

    return load_llm(llm.model_copy(update=update))


def judge_description(j: JudgeConfig, llm: LLMConfig) -> dict[str, Any]:
    return {"model": j.model or llm.model, "backend": j.backend or llm.backend, "base_url": j.base_url,
            "max_tokens": j.max_tokens}


def _open_run(workdir: Path, questions: QuestionSet, run: str | None) -> Path:
    """The run folder of a question set (named by its hash unless ``run`` names it), checked to hold that set."""
    sha = questions.sha256
    folder = bench_dir(workdir) / (run or sha[:12])
    folder.mkdir(parents=True, exist_ok=True)
    meta_path = folder / "run.json"
    if meta_path.exists():
        recorded = json.loads(meta_path.read_text(encoding="utf-8"))["question_set_sha256"]
        if recorded != sha:
            raise InputError(f"bench run {folder.name!r} was made on question set {recorded[:12]}, but these "
                             f"questions hash to {sha[:12]}; use another --run name")
    else:
        questions.write_jsonl(folder / "questions.jsonl")
        write_json(meta_path, {"question_set_sha256": sha, "n_questions": len(questions.questions),
                               "source": questions.source, "created": _now()})
    return folder


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def measure_deployment(store: Store, embedder: Embedder, retrieves: bool) -> Deployment:
    """Corpus size in embedder tokens and the embedder's measured throughput (tokens/s) on up to 32 chunks."""
    if not retrieves:
        return Deployment(0, None)
    ids, _ = store.indexed_chunks()
    chunks = store.chunks(ids)
    corpus_tokens = sum(c.n_tokens for c in chunks)
    sample = chunks[:32]
    if not sample:
        return Deployment(corpus_tokens, None)
    embedder.embed([sample[0].text])  # load the model outside the timing
    t0 = time.perf_counter()
    embedder.embed([c.text for c in sample])
    seconds = time.perf_counter() - t0
    return Deployment(corpus_tokens, sum(c.n_tokens for c in sample) / seconds if seconds > 0 else None)


def run_bench(system: BenchSystem, arms: list[str] | None = None, questions: Path | None = None,
              limit: int | None = None, seed: int | None = None, run: str | None = None,
              on_start: Callable[[int], None] | None = None,
              on_answer: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Answer, score and aggregate; returns the results (also saved as ``results.json`` in the run folder)."""
    from ragtune.evaluation.metrics import MetricEnv, build_metrics
    from ragtune.evaluation.metrics.judge import calibrate

    cfg = system.bench
    seed = cfg.seed if seed is None else seed
    if cfg.primary_metric not in cfg.metrics:
        raise ConfigError(f"bench.primary_metric {cfg.primary_metric!r} is not in bench.metrics")
    full = load_questions(system.workdir, system.store, questions)
    qs = full.limit(limit)
    chosen = make_arms(system, arms or cfg.arms)
    if any(a.retrieves for a in chosen) and system.store.count_chunks() == 0:
        raise InputError(f"the index of {system.root} is empty: run `ragtune ingest PATH` before benchmarking "
                         f"{', '.join(a.label for a in chosen if a.retrieves)}")
    folder = _open_run(system.workdir, full, run)
    leakage = check_overlap(system.workdir, system.embedder, system.datasets.split.leakage_threshold, qs,
                            [f for a in chosen for f in a.training_files()])
    env = MetricEnv(cfg, system.embedder, lambda: judge_llm(cfg.judge, system.llm_config, lambda: system.llm_for(None)))
    try:
        metrics = build_metrics(cfg.metrics, env)
    except ValueError as e:
        raise ConfigError(f"bench.metrics: {e}") from None
    calibration = None
    if "answer_correctness" in cfg.metrics:
        calibration = calibrate(env, [(q.question, q.answer) for q in qs.questions if not q.unanswerable])
    scoring = {"metrics": cfg.metrics, "support_overlap": cfg.support_overlap,
               "judge": judge_description(cfg.judge, system.llm_config),
               "judge_used": env.judge_usable, "rubric": _rubric_hash()}
    scoring_fp = _hash(scoring)
    log = AnswerLog(folder / "answers.jsonl")
    done = log.load()
    if on_start:
        on_start(len(chosen) * len(qs.questions))
    fingerprints = {arm.label: _hash(arm.fingerprint()) for arm in chosen}
    fresh = answer_stream(system, [(arm, q) for arm in chosen for q in qs.questions
                                   if _saved_answer(done, arm, fingerprints[arm.label], q) is None])
    records: dict[str, list[dict]] = {}
    with closing(fresh):  # a Ray session ends with its stream
        for arm in chosen:
            records[arm.label] = [_answer_one(arm, fingerprints[arm.label], q, done, log, metrics, scoring_fp,
                                              on_answer, fresh) for q in qs.questions]
    deployment = measure_deployment(system.store, system.embedder, any(a.retrieves for a in chosen))
    results = aggregate(system, qs, chosen, records, deployment, seed)
    results.update({"run": folder.name, "run_dir": str(folder), "leakage": leakage,
                    "judge": scoring["judge"] | {"calibration": calibration},
                    "created": _now()})
    write_json(folder / "results.json", results)
    return results


def _rubric_hash() -> str:
    from ragtune.evaluation.metrics.judge import RUBRIC

    return hashlib.sha256(RUBRIC.encode()).hexdigest()[:12]


def _saved_answer(done: dict, arm: Arm, arm_fp: str, q: Question) -> dict | None:
    """The answer saved by an earlier run of the same arm, if any."""
    rec = done.get((arm.label, q.id))
    return rec["answer"] if rec and rec["arm_fingerprint"] == arm_fp else None


def answer_stream(system: BenchSystem, pending: list[tuple[Arm, Question]]) -> Generator[dict, None, None]:
    """The answers (``ArmAnswer.to_dict()``) of ``pending`` (arm, question) pairs, in order, answered as they
    are consumed: here (``scale.engine: local``), or by Ray workers that each open the project anew."""
    if system.scale.engine == "ray" and pending:
        from ragtune.evaluation.ray_bench import answer_on_ray

        return answer_on_ray(system, pending)
    return (arm.answer(q).to_dict() for arm, q in pending)


def _answer_one(arm: Arm, arm_fp: str, q: Question, done: dict, log: AnswerLog, metrics: list[Metric],
                scoring_fp: str, on_answer: Callable[[str], None] | None, fresh: Iterator[dict]) -> dict:
    from ragtune.evaluation.metrics import Sample

    rec = done.get((arm.label, q.id))
    if rec and rec["arm_fingerprint"] == arm_fp and rec["scoring_fingerprint"] == scoring_fp:
        if on_answer:
            on_answer(f"{arm.label} (saved)")
        return rec
    answer = _saved_answer(done, arm, arm_fp, q) or next(fresh)
    sample = Sample(q.question, q.answer, answer["answer"], answer["answered"], q.unanswerable,
                    None if answer["contexts"] is None else [c["text"] for c in answer["contexts"]],
                    q.gold_contexts, label=q.label)
    scores = {m.name: m.score(sample) for m in metrics}
    rec = {"arm": arm.label, "qid": q.id, "arm_fingerprint": arm_fp, "scoring_fingerprint": scoring_fp,
           "answer": answer, "scores": scores, "notes": sample.notes}
    log.append(rec)
    if on_answer:
        on_answer(f"{arm.label}: {q.question}")
    return rec


def aggregate(system: BenchSystem, qs: QuestionSet, chosen: list[Arm], records: dict[str, list[dict]],
              deployment: Deployment, seed: int) -> dict[str, Any]:
    """Per-arm metrics with bootstrap intervals, latency, tokens, accuracy and cost; paired tests between arms."""
    from ragtune.documents.tokenizer import token_counter_for

    cfg = system.bench
    sheet = load_price_sheet(cfg.price_sheet, system.root)
    model = CostModel(sheet, deployment)
    counter = token_counter_for(system.embedder.path)
    query_tokens = sum(counter.count(q.question) for q in qs.questions) / len(qs.questions)
    out_arms = []
    for arm in chosen:
        recs = records[arm.label]
        answers = [r["answer"] for r in recs]
        metrics = {m: bootstrap_mean([r["scores"][m] for r in recs if r["scores"].get(m) is not None], seed,
                                     f"{arm.label}|{m}", cfg.bootstrap_samples).to_dict() for m in cfg.metrics}
        correct = [float((r["scores"].get(cfg.primary_metric) or 0.0) >= cfg.correct_threshold) for r in recs]
        latencies = [a["latency_s"] for a in answers]
        n = len(recs)
        training = arm.training()
        usage = ArmUsage(arm.label, arm.price_key, arm.retrieves, arm.fine_tuned,
                         sum(a["prompt_tokens"] for a in answers) / n, sum(a["completion_tokens"] for a in answers) / n,
                         sum(latencies) / n, sum(a["llm_s"] for a in answers) / n, query_tokens,
                         sum(correct) / n, training.hours if training else None,
                         training.examples if training else None, training.tokens if training else None)
        cost = model.arm(usage, cfg.data_changes)
        judged = [r["notes"]["judge"] for r in recs if "judge" in r.get("notes", {})]
        out_arms.append({
            "name": arm.label, "kind": arm.name, "model": answers[0]["model"] if answers else None,
            "retrieves": arm.retrieves, "fine_tuned": arm.fine_tuned, "n_questions": n,
            "metrics": metrics,
            "accuracy": bootstrap_mean(correct, seed, f"{arm.label}|correct", cfg.bootstrap_samples).to_dict(),
            "n_correct": int(sum(correct)),
            "latency_s_p50": percentile(latencies, 50), "latency_s_p95": percentile(latencies, 95),
            "tokens": {"prompt_mean": usage.prompt_tokens, "completion_mean": usage.completion_tokens,
                       "prompt_total": sum(a["prompt_tokens"] for a in answers),
                       "completion_total": sum(a["completion_tokens"] for a in answers)},
            "cost_per_query_usd": cost.cost_per_query_usd, "cost_per_correct_usd": cost.cost_per_correct_usd,
            "usage": asdict(usage), "cost": cost.to_dict(),
            "judge_calls": {"n": len(judged), "ungraded": sum(j["grade"] is None for j in judged),
                            "prompt_tokens": sum(j["prompt_tokens"] for j in judged),
                            "completion_tokens": sum(j["completion_tokens"] for j in judged)},
        })
    return {
        "test_set_sha256": qs.sha256, "n_questions": len(qs.questions), "questions_source": qs.source,
        "seed": seed, "config": cfg.model_dump(mode="json"), "price_sheet": sheet.model_dump(mode="json"),
        "deployment": asdict(deployment), "arms": out_arms,
        "comparisons": _comparisons(cfg, records, [a.label for a in chosen], seed),
        "per_question": _per_question(qs, records),
    }


def _comparisons(cfg: BenchConfig, records: dict[str, list[dict]], labels: list[str], seed: int) -> list[dict]:
    """Paired tests (with their power) of every pair of arms on every metric, Holm-corrected within each
    metric."""
    out = []
    for m in cfg.metrics:
        tests = []
        for a, b in combinations(labels, 2):
            pairs = [(ra["scores"].get(m), rb["scores"].get(m)) for ra, rb in zip(records[a], records[b], strict=True)]
            pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
            tests.append(paired_test(m, a, b, [x for x, _ in pairs], [y for _, y in pairs], seed,
                                     cfg.bootstrap_samples, cfg.permutations, cfg.alpha, cfg.power))
        holm(tests, cfg.alpha)
        out.extend(t.to_dict() for t in tests)
    return out


def _per_question(qs: QuestionSet, records: dict[str, list[dict]]) -> list[dict]:
    rows = []
    for i, q in enumerate(qs.questions):
        arms = {}
        for label, recs in records.items():
            a = recs[i]["answer"]
            arms[label] = {"answer": a["answer"], "answered": a["answered"], "latency_s": a["latency_s"],
                           "prompt_tokens": a["prompt_tokens"], "completion_tokens": a["completion_tokens"],
                           "scores": recs[i]["scores"]}
        rows.append({"id": q.id, "question": q.question, "reference": q.answer, "unanswerable": q.unanswerable,
                     "arms": arms})
    return rows


def latest_run(workdir: Path) -> Path:
    """The run folder whose results were written last."""
    found = sorted(bench_dir(workdir).glob("*/results.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise InputError(f"no benchmark results in {bench_dir(workdir)}: run `ragtune bench` first")
    return found[-1].parent


def load_results(workdir: Path, run: str | None = None) -> dict[str, Any]:
    """The results of bench run ``run`` (default: the latest) of the project with ``workdir``."""
    folder = bench_dir(workdir) / run if run else latest_run(workdir)
    path = folder / "results.json"
    if not path.is_file():
        raise InputError(f"{path}: no such benchmark results (run `ragtune bench` first)")
    return json.loads(path.read_text(encoding="utf-8"))
