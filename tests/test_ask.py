import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.config import LLMConfig, Price
from ragtune.generation.llms import load_llm
from ragtune.generation.pricing import generation_cost
from ragtune.generation.profiles import resolve_gguf
from ragtune.generation.prompts import NO_ANSWER

QUESTION = "What are the working hours of employees?"


def test_ask_answers_with_citations(project):
    streamed = []
    answer = project.ask(QUESTION, on_token=streamed.append, strategy="generate")
    assert answer.answered and answer.answer
    assert "".join(streamed).strip()
    assert answer.citations, answer.answer
    cited = {c.source.rsplit("/", 1)[-1] for c in answer.citations}
    assert "handbook.pdf" in cited
    pdf = next(c for c in answer.citations if c.source.endswith("handbook.pdf"))
    assert pdf.page == 1 and pdf.chunk_id in {c["chunk_id"] for c in answer.chunks}
    assert answer.usage["prompt_tokens"] > 50 and answer.usage["completion_tokens"] > 0
    assert answer.latency_s > 0 and answer.cost_usd > 0


def test_ask_json_cli(project):
    result = CliRunner().invoke(app, ["ask", QUESTION, "-p", str(project.root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"answer", "citations", "chunks", "usage", "latency_s", "cost_usd"} <= set(data)
    assert all({"source", "page", "chunk_id"} <= set(c) for c in data["citations"])
    assert {"prompt_tokens", "completion_tokens"} <= set(data["usage"])
    assert data["chunks"] and all("chunk_id" in c for c in data["chunks"])


def test_unrelated_question_gets_a_plain_refusal(project):
    answer = project.ask("What is the boiling point of liquid nitrogen on Mars?")
    assert not answer.answered and answer.answer == NO_ANSWER and answer.citations == []
    assert answer.usage["completion_tokens"] == 0


def test_cost_from_price_sheet():
    from ragtune.llm import Generation

    gen = Generation("x", prompt_tokens=1000, completion_tokens=500, latency_s=36.0, model="m")
    prices = {"m": Price(input_per_mtok=1.0, output_per_mtok=2.0, hourly_usd=0.5)}
    assert generation_cost(prices, gen) == pytest.approx(0.001 + 0.001 + 0.005)
    assert generation_cost({}, gen) == 0.0


MESSAGES = [{"role": "user", "content": "Reply with the word: hello"}]


def test_transformers_backend_loads_gguf_profile():
    llm = load_llm(LLMConfig(backend="transformers", model="fast", max_tokens=8))
    pieces = []
    gen = llm.generate(MESSAGES, on_token=pieces.append)
    assert gen.text.strip() and gen.completion_tokens > 0 and gen.prompt_tokens > 5
    assert "".join(pieces).strip() == gen.text.strip()


@pytest.fixture(scope="module")
def openai_server():
    """A real OpenAI-compatible server (llama.cpp's) on the shipped model."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(resolve_gguf("fast")),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(url + "/models", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(10)


def test_openai_backend_against_real_server(openai_server):
    llm = load_llm(LLMConfig(backend="openai", model="smollm", base_url=openai_server, max_tokens=8))
    gen = llm.generate(MESSAGES)
    assert gen.text and gen.prompt_tokens > 0 and gen.completion_tokens > 0
    pieces = []
    streamed = llm.generate(MESSAGES, on_token=pieces.append)
    assert "".join(pieces) == streamed.text and streamed.completion_tokens > 0


def test_openai_backend_unreachable_is_a_clear_error():
    from ragtune.errors import ModelError

    llm = load_llm(LLMConfig(backend="openai", model="x", base_url="http://127.0.0.1:9/v1", max_retries=1,
                             timeout_s=2))
    with pytest.raises(ModelError, match="no answer after 2 attempts"):
        llm.generate(MESSAGES)
