"""Train/validation/test split with a seed. By question: near-duplicate questions (at the leakage
threshold) are grouped and a group never straddles two splits. By document: every document goes to
one split, and pairs spanning documents of different splits are dropped. Either way the leakage check
runs afterwards and any validation or test question still too close to a training one is removed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from ragtune.datasets.config import SplitConfig
from ragtune.datasets.leakage import LeakageReport, TextEmbedder, check_leakage, leakage_from_vectors
from ragtune.datasets.qa import SPLITS, QAPair
from ragtune.errors import InputError


@dataclass
class SplitResult:
    splits: dict[str, list[QAPair]]
    removed: list[tuple[QAPair, str]] = field(default_factory=list)
    leakage: dict[str, LeakageReport] = field(default_factory=dict)


def _groups_by_similarity(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Connected components of the graph 'similarity >= threshold' (union-find)."""
    parent = list(range(len(vectors)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(1, len(vectors)):
        sims = vectors[:i] @ vectors[i]
        for j in np.flatnonzero(sims >= threshold):
            parent[find(int(j))] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(vectors)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _assign(sizes: list[int], targets: dict[str, int], rng: random.Random) -> list[str]:
    """Split of each group: validation and test take shuffled groups while that brings them closer to
    their target size; the rest is training."""
    order = list(range(len(sizes)))
    rng.shuffle(order)
    counts = dict.fromkeys(SPLITS, 0)
    out = ["train"] * len(sizes)
    for g in order:
        for split in ("test", "validation"):
            if abs(counts[split] + sizes[g] - targets[split]) < abs(counts[split] - targets[split]):
                out[g] = split
                break
        counts[out[g]] += sizes[g]
    return out


def split_pairs(pairs: list[QAPair], config: SplitConfig, embedder: TextEmbedder, seed: int) -> SplitResult:
    rng = random.Random(seed)
    n = len(pairs)
    targets = {"train": 0, "validation": round(n * config.validation), "test": round(n * config.test)}
    vectors = embedder.embed([p.question for p in pairs]) if pairs else np.zeros((0, 1), dtype=np.float32)
    split_of: list[str | None] = [None] * n
    result = SplitResult({s: [] for s in SPLITS})
    if config.by == "question":
        groups = _groups_by_similarity(vectors, config.leakage_threshold)
        for group, split in zip(groups, _assign([len(g) for g in groups], targets, rng), strict=True):
            for i in group:
                split_of[i] = split
    else:
        missing = [p.id for p in pairs if not p.sources]
        if missing:
            raise InputError(f"split by document: {len(missing)} pair(s) have no sources (e.g. {missing[0]})")
        docs = sorted({s for p in pairs for s in p.sources})
        sizes = [sum(doc in p.sources for p in pairs) for doc in docs]
        doc_split = dict(zip(docs, _assign(sizes, targets, rng), strict=True))
        for i, p in enumerate(pairs):
            chosen = {doc_split[s] for s in p.sources}
            if len(chosen) == 1:
                split_of[i] = chosen.pop()
            else:
                result.removed.append((p, "spans_splits"))
    train = [i for i in range(n) if split_of[i] == "train"]
    for split in ("validation", "test"):
        members = [i for i in range(n) if split_of[i] == split]
        for t, _, _ in leakage_from_vectors(vectors[train], vectors[members], config.leakage_threshold):
            result.removed.append((pairs[members[t]], "leaks_into_train"))
            split_of[members[t]] = None
    for i in range(n):
        if split_of[i] is not None:
            result.splits[split_of[i]].append(pairs[i])
    train_questions = [p.question for p in result.splits["train"]]
    for split in ("validation", "test"):
        result.leakage[split] = check_leakage(train_questions, [p.question for p in result.splits[split]], embedder,
                                              config.leakage_threshold)
    return result
