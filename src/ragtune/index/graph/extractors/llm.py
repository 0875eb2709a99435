"""LLM extraction: the model is asked for JSON following the ``Extraction`` schema; the output is repaired
(``parse_json``), validated item by item (invalid items and names that are not in the passage are dropped),
retried with the error when it is not JSON at all, and after ``max_retries`` the chunk degrades to the generic
rule extractor (``rules``: dates, amounts, organisations; no domain rule) with a warning. Bad model output never
stops a build."""

from __future__ import annotations

import json
import re
import time

from pydantic import ValidationError

from ragtune.documents.models import Chunk
from ragtune.index.graph.extractors.base import Extractor, extractors
from ragtune.index.graph.extractors.rules import RuleExtractor
from ragtune.index.graph.schema import Entity, Extraction, Relation, name_key

PROMPT_VERSION = 1
PROMPT = (
    "Extract the entities and the relations between them from the passage. Entity types: organization, person, "
    "defined_term, date, money, duration, jurisdiction, other. Reply with one JSON object and nothing else:\n"
    '{{"entities": [{{"name": "...", "type": "..."}}], '
    '"relations": [{{"source": "entity name", "target": "entity name", "type": "verb_phrase"}}]}}\n\n'
    "Passage:\n{text}\n\nJSON:"
)
RETRY = "That reply was not usable ({error}). Reply with the JSON object only."


class BadOutput(ValueError):
    """The model's reply holds no usable extraction."""


def _grounded(name: str, text_key: str) -> bool:
    key = name_key(name)
    return bool(key) and f" {key} " in text_key


def validate_extraction(output: str, passage: str) -> tuple[Extraction, bool, int]:
    """(extraction, whether JSON repair was needed, items dropped) from a model reply; raises BadOutput when
    the reply is not JSON even after repair, not shaped like the schema, or names nothing of the passage.
    Entities must occur in the passage (small models copy names from the prompt's example) and relations
    must join kept entities."""
    from ragtune.parsing import parse_json

    try:
        data = parse_json(output)
    except ValueError as e:
        raise BadOutput(str(e)) from None
    try:
        json.loads(re.sub(r"```(?:json)?", "", output).strip())
        repaired = False
    except json.JSONDecodeError:
        repaired = True
    if isinstance(data, list):
        data = {"entities": data}
    if not isinstance(data, dict) or not ({"entities", "relations"} & set(data)):
        raise BadOutput("expected an object with 'entities' and 'relations'")
    text_key = f" {name_key(passage)} "
    dropped, entities, names = 0, [], {}
    for item in data.get("entities") or []:
        try:
            entity = Entity.model_validate(item)
        except ValidationError:
            dropped += 1
            continue
        if not _grounded(entity.name, text_key) or name_key(entity.name) in names:
            dropped += name_key(entity.name) not in names
            continue
        names[name_key(entity.name)] = entity.name
        entities.append(entity)
    relations = []
    for item in data.get("relations") or []:
        try:
            rel = Relation.model_validate(item)
        except ValidationError:
            dropped += 1
            continue
        source, target = names.get(name_key(rel.source)), names.get(name_key(rel.target))
        if source is None or target is None or source == target:
            dropped += 1
            continue
        relations.append(rel.model_copy(update={"source": source, "target": target}))
    if not entities and dropped:
        raise BadOutput(f"none of the {dropped} entities or relations given is in the passage")
    return Extraction(entities=entities, relations=relations), repaired, dropped


@extractors.register("llm")
class LLMExtractor(Extractor):
    """Entities and relations by an LLM (``index.graph.llm`` settings)."""

    uses_llm = True

    def cache_key(self) -> str:
        c = self.config.llm
        return f"llm/v{PROMPT_VERSION}/{self.llm.model_id}/{c.max_tokens}/{c.max_chunk_chars}"

    def _generate(self, messages: list[dict[str, str]]) -> str:
        t0 = time.perf_counter()
        gen = self.llm.generate(messages, max_tokens=self.config.llm.max_tokens, temperature=0.0)
        self.cost.calls += 1
        self.cost.prompt_tokens += gen.prompt_tokens
        self.cost.completion_tokens += gen.completion_tokens
        self.cost.seconds += time.perf_counter() - t0
        return gen.text

    def extract(self, chunk: Chunk, before: str = "") -> Extraction:
        self.cost.chunks += 1
        passage = chunk.text[: self.config.llm.max_chunk_chars]
        messages = [{"role": "user", "content": PROMPT.format(text=passage)}]
        error = "no reply"
        for attempt in range(self.config.llm.max_retries + 1):
            if attempt:
                self.cost.retried += 1
            output = self._generate(messages)
            try:
                extraction, repaired, dropped = validate_extraction(output, passage)
            except BadOutput as e:
                error = str(e)
                messages = [*messages[:1], {"role": "assistant", "content": output[:1000]},
                            {"role": "user", "content": RETRY.format(error=error)}]
                continue
            self.cost.repaired += repaired
            self.cost.dropped_items += dropped
            return extraction
        self.cost.degraded += 1
        self.cost.warn(f"llm extractor: chunk {chunk.id}: {error} after {self.config.llm.max_retries + 1} "
                       "attempt(s); used the rule extractor for it")
        return RuleExtractor(self.config).extract(chunk, before)
