"""The OpenAI-compatible API: ``/v1/models``, ``/v1/chat/completions`` (streamed and not) running the RAG
pipeline, with ``citations`` in the response (and in the last chunk before ``[DONE]``), and ``/v1/feedback``
for feedback on the recorded answer."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ragtune.server import answers
from ragtune.server.deps import Annotator, get_state, parse_body

router = APIRouter(prefix="/v1")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields ragtune reads; other OpenAI fields (temperature, max_tokens, ...) are accepted and ignored:
    generation settings come from ragtune.yaml. ``strategy`` and ``top_k`` are ragtune extras."""

    model_config = ConfigDict(extra="allow")
    model: str = answers.DEFAULT
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    strategy: str | None = None
    top_k: int | None = Field(None, ge=1, le=50)

    def question(self, limit: int) -> str:
        users = [m for m in self.messages if m.role == "user"]
        if not users or not users[-1].text().strip():
            raise HTTPException(400, "messages: the last user message is empty (ragtune answers the last user "
                                     "message from the indexed documents)")
        text = users[-1].text().strip()
        if len(text) > limit:
            raise HTTPException(400, f"messages: the question has {len(text)} characters; the limit is {limit} "
                                     "(server.max_question_chars)")
        return text


@router.get("/models")
def list_models(request: Request, principal: Annotator) -> dict[str, Any]:
    project = get_state(request).project
    return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "ragtune"}
                                       for m in answers.catalogue(project)]}


def _citation_records(result) -> list[dict[str, Any]]:
    return [{k: c[k] for k in ("index", "source", "page", "chunk_id", "score", "text", "quote")}
            for c in answers.citations(result.answer, result.chunks)]


def _extras(result, project) -> dict[str, Any]:
    return {"answer_id": result.answer_id, "feedback_url": "/v1/feedback", "pipeline": result.pipeline,
            "model": project.feedback.answer(result.answer_id).model,
            "strategy": result.strategy, "answered": result.answered,
            "unsupported_sentences": result.unsupported,
            "answer": result.answer}


@router.post("/chat/completions")
async def chat_completions(request: Request, principal: Annotator):
    state = get_state(request)
    body = await parse_body(request, ChatRequest)
    question = body.question(state.config.max_question_chars)
    target = answers.parse_target(state.project, body.model)
    created = int(time.time())
    details = {"via": "api", "rater": principal.name}

    if not body.stream:
        job = state.queue.submit(lambda job: answers.answer(state.project, question, target, body.strategy,
                                                            details=details))
        try:
            result = await job.wait()
        finally:
            job.cancel()
        return {"id": f"chatcmpl-{result.answer_id}", "object": "chat.completion", "created": created,
                "model": body.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": result.answer},
                             "finish_reason": "stop"}],
                "usage": answers.usage(state.project, result), "citations": _citation_records(result),
                "ragtune": await run_in_threadpool(_extras, result, state.project)}

    def run(job):
        return answers.answer(state.project, question, target, body.strategy,
                              on_token=lambda piece: job.emit(piece), details=details)

    job = state.queue.submit(run)

    def chunk(cid: str, delta: dict, finish: str | None = None, **extra: Any) -> str:
        data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def stream():
        cid = f"chatcmpl-pending-{id(job):x}"
        try:
            yield chunk(cid, {"role": "assistant", "content": ""})
            async for piece in job.events():
                yield chunk(cid, {"content": piece})
            result = job.result
            yield chunk(f"chatcmpl-{result.answer_id}", {}, "stop", usage=answers.usage(state.project, result),
                        citations=_citation_records(result),
                        ragtune=await run_in_threadpool(_extras, result, state.project))
            yield "data: [DONE]\n\n"
        except Exception as e:  # the response has started: report in the stream
            status = 404 if isinstance(e, answers.UnknownTarget) else 400 if isinstance(e, answers.InputError) else 500
            yield f"data: {json.dumps({'error': {'message': str(e), 'code': status}})}\n\n"
        finally:
            job.cancel()  # a client that went away frees the generator at its next token

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class FeedbackRequest(BaseModel):
    """Feedback on an answer the API served: ``answer_id`` (the ``ragtune.answer_id`` of the response, or its
    ``id`` ``chatcmpl-N``) with a ``rating`` (up/down) and/or an ``edited_answer``, and an optional comment. The
    rater is the caller (the signed-in user, or the API token's name); ``rater``, when given, must name them."""

    model_config = ConfigDict(extra="forbid")
    answer_id: int | str
    rating: Literal["up", "down"] | None = None
    edited_answer: str | None = Field(None, min_length=1)
    comment: str | None = Field(None, max_length=10_000)
    rater: str | None = None

    def answer_number(self) -> int:
        value = self.answer_id
        if isinstance(value, str):
            value = value.removeprefix("chatcmpl-")
            if not value.isdigit():
                raise HTTPException(400, f"answer_id {self.answer_id!r}: expected a number or chatcmpl-NUMBER")
        return int(value)


@router.post("/feedback")
async def feedback(request: Request, principal: Annotator) -> dict[str, Any]:
    body = await parse_body(request, FeedbackRequest)
    if body.rating is None and body.edited_answer is None:
        raise HTTPException(400, "give a rating (up or down), an edited_answer, or both")
    if body.rater is not None and body.rater != principal.name:
        raise HTTPException(403, f"rater: feedback is recorded under the caller's name ({principal.name!r}); "
                                 f"{body.rater!r} must send it with their own credentials")
    store = get_state(request).project.feedback
    rater = principal.name
    ids = []
    aid = body.answer_number()
    if body.rating is not None:
        ids.append(await run_in_threadpool(store.add_rating, aid, body.rating, comment=body.comment, rater=rater))
    if body.edited_answer is not None:
        ids.append(await run_in_threadpool(store.add_edit, aid, body.edited_answer,
                                           comment=None if body.rating else body.comment, rater=rater))
    return {"answer_id": aid, "feedback_ids": ids, "stored": True}
