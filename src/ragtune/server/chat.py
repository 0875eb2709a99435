"""The chat page (streamed answers beside their sources, votes, comments, corrections) and the blind A/B
comparison (sides drawn on the server, names revealed only after the vote is stored)."""

from __future__ import annotations

import json
import secrets
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ragtune.server import answers
from ragtune.server.deps import Annotator, AnnotatorPage, State, get_state, parse_body
from ragtune.server.views import answer_view, stored_view

router = APIRouter()


def _fragment(state: State, request: Request, view: dict[str, Any]) -> str:
    return state.templates.get_template("_answer.html").render(a=view, request=request)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _choices(state: State) -> dict[str, Any]:
    from ragtune.generation.strategies import strategies

    project = state.project
    pipelines, models = answers.pipelines(project), answers.model_versions(project)
    return {"pipelines": pipelines, "models": models, "targets": [f"{p}@{m}" for m in models for p in pipelines],
            "served": answers.served_model(project) or "base", "default_pipeline": project.config.retrieval.pipeline,
            "strategies": strategies.names(),
            "default_strategy": project.config.answer.strategy}



# pages ----------------------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request, principal: AnnotatorPage, answer: int | None = None):
    state = get_state(request)
    shown = None
    if answer is not None:
        try:
            shown = await run_in_threadpool(stored_view, state, answer)
        except answers.InputError:
            raise HTTPException(404, f"no answer with id {answer}") from None
    choices = await run_in_threadpool(_choices, state)
    return state.render(request, "chat.html", principal, shown=shown, documents=state.documents, **choices)


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, principal: AnnotatorPage):
    state = get_state(request)
    return state.render(request, "compare.html", principal, **_choices(state))


# asking ---------------------------------------------------------------------------------------------------

class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    pipeline: str | None = None
    model: str | None = None
    strategy: str | None = None
    document: str | None = Field(None, description="Answer from this document alone (its file name or path).")


def _target(state: State, pipeline: str | None, model: str | None) -> answers.Target:
    spec = f"{pipeline or answers.DEFAULT}@{model}" if model else (pipeline or answers.DEFAULT)
    return answers.parse_target(state.project, spec)


def _question(state: State, text: str) -> str:
    text = text.strip()
    if not text:
        raise HTTPException(400, "question: it is empty")
    if len(text) > state.config.max_question_chars:
        raise HTTPException(400, f"question: {len(text)} characters; the limit is {state.config.max_question_chars}")
    return text


@router.post("/api/ask")
async def ask(request: Request, principal: Annotator):
    """Server-sent events: ``token`` (text pieces), then ``done`` (the answer id and the rendered answer with its
    sources), or ``error``."""
    state = get_state(request)
    body = await parse_body(request, AskRequest)
    question, target = _question(state, body.question), _target(state, body.pipeline, body.model)
    details = {"via": "web", "rater": principal.name}

    def run(job):
        return answers.answer(state.project, question, target, body.strategy, document=body.document,
                              on_token=lambda piece: job.emit(("token", {"text": piece})), details=details)

    job = state.queue.submit(run)

    async def stream():
        try:
            yield _sse("queued", state.queue.stats())
            async for event, data in job.events():
                yield _sse(event, data)
            result = job.result
            view = answer_view(result.answer_id, question, result.answer, result.chunks,
                               result.unsupported,
                               await run_in_threadpool(_recorded_model, state, result.answer_id), result.pipeline)
            yield _sse("done", {"answer_id": result.answer_id, "answer": result.answer,
                                "html": _fragment(state, request, view)})
        except Exception as e:
            yield _sse("error", {"message": str(e)})
        finally:
            job.cancel()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _recorded_model(state: State, answer_id: int) -> str | None:
    return state.project.feedback.answer(answer_id).model


# feedback -------------------------------------------------------------------------------------------------

class WebFeedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: int
    kind: Literal["rating", "edit"]
    rating: Literal["up", "down"] | None = None
    comment: str | None = Field(None, max_length=10_000)
    edited_answer: str | None = Field(None, max_length=50_000)


