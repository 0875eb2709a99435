"""Local graph search: the entities a question names -> their neighbourhood -> the chunks that support it.

Entities are matched by their names and aliases as word sequences of the question (a role alias such as
"Customer" counts half), or, when nothing matches, by embedding similarity of the question to entity names.
A chunk scores the weight of each matched entity it supports, half that for each relation of the entity it
supports, and a quarter for each neighbour (``hops=2`` goes one step further at a quarter again). A party's
contract is a way through, not a neighbour: the contract's relations that share a word with the question
(``pay`` ~ ``payment``) become neighbours."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ragtune.index.graph.builder import is_name_like
from ragtune.index.graph.knowledge_graph import KnowledgeGraph
from ragtune.index.graph.schema import name_key
from ragtune.text import content_words

_STOP = frozenset("the a an of and or to in on for by with is are was this that agreement party parties".split())
_MAX_NGRAM = 6
_GENERIC = {"agre", "part", "docu", "cont", "sect"}  # stems every contract sentence shares
_SEARCHABLE = ("organization", "person", "defined_term", "jurisdiction", "other", "money", "duration", "date")


@dataclass
class EntityMatch:
    node: str
    name: str
    weight: float
    by: str  # "name", "alias" or "embedding"


@dataclass
class LocalResult:
    matches: list[EntityMatch]
    chunk_scores: list[tuple[str, float]]
    neighbours: list[str] = field(default_factory=list)


def _prefixes(text: str) -> set[str]:
    """Four-letter stems of the content words ("payment" and "pay" share "pay")."""
    return {w[:4] for w in content_words(text)}


def _words(text: str) -> list[str]:
    return name_key(text).split()


class LocalGraphSearch:
    """Question -> matched entities -> ranked supporting chunk ids, over one loaded graph."""

    def __init__(self, graph: KnowledgeGraph, embedder=None, store=None, entity_similarity: float = 0.5,
                 max_entities: int = 5, hops: int = 1) -> None:
        self.graph = graph
        self.embedder = embedder
        self.store = store
        self.entity_similarity = entity_similarity
        self.max_entities = max_entities
        self.hops = hops
        self.keys: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
        for n, d in graph.graph.nodes(data=True):
            if d["type"] not in _SEARCHABLE:
                continue
            names = [(d["name"], 1.0, "name")] + [(a, 1.0 if is_name_like(a, d["name"]) else 0.5, "alias")
                                                   for a in d["aliases"]]
            if d["type"] == "date":
                names.append((d["description"], 1.0, "name"))
            for text, weight, by in names:
                key = " ".join(_words(text))
                if len(key) >= 3 and not set(key.split()) <= _STOP:
                    self.keys[key].append((n, weight, by))

    def match(self, question: str) -> list[EntityMatch]:
        """Entities named in the question (longest names first), else the closest names by embedding."""
        words = _words(question)
        found: dict[str, EntityMatch] = {}
        for size in range(min(_MAX_NGRAM, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                for node, weight, by in self.keys.get(" ".join(words[i: i + size]), []):
                    if node not in found or found[node].weight < weight:
                        found[node] = EntityMatch(node, self.graph.node(node)["name"], weight, by)
        if not found and self.embedder is not None and self.store is not None:
            found = {m.node: m for m in self._embedding_matches(question)}
        return sorted(found.values(), key=lambda m: -m.weight)[: self.max_entities]

    def _embedding_matches(self, question: str) -> list[EntityMatch]:
        nodes = [n for n, d in self.graph.graph.nodes(data=True)
                 if d["type"] in ("organization", "person", "defined_term", "jurisdiction", "other")]
        if not nodes:
            return []
        names = [self.graph.node(n)["name"] for n in nodes]
        vectors = self.embedder.embed_cached(names, self.store)
        sims = vectors @ self.embedder.embed_query(question)
        best = np.argsort(-sims)[: self.max_entities]
        return [EntityMatch(nodes[i], names[i], round(float(sims[i]), 4), "embedding")
                for i in best if sims[i] >= self.entity_similarity]

    def search(self, question: str, allowed: set[str] | None = None) -> LocalResult:
        """Chunk ids (best first) supporting the matched entities and their neighbourhood; ``allowed``
        restricts them (metadata filters)."""
        matches = self.match(question)
        scores: dict[str, float] = defaultdict(float)
        neighbours: list[str] = []

        def credit(chunk_ids, weight: float) -> None:
            for c in chunk_ids:
                if allowed is None or c in allowed:
                    scores[c] += weight

        names = {p for m in matches for n in [m.name, *self.graph.node(m.node)["aliases"]] for p in _prefixes(n)}
        asked = _prefixes(question) - names - _GENERIC
        frontier = [(m.node, m.weight) for m in matches]
        seen = {m.node for m in matches}
        for hop in range(self.hops):
            next_frontier = []
            for node, weight in frontier:
                if hop == 0:
                    credit(self.graph.node(node)["chunk_ids"], weight)
                for u, v, d in self.graph.incident_edges(node):
                    credit(d["chunk_ids"], weight / 2)
                    other = v if u == node else u
                    if other in seen:
                        continue
                    seen.add(other)
                    if self.graph.node(other)["type"] == "document":
                        neighbours.extend(self._through_document(other, weight / 4, asked, seen, credit))
                        continue
                    neighbours.append(other)
                    credit(self.graph.node(other)["chunk_ids"], weight / 4)
                    next_frontier.append((other, weight / 4))
            frontier = next_frontier
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return LocalResult(matches, [(c, round(s, 4)) for c, s in ranked], neighbours)

    def _through_document(self, doc: str, weight: float, asked: set[str], seen: set[str], credit) -> list[str]:
        """A party's contract is its context: the contract's relations whose type or evidence shares a word
        with the question (``pay`` ~ ``payment``) are its neighbours, their chunks credited ``weight``."""
        found = []
        for _, v, d in self.graph.graph.out_edges(doc, data=True):
            said = _prefixes(d["type"].replace("_", " ")) | _prefixes(" ".join(d["evidence"]))
            if v in seen or not asked & said:
                continue
            seen.add(v)
            found.append(v)
            credit(d["chunk_ids"], weight)
        return found

