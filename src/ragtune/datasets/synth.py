"""``synthesize``: QA pairs from the project's chunks, rated, deduplicated, split and written with a card.

Each wanted pair is a slot of one generator type (the mix gives the shares); a slot tries up to
``max_attempts`` chunks until a draft passes the rater and is not a near-duplicate of a kept question."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ragtune.datasets.card import counts
from ragtune.datasets.config import GeneratorsConfig, SplitConfig
from ragtune.datasets.context import ChunkPool, SynthContext
from ragtune.datasets.dedup import NearDuplicateFilter
from ragtune.datasets.generators import Dropped, generators
from ragtune.datasets.io import dataset_dir, write_dataset
from ragtune.datasets.qa import SPLITS, QAPair, Rating
from ragtune.datasets.rater import ANSWER_PROBLEMS, Rater
from ragtune.datasets.split import SplitResult, split_pairs
from ragtune.errors import InputError

if TYPE_CHECKING:
    from ragtune.config import LLMConfig
    from ragtune.datasets.config import DatasetsConfig
    from ragtune.index.embedder import Embedder
    from ragtune.llm import LLM
    from ragtune.retrieval.resources import RetrievalResources


@dataclass
class DatasetReport:
    """Where a dataset was written and its card (counts, rejections, leakage check, ...)."""

    path: Path
    card: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        return self.card["counts"]

    @property
    def leakage(self) -> dict[str, Any]:
        return self.card["leakage"]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.card}


def mix(config: GeneratorsConfig, types: list[str] | None) -> dict[str, float]:
    """Normalised weights of the chosen generator types (all with weight > 0 when ``types`` is None)."""
    known = generators.names()
    if types is None:
        weights = {t: getattr(config, t).weight for t in known if getattr(config, t).weight > 0}
    else:
        unknown = [t for t in types if t not in known]
        if unknown or not types:
            raise InputError(f"unknown question type(s) {', '.join(unknown) or '(none)'}; "
                             f"available: {', '.join(known)}")
        weights = {t: getattr(config, t).weight for t in dict.fromkeys(types)}
        if not any(weights.values()):
            weights = dict.fromkeys(weights, 1.0)
        weights = {t: w for t, w in weights.items() if w > 0}
    if not weights:
        raise InputError("every generator has weight 0 in datasets.synth.generators")
    total = sum(weights.values())
    return {t: w / total for t, w in weights.items()}


def schedule(n: int, weights: dict[str, float], rng: random.Random) -> list[str]:
    """``n`` slots shared out by largest remainder, in a seeded random order."""
    quotas = {t: int(n * w) for t, w in weights.items()}
    by_remainder = sorted(weights, key=lambda t: -(n * weights[t] - quotas[t]))
    for t in by_remainder[: n - sum(quotas.values())]:
        quotas[t] += 1
    slots = [t for t, q in quotas.items() for _ in range(q)]
    rng.shuffle(slots)
    return slots


def split_config(base: SplitConfig, split_by: str | None) -> SplitConfig:
    if split_by is None:
        return base
    try:
        return SplitConfig.model_validate({**base.model_dump(), "by": split_by})
    except ValidationError:
        raise InputError(f"--split-by {split_by!r}: expected question or document") from None


def finish(workdir: Path, embedder: Embedder, name: str, kind: str, kept: list[QAPair], rejected: list[QAPair],
           split_cfg: SplitConfig, seed: int, extra: dict[str, Any], started: float) -> DatasetReport:
    """Split (near duplicates and leakage by ``embedder``), write the files and the card under ``workdir``."""
    dataset_dir(workdir, name)  # validates the name before any work is lost
    result: SplitResult = split_pairs(kept, split_cfg, embedder, seed)
    rejections = Counter(extra.pop("rejections", {}))
    for pair, reason in result.removed:
        pair.rating = Rating(False, reason)
        rejected.append(pair)
        rejections[reason] += 1
    n_test = len(result.splits["test"])
    warnings = [f"the test split has {n_test} questions, fewer than {split_cfg.min_test}: a benchmark on it can "
                f"tell apart only large differences (ask for more pairs with --n, or a larger split.test)"] \
        if split_cfg.test > 0 and n_test < split_cfg.min_test else []
    card = {"name": name, "kind": kind, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1), "seed": seed,
            "embedder": embedder.config.model, **counts(result.splits), **extra,
            "rejections": dict(rejections.most_common()),
            "split": split_cfg.model_dump(),
            "leakage": {"threshold": split_cfg.leakage_threshold,
                        "removed": sum(r == "leaks_into_train" for _, r in result.removed),
                        **{s: result.leakage[s].to_dict() for s in ("validation", "test")}},
            "warnings": warnings}
    return DatasetReport(write_dataset(workdir, name, result.splits, rejected, card), card)


def synthesize(resources: RetrievalResources, load_llm: Callable[[], LLM], llm_config: LLMConfig,
               cfg: DatasetsConfig, workdir: Path, n: int | None = None, name: str = "synth",
               types: list[str] | None = None, split_by: str | None = None, seed: int | None = None,
               on_start: Callable[[int], None] | None = None,
               on_slot: Callable[[str], None] | None = None) -> DatasetReport:
    """Generate about ``n`` accepted pairs (config ``cfg.synth``) from the chunks of ``resources``' index into
    ``workdir/datasets/<name>/``; ``load_llm`` gives the LLM of the generators and the judge (``llm_config``)."""
    started = time.perf_counter()
    n = cfg.synth.n if n is None else n
    if n < 1:
        raise InputError(f"--n {n}: ask for at least one pair")
    seed = cfg.synth.seed if seed is None else seed
    split_cfg = split_config(cfg.split, split_by)
    dataset_dir(workdir, name)
    weights = mix(cfg.synth.generators, types)
    rng = random.Random(seed)
    ctx = SynthContext(load_llm, ChunkPool(resources, cfg.synth.min_chunk_tokens, rng), rng)
    needed = 1 + (split_cfg.validation > 0) + (split_cfg.test > 0)
    if split_cfg.by == "document" and len({c.doc_source for c in ctx.pool.chunks}) < needed:
        raise InputError(f"--split-by document needs at least {needed} documents with chunks of "
                         f"{cfg.synth.min_chunk_tokens}+ tokens (one per split)")
    gens = {t: generators.get(t)(getattr(cfg.synth.generators, t), ctx) for t in weights}
    rater = Rater(cfg.rater, ctx)
    judge = rater.calibrate()
    dedup = NearDuplicateFilter(resources.embedder, split_cfg.dedup_threshold)
    kept: list[QAPair] = []
    rejected: list[QAPair] = []
    dropped: Counter[str] = Counter()
    rejections: Counter[str] = Counter()
    per_type = {t: Counter() for t in weights}
    slots = schedule(n, weights, rng)
    if on_start:
        on_start(len(slots))
    for t in slots:
        for _ in range(cfg.synth.max_attempts):
            try:
                draft = gens[t].draft(ctx.pool.next())
            except Dropped as e:
                dropped[e.reason] += 1
                per_type[t]["dropped"] += 1
                continue
            rating = rater.rate(draft)
            if rating.reason in ANSWER_PROBLEMS and draft.fallback_answer:
                draft = draft.with_fallback_answer()
                rating = rater.rate(draft)
                if rating.accepted:
                    rating.reason += ", answer from the chunk"
                    per_type[t]["answer_from_chunk"] += 1
            pair = draft.pair
            pair.rating = rating
            if pair.rating.accepted and not dedup.add(pair.question):
                pair.rating = Rating(False, "near_duplicate")
            per_type[t]["rated"] += 1
            if pair.rating.accepted:
                per_type[t]["accepted"] += 1
                kept.append(pair)
                break
            rejections[pair.rating.reason] += 1
            rejected.append(pair)
        if on_slot:
            on_slot(f"{t}: {len(kept)} kept, {len(rejected)} rejected")
    rated = sum(c["rated"] for c in per_type.values())
    llm = llm_config
    extra = {
        "generator": f"{llm.backend}:{llm.model}" if ctx.usage["llm_calls"] else "none (extractive only)",
        "types": {t: round(w, 3) for t, w in weights.items()},
        "requested": n,
        "attempts": {"slots": len(slots), "drafts": rated + sum(dropped.values()), "rated": rated,
                     "accepted": len(kept)},
        "acceptance_rate": round(len(kept) / rated, 3) if rated else 0.0,
        "acceptance_by_type": {t: {**c, "rate": round(c["accepted"] / c["rated"], 3) if c["rated"] else 0.0}
                               for t, c in per_type.items()},
        "dropped": dict(dropped.most_common()), "rejections": rejections, "judge": judge,
        "usage": dict(ctx.usage), "config": {"synth": cfg.synth.model_dump(), "rater": cfg.rater.model_dump()},
    }
    return finish(workdir, resources.embedder, name, "synthetic", kept, rejected, split_cfg, seed, extra, started)


__all__ = ["SPLITS", "DatasetReport", "synthesize"]
