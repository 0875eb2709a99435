"""Routing: pick a pipeline for the question — by keyword rules first, then (optionally) by the LLM."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


def _default_routes() -> dict[str, list[str]]:
    return {
        "decompose+hybrid": [r"\b(and|versus|vs\.?|both|as well as)\b.*\?", r"\?.+\?"],
        "multi_query+hybrid": [r"^\s*(why|how)\b"],
        "bm25": [r"^[^?]{1,40}$"],
    }


class RouterConfig(ComponentConfig):
    routes: dict[str, list[str]] = Field(default_factory=_default_routes)
    default: str = "hybrid"
    use_llm: bool = False


@components.register("router")
class Router(Component):
    """``routes`` maps a pipeline (a name from ``pipelines:`` or a spec) to regular expressions; the first
    match wins. With ``use_llm`` and no match, the LLM picks one of the route names."""

    kind = "pre"
    Config = RouterConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        for pipeline, patterns in self.config.routes.items():
            if any(re.search(p, ctx.question, re.IGNORECASE) for p in patterns):
                ctx.route = pipeline
                return {"route": pipeline, "by": "rule"}
        if self.config.use_llm and self.config.routes:
            names = list(self.config.routes)
            options = "\n".join(f"{i + 1}. {n}" for i, n in enumerate(names))
            text = self.chat(f"Which retrieval strategy fits this question best?\n{options}\n\nQuestion: "
                             f"{ctx.question}\nReply with the number only.", max_tokens=4)
            m = re.search(r"\d+", text)
            if m and 1 <= int(m.group()) <= len(names):
                ctx.route = names[int(m.group()) - 1]
                return {"route": ctx.route, "by": "llm"}
            ctx.warn(f"router: unusable LLM choice {text!r}; using the default route")
        ctx.route = self.config.default
        return {"route": ctx.route, "by": "default"}
