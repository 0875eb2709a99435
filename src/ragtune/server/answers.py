"""What the web app and the API serve: targets (pipeline @ model version), answering with recording, and the
citation records both show. Runs on the generation worker thread (``answer``) or anywhere (the rest)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragtune.errors import InputError
from ragtune.text import CITED_SENTENCES, cited_sentences, content_words, split_sentences

if TYPE_CHECKING:
    from ragtune.generation.answer import Answer
    from ragtune.project import Project

DEFAULT = "ragtune"  # the model id of the default pipeline with the served model


class UnknownTarget(InputError):
    """A ``model`` names no pipeline or model version."""


@dataclass(frozen=True)
class Target:
    """A pipeline (a name from ``pipelines:`` or the default spec) and a model version (``base``, ``champion``
    or a registry id; None: the served model, i.e. the champion when there is one, else the base model)."""

    pipeline: str
    model: str | None = None

    @property
    def label(self) -> str:
        return f"{self.pipeline}@{self.model or 'served'}"


def pipelines(project: Project) -> list[str]:
    """The pipelines the server offers: ``server.pipelines``, else the default one and every named one."""
    offered = project.config.server.pipelines or [project.config.retrieval.pipeline, *project.config.pipelines]
    return list(dict.fromkeys(offered))


def model_versions(project: Project) -> list[str]:
    """``base``, then the LLM versions in the registry that are not rejected, then ``champion`` if there is one."""
    versions = [v for v in project.registry.list("llm") if v.status != "rejected"]
    champion = project.registry.champion("llm")
    return ["base", *[v.id for v in versions], *(["champion"] if champion else [])]


def served_model(project: Project) -> str | None:
    """The model that answers when none is named: the LLM champion, else the base model (None)."""
    return "champion" if project.registry.champion("llm") is not None else None


def parse_target(project: Project, model: str | None) -> Target:
    """``model`` = ``ragtune`` / empty (default pipeline, served model), a pipeline name, ``pipeline@version``
    or a model version (``base``, ``champion``, ``v3``)."""
    offered = pipelines(project)
    default = project.config.retrieval.pipeline
    name = (model or DEFAULT).strip()
    pipe, sep, version = name.partition("@")
    if not sep:
        if pipe in (DEFAULT, "default"):
            return Target(default)
        if pipe in offered:
            return Target(pipe)
        pipe, version = DEFAULT, pipe
    pipe = default if pipe in (DEFAULT, "default", "") else pipe
    if pipe not in offered:
        raise UnknownTarget(f"model {name!r}: no pipeline {pipe!r} (pipelines: {', '.join(offered)})")
    if version in ("", "served"):
        return Target(pipe)
    if version not in model_versions(project):
        raise UnknownTarget(f"model {name!r}: no model version {version!r} (versions: "
                            f"{', '.join(model_versions(project))})")
    return Target(pipe, version)


def catalogue(project: Project) -> list[str]:
    """Every model id ``/v1/models`` lists."""
    ids = [DEFAULT]
    versions = model_versions(project)
    for p in pipelines(project):
        ids += [p, *(f"{p}@{v}" for v in versions)]
    return list(dict.fromkeys(ids + versions))


def answer(project: Project, question: str, target: Target, strategy: str | None = None, on_token=None,
           details: dict | None = None, document: str | None = None) -> Answer:
    """Retrieve (from ``document`` alone, when named), answer, check citations and record the answer
    (``answer.answer_id``); details of the request (``via``, a blind comparison's side, ...) are stored with it.
    Runs on the generation worker."""
    filters = None
    if document and document.strip():
        from ragtune.index.store import glob_escape

        filters = {"source": f"*{glob_escape(document.strip())}"}
        if not project.store.matching_ids(filters):
            raise InputError(f"document {document.strip()!r}: no indexed document has this name")
    return project.ask(question, on_token=on_token, pipeline=target.pipeline, filters=filters,
                       model=target.model or served_model(project), strategy=strategy, record=True, details=details)


def usage(project: Project, result: Answer) -> dict[str, int]:
    """Token counts: those of the LLM calls the answer made; for an answer made without one (``extract``), the
    question and the answer counted with the model's tokenizer."""
    prompt, completion = result.usage.get("prompt_tokens", 0), result.usage.get("completion_tokens", 0)
    if prompt == 0 and completion == 0:
        llm = project.llm
        with suppress(NotImplementedError):
            prompt, completion = llm.count_tokens(result.question), llm.count_tokens(result.answer)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def sentences(text: str) -> list[str]:
    """The sentences of an answer or a passage as the citation check cuts them (``CITED_SENTENCES``)."""
    return [s for s in split_sentences(text, CITED_SENTENCES) if s.strip()]


def citing_sentences(answer_text: str) -> dict[int, list[str]]:
    """For each marker [n] in the answer, the answer's sentences that carry it (markers removed)."""
    found: dict[int, list[str]] = {}
    for sentence, numbers in cited_sentences(answer_text):
        for n in dict.fromkeys(numbers):
            found.setdefault(n, []).append(sentence)
    return found


def quoted_span(passage: str, quotes: list[str]) -> tuple[int, int] | None:
    """Where in ``passage`` the cited sentence is: an exact occurrence of a quote, else the passage sentence
    sharing the most words with the quotes (at least half of a quote's words)."""
    for q in quotes:
        q = q.strip().rstrip(".!?;:")
        if len(q) >= 12 and (i := passage.find(q)) >= 0:
            return i, i + len(q)
    words = set().union(*map(content_words, quotes))
    if not words:
        return None
    best, best_score, pos = None, 0.0, 0
    for s in sentences(passage):
        start = passage.find(s, pos)
        pos = start + len(s) if start >= 0 else pos
        score = len(words & content_words(s)) / len(words)
        if start >= 0 and score > best_score:
            best, best_score = (start, start + len(s)), score
    return best if best_score >= 0.5 else None


def citations(answer_text: str, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The passages the answer cites, in marker order: index, source, page, chunk_id, score, the passage text,
    the answer sentences citing it (``quote``) and the cited span in the passage (``span`` = [start, end])."""
    quotes = citing_sentences(answer_text)
    out = []
    for n in sorted(quotes):
        if not 1 <= n <= len(chunks):
            continue
        c = chunks[n - 1]
        span = quoted_span(c["text"], quotes[n])
        out.append({"index": n, "source": c.get("source"), "page": c.get("page"), "chunk_id": c["chunk_id"],
                    "score": c.get("score"), "text": c["text"], "quote": " ".join(quotes[n]),
                    "span": list(span) if span else None})
    return out