@router.post("/api/feedback")
async def feedback(request: Request, principal: Annotator) -> dict[str, Any]:
    """A vote (with its comment) or a correction; answers only after the record is committed."""
    state = get_state(request)
    body = await parse_body(request, WebFeedback)
    record: dict[str, Any] = {"kind": body.kind, "answer_id": body.answer_id, "rater": principal.name,
                              "comment": (body.comment or "").strip() or None}
    if body.kind == "rating":
        if body.rating is None:
            raise HTTPException(400, "rating: choose up or down")
        record["rating"] = body.rating
    else:
        if not (body.edited_answer or "").strip():
            raise HTTPException(400, "edited_answer: the correction is empty")
        record["edited_answer"] = body.edited_answer.strip()
    fid = await run_in_threadpool(state.project.feedback.add, record)
    return {"saved": True, "feedback_id": fid, "answer_id": body.answer_id}


# blind comparison -----------------------------------------------------------------------------------------

class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    first: str = Field(description="A target: pipeline, pipeline@version or version.")
    second: str
    strategy: str | None = None
    first_strategy: str | None = Field(None, description="This side's answer strategy (default: strategy).")
    second_strategy: str | None = None


@router.post("/api/compare")
async def compare(request: Request, principal: Annotator):
    """Two answers to one question by two targets (pipeline@version, each with an answer strategy), streamed
    side by side as ``A`` and ``B`` (drawn at random here); the events never name the targets. Ends with
    ``ready`` and the comparison id to vote on."""
    state = get_state(request)
    body = await parse_body(request, CompareRequest)
    question = _question(state, body.question)
    default = body.strategy or state.project.config.answer.strategy
    contenders = [(answers.parse_target(state.project, body.first), body.first_strategy or default),
                  (answers.parse_target(state.project, body.second), body.second_strategy or default)]
    if contenders[0] == contenders[1]:
        raise HTTPException(400, "second: choose two different pipelines, model versions or strategies to compare")
    if secrets.randbelow(2):
        contenders.reverse()
    cid = secrets.token_urlsafe(12)
    sides = dict(zip("AB", contenders, strict=True))
    labels = {side: f"{t.label} ({strategy})" for side, (t, strategy) in sides.items()}

    def run(job):
        made = {}
        for side, (target, strategy) in sides.items():
            made[side] = answers.answer(
                state.project, question, target, strategy,
                on_token=lambda piece, side=side: job.emit(("token", {"side": side, "text": piece})),
                details={"via": "web", "rater": principal.name,
                         "blind": {"comparison": cid, "side": side, "label": labels[side]}})
            job.emit(("answered", {"side": side}))
        state.project.feedback.record_comparison(cid, made["A"].answer_id, made["B"].answer_id, labels["A"],
                                                 labels["B"], rater=principal.name)
        return made

    job = state.queue.submit(run)

    async def stream():
        try:
            async for event, data in job.events():
                yield _sse(event, data)
            made = job.result
            for side, result in made.items():
                view = answer_view(None, question, result.answer, result.chunks,
                                   result.unsupported, blind=True)
                yield _sse("done", {"side": side, "answer": result.answer, "html": _fragment(state, request, view)})
            yield _sse("ready", {"comparison_id": cid})
        except Exception as e:
            yield _sse("error", {"message": str(e)})
        finally:
            job.cancel()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


class Vote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: Literal["a", "b", "tie", "both_bad"]
    comment: str | None = Field(None, max_length=10_000)


@router.post("/api/compare/{cid}/vote")
async def vote(cid: str, request: Request, principal: Annotator) -> dict[str, Any]:
    """Store the vote (a preference A vs B, or a thumbs down on both); only then say which side was which."""
    state = get_state(request)
    body = await parse_body(request, Vote)
    store = state.project.feedback
    try:
        await run_in_threadpool(store.comparison, cid)
    except answers.InputError:
        raise HTTPException(404, f"comparison {cid!r}: unknown") from None
    comment = (body.comment or "").strip() or None
    try:
        record = await run_in_threadpool(store.vote_comparison, cid, body.choice, comment, principal.name)
    except answers.InputError as e:
        raise HTTPException(409, str(e)) from None
    reveal = {}
    for side, key in (("A", "a"), ("B", "b")):
        stored = await run_in_threadpool(store.answer, record[f"answer_{key}"])
        reveal[side] = {"label": record[f"label_{key}"], "model": stored.model, "pipeline": stored.pipeline,
                        "answer_id": stored.id}
    return {"saved": True, "feedback_ids": record["feedback_ids"], "choice": body.choice, "reveal": reveal}
