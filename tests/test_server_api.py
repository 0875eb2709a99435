"""`ragtune serve`'s OpenAI-compatible API, driven by the official `openai` client: models, completions streamed
and not with citations and real token counts, every answer recorded, feedback on it; and bad input."""

import json

import pytest

QUESTION = "What is the notice period for the override?"


@pytest.fixture(scope="module")
def client(served):
    from openai import OpenAI

    return OpenAI(base_url=served.url + "/v1", api_key="unused-on-loopback", max_retries=0)


def test_models_lists_pipelines_and_versions(client, served):
    ids = [m.id for m in client.models.list().data]
    config = served.state.project.config
    assert ids[0] == "ragtune" and "base" in ids
    assert config.retrieval.pipeline in ids and "naive" in ids and "naive@base" in ids


def test_completion_with_citations_usage_and_a_recorded_answer(client, served):
    response = client.chat.completions.create(model="ragtune", messages=[
        {"role": "system", "content": "Answer from the documents."}, {"role": "user", "content": QUESTION}])
    text = response.choices[0].message.content
    assert "ten" in text.lower() and "[1]" in text
    extra = response.model_extra
    citations = extra["citations"]
    assert citations and {"index", "source", "page", "chunk_id", "score", "text", "quote"} <= set(citations[0])
    assert citations[0]["source"].endswith("security_notice.txt") and "ten (10) days" in citations[0]["text"]
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens
    answer_id = extra["ragtune"]["answer_id"]
    assert response.id == f"chatcmpl-{answer_id}"
    stored = served.state.project.feedback.answer(answer_id)
    assert (stored.question, stored.answer, stored.details["via"]) == (QUESTION, text, "api")
    assert [c.chunk_id for c in stored.context][:1] == [citations[0]["chunk_id"]]

    # feedback on it, as a client would send it
    feedback = client.post("/feedback", body={"answer_id": response.id, "rating": "up", "comment": "right"},
                           cast_to=object)
    assert feedback["stored"] and len(feedback["feedback_ids"]) == 1
    [fb] = served.state.project.feedback.feedback(after_id=feedback["feedback_ids"][0] - 1)
    assert (fb.kind, fb.answer_id, fb.rating, fb.comment) == ("rating", answer_id, "up", "right")


def test_streamed_completion_ends_with_citations_before_done(client, served):
    stream = client.chat.completions.create(model="naive@base", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "ten" in text.lower()
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"][0]["source"].endswith("security_notice.txt")
    assert last.usage.completion_tokens > 0
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])
    answer_id = last.model_extra["ragtune"]["answer_id"]
    stored = served.state.project.feedback.answer(answer_id)
    assert stored.pipeline == "naive" and stored.answer == last.model_extra["ragtune"]["answer"]


@pytest.mark.slow
def test_generate_strategy_streams_tokens_of_the_llm(served):
    """With the LLM (SmolLM2 via llama.cpp) the stream has many pieces and usage counts its tokens."""
    with served.client() as http, http.stream("POST", "/v1/chat/completions", json={
            "model": "ragtune", "stream": True, "strategy": "generate",
            "messages": [{"role": "user", "content": "How many days of paid vacation do employees receive?"}]}) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[6:]) for line in lines[:-1]]
    pieces = [e["choices"][0]["delta"].get("content") for e in events[1:-1]]
    final = events[-1]
    assert len(pieces) > 3 and final["usage"]["completion_tokens"] >= len(pieces) - 1
    assert final["usage"]["prompt_tokens"] > 50 and "citations" in final


def test_bad_requests_are_4xx_with_a_message_naming_the_input(served):
    with served.client() as http:
        r = http.post("/v1/chat/completions", json={"model": "ragtune"})
        assert r.status_code == 422 and "messages" in r.json()["error"]["message"]
        r = http.post("/v1/chat/completions", json={"model": "nope@v9", "messages": [{"role": "user", "content": "x"}]})
        assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
        r = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "  "}]})
        assert r.status_code == 400 and "empty" in r.json()["error"]["message"]
        r = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
        r = http.post("/v1/feedback", json={"answer_id": 999999, "rating": "up"})
        assert r.status_code == 400 and "no answer with id 999999" in r.json()["error"]["message"]
        r = http.post("/v1/feedback", json={"answer_id": 1, "rating": "sideways"})
        assert r.status_code == 422 and "rating" in r.json()["error"]["message"]
        r = http.post("/v1/feedback", content=json.dumps({"answer_id": 1, "rating": "up"}),
                      headers={"content-type": "text/plain"})
        assert r.status_code == 415
