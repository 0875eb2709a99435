"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp server), with timeouts and retries."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx

from ragtune.config import LLMConfig
from ragtune.errors import ModelError
from ragtune.llm import LLM, Message, OnToken, RawGeneration, llms

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


@llms.register("openai")
class OpenAIChatLLM(LLM):
    """POSTs to ``{base_url}/chat/completions``. The key comes from the ``api_key_env`` variable."""

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(config)
        base = config.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.url = base.rstrip("/") + "/chat/completions"
        key = os.environ.get(config.api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(headers=headers, timeout=httpx.Timeout(config.timeout_s, connect=10.0))

    def _generate(self, messages: list[Message], params: dict[str, Any], on_token: OnToken | None) -> RawGeneration:
        body = {"model": self.config.model, "messages": messages, "max_tokens": params["max_tokens"],
                "temperature": params["temperature"], "top_p": params["top_p"], "seed": params["seed"]}
        if params["stop"]:
            body["stop"] = params["stop"]
        if on_token is not None:
            body |= {"stream": True, "stream_options": {"include_usage": True}}
        for attempt in range(self.config.max_retries + 1):
            try:
                return self._stream(body, on_token) if on_token else self._once(body)
            except (httpx.TransportError, _Retryable) as e:
                if attempt == self.config.max_retries:
                    raise ModelError(f"{self.url}: no answer after {attempt + 1} attempts: {e}") from None
                time.sleep(min(2**attempt, 30))
        raise AssertionError("unreachable")

    def _check(self, response: httpx.Response) -> None:
        if response.status_code in _RETRY_STATUS:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ModelError(f"{self.url}: HTTP {response.status_code}: {response.text[:300]}")

    def _once(self, body: dict) -> RawGeneration:
        response = self.client.post(self.url, json=body)
        self._check(response)
        out = response.json()
        choice, usage = out["choices"][0], out.get("usage") or {}
        return RawGeneration(choice["message"].get("content") or "", usage.get("prompt_tokens", 0),
                             usage.get("completion_tokens", 0), choice.get("finish_reason"))

    def _stream(self, body: dict, on_token: OnToken) -> RawGeneration:
        parts, usage, finish = [], {}, None
        with self.client.stream("POST", self.url, json=body) as response:
            if response.status_code >= 400:
                response.read()
            self._check(response)
            for line in response.iter_lines():
                if not line.startswith("data:") or line.strip() == "data: [DONE]":
                    continue
                event = json.loads(line[5:])
                usage = event.get("usage") or usage
                for choice in event.get("choices", []):
                    if piece := (choice.get("delta") or {}).get("content"):
                        parts.append(piece)
                        on_token(piece)
                    finish = choice.get("finish_reason") or finish
        return RawGeneration("".join(parts), usage.get("prompt_tokens", 0),
                             usage.get("completion_tokens", len(parts)), finish)


class _Retryable(Exception):
    pass
