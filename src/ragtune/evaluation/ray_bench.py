"""Bench answers on Ray Data (``scale.engine: ray``): the (arm, question) pairs still to answer are spread over
an actor pool; each actor opens the project anew (``BenchSystem.reopen``) and builds its arms once. Answers come
back in order, so the driver scores and logs them exactly as a local run does."""

from __future__ import annotations

import json
import pickle
from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np

from ragtune.evaluation.arms import Arm, make_arms
from ragtune.ray_runtime import ray_session

if TYPE_CHECKING:
    from collections.abc import Callable

    from ragtune.evaluation.questions import Question
    from ragtune.evaluation.system import BenchSystem


class AnswerQuestions:
    """Ray actor: answers batches of (arm label, pickled question) rows with its own copy of the system."""

    def __init__(self, reopen: Callable[[int | None], BenchSystem], threads: int) -> None:
        self.system = reopen(threads)
        self.arms: dict[str, Arm] = {}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        answers = []
        for label, question in zip(batch["arm"], batch["question"], strict=True):
            if label not in self.arms:
                self.arms[label] = make_arms(self.system, [str(label)])[0]
            answers.append(json.dumps(self.arms[label].answer(pickle.loads(question)).to_dict()))
        return {"answer": np.array(answers, dtype=object)}


def answer_on_ray(system: BenchSystem, pending: list[tuple[Arm, Question]]) -> Generator[dict, None, None]:
    """The answers of ``pending``, in order, from ``scale.workers`` actors (default: one per CPU), each LLM on
    the actor's share of the CPUs."""
    with ray_session(system.scale) as ray:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = min(cpus, len(pending))
        rows = [{"arm": arm.label, "question": pickle.dumps(q)} for arm, q in pending]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        ds = ds.map_batches(AnswerQuestions, fn_constructor_args=(system.reopen, max(1, cpus // workers)),
                            batch_size=1, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers))
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1):
            yield from (json.loads(a) for a in batch["answer"])
