"""Graph building: extract every chunk (LLM extractions cached by chunk text, saved as they are made so an
interrupted build resumes), resolve defined aliases within each document, find mentions of named entities
across documents, merge duplicates (normalised names, aliases, name-embedding similarity), detect
communities, and save the graph with the cost of building it."""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.documents.models import Chunk
from ragtune.errors import ConfigError, InputError
from ragtune.index.graph.config import GraphConfig
from ragtune.index.graph.extractors import ExtractionCost, Extractor, extractors
from ragtune.index.graph.knowledge_graph import KnowledgeGraph, atomic_write_text, read_json
from ragtune.index.graph.schema import DOCUMENT, Entity, Extraction, name_key
from ragtune.registry import UnknownComponentError

if TYPE_CHECKING:
    from ragtune.index.embedder import Embedder
    from ragtune.index.store import Store
    from ragtune.llm import LLM

NAMED = ("organization", "person", "other")
_KIND = {"organization": "entity", "person": "entity", "other": "entity", "defined_term": "term", "date": "date",
         "money": "money", "duration": "duration", "jurisdiction": "jurisdiction"}
_SAVE_EVERY = 16
_MAX_EVIDENCE = 3


def node_id(entity: Entity) -> str | None:
    """Stable id: values by their normalised text, names by their name key; None for empty names."""
    kind = _KIND[entity.type]
    key = entity.name if kind in ("date", "duration") else entity.name.lower() if kind == "money" \
        else name_key(entity.name)
    return f"{kind}:{key}" if key else None


def is_name_like(alias: str, name: str) -> bool:
    """An alias that names the entity anywhere ("IBM", "Galaxy"), not a role within one contract ("Customer")."""
    words = [w for w in name_key(name).split() if w not in ("of", "and", "the", "for")]
    initials = "".join(w[0] for w in words)
    return bool(set(name_key(alias).split()) & set(words)) or name_key(alias) == initials or "." in alias


def extractor_class(config: GraphConfig, name: str | None = None) -> type[Extractor]:
    """The registered extractor class ``name`` (default ``config.extractor``); a ConfigError for an unknown name."""
    try:
        return extractors.get(name or config.extractor)
    except UnknownComponentError as e:
        raise ConfigError(str(e)) from None


def make_extractor(config: GraphConfig, name: str | None = None, llm: Callable[[], LLM] | None = None) -> Extractor:
    """The registered extractor ``name`` (default ``config.extractor``); ``llm`` is called only for one that
    uses an LLM."""
    cls = extractor_class(config, name)
    if cls.uses_llm and llm is None:
        raise ConfigError(f"the {cls.name} graph extractor needs an LLM")
    return cls(config, llm() if cls.uses_llm else None)


def load_or_build(load: Callable[[], KnowledgeGraph], store: Store,
                  rebuild: Callable[[], GraphBuildReport] | None = None) -> tuple[KnowledgeGraph, list[str]]:
    """The saved graph (``load``) and warnings about it: built now by ``rebuild`` when missing (given when the
    configured extractor uses no LLM, so building costs no LLM call), flagged when the index changed since it
    was built."""
    warnings = []
    try:
        graph = load()
    except InputError:
        if rebuild is None:
            raise
        report = rebuild()
        warnings.append(f"no knowledge graph yet; built one with the {report.extractor} extractor "
                        f"({report.entities} entities)")
        graph = load()
    if graph.meta.get("store_generation") != store.generation():
        warnings.append("the index changed since the knowledge graph was built; run `ragtune graph build`")
    return graph, warnings


@dataclass
class GraphBuildReport:
    """What a build did and cost; ``enrichment`` is the row shown in the ingest summary."""

    extractor: str
    chunks: int
    documents: int
    entities: int
    relations: int
    cross_document_entities: int
    merged: int
    communities: int
    seconds: float
    path: str
    cost: ExtractionCost = field(default_factory=ExtractionCost)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def enrichment(self) -> dict[str, Any]:
        c = self.cost
        return {"calls": c.calls, "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
                "seconds": round(self.seconds, 3), "added": self.entities, "relations": self.relations,
                "extractor": self.extractor, "degraded": c.degraded, "warnings": c.warnings}


class _Aggregate:
    """Nodes and edges as they are collected, before merging."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.chunk_source: dict[str, str] = {}

    def node(self, nid: str, type_: str, name: str, source: str, chunk_id: str | None, description: str = "") -> None:
        d = self.nodes.setdefault(nid, {"type": type_, "name": name, "names": Counter(), "aliases": set(),
                                        "chunk_ids": set(), "sources": set(), "description": description})
        d["names"][name] += 1
        if chunk_id:
            self.chunk_source[chunk_id] = source
            d["chunk_ids"].add(chunk_id)
            d["sources"].add(source)
        if description and not d["description"]:
            d["description"] = description

    def edge(self, u: str, v: str, type_: str, source: str, chunk_id: str, evidence: str = "",
             role: str | None = None) -> None:
        d = self.edges.setdefault((u, v, type_), {"chunk_ids": set(), "sources": set(), "evidence": [],
                                                  "roles": set()})
        self.chunk_source[chunk_id] = source
        d["chunk_ids"].add(chunk_id)
        d["sources"].add(source)
        if evidence and evidence not in d["evidence"] and len(d["evidence"]) < _MAX_EVIDENCE:
            d["evidence"].append(evidence)
        if role:
            d["roles"].add(role)


class GraphBuilder:
    """Builds the knowledge graph of the chunks in ``store`` with ``extractor`` and saves it in ``out_dir``
    (with the LLM extraction cache); ``embedder`` matches entity names when merging duplicates."""

    def __init__(self, store: Store, embedder: Embedder, extractor: Extractor, config: GraphConfig,
                 out_dir: Path) -> None:
        self.store = store
        self.embedder = embedder
        self.extractor = extractor
        self.config = config
        self.dir = out_dir

    def build(self, on_start: Callable[[int], None] | None = None,
              on_chunk: Callable[[str], None] | None = None) -> tuple[KnowledgeGraph, GraphBuildReport]:
        import networkx as nx

        t0 = time.perf_counter()
        store = self.store
        ids, _ = store.indexed_chunks()
        chunks = [c for c in store.chunks(ids) if c.metadata.get("kind") != "question"]
        by_doc: dict[str, list[Chunk]] = defaultdict(list)
        for c in chunks:
            by_doc[c.doc_source].append(c)
        if on_start:
            on_start(len(chunks))
        extractions = self._extract(chunks, on_chunk)
        agg = _Aggregate()
        titles = {s: d.title for s, d in store.documents().items()}
        for source, doc_chunks in by_doc.items():
            self._collect(agg, source, titles.get(source) or source, doc_chunks, extractions)
        self._mentions(agg, by_doc)
        merged = self._merge(agg)
        self._link_documents(agg)
        graph = nx.MultiDiGraph()
        for nid, d in agg.nodes.items():
            graph.add_node(nid, type=d["type"], name=d["name"], aliases=sorted(d["aliases"]),
                           chunk_ids=sorted(d["chunk_ids"]), sources=sorted(d["sources"]),
                           description=d["description"])
        for (u, v, t), d in agg.edges.items():
            graph.add_edge(u, v, key=t, type=t, chunk_ids=sorted(d["chunk_ids"]), sources=sorted(d["sources"]),
                           evidence=d["evidence"], roles=sorted(d["roles"]))
        self._communities(graph)
        kg = KnowledgeGraph(graph)
        stats = kg.stats()
        self.extractor.cost.seconds = round(self.extractor.cost.seconds, 3)
        report = GraphBuildReport(
            self.extractor.name, len(chunks), stats["documents"], stats["entities"], stats["edges"],
            stats["cross_document_entities"], merged, stats["communities"], round(time.perf_counter() - t0, 3),
            str(self.dir / "graph.json"), self.extractor.cost)
        kg.meta = {"extractor": self.extractor.name, "store_generation": store.generation(),
                   "built_at": time.time(), "stats": stats, "build": report.to_dict()}
        kg.save(self.dir / "graph.json")
        return kg, report

    def _extract(self, chunks: list[Chunk], on_chunk: Callable[[str], None] | None) -> dict[str, Extraction]:
        """Extraction per chunk id; cacheable extractors reuse earlier results for identical text."""
        key = self.extractor.cache_key()
        path = self.dir / "extractions.json"
        cache: dict[str, dict] = read_json(path, {}).get(key, {}) if key else {}
        fresh: dict[str, dict] = {}
        out: dict[str, Extraction] = {}
        before, last = {}, {}
        for chunk in sorted(chunks, key=lambda c: (c.doc_source, c.start)):
            if chunk.doc_source in last:
                before[chunk.id] = last[chunk.doc_source].text[-400:]
            last[chunk.doc_source] = chunk
        for i, chunk in enumerate(chunks):
            digest = hashlib.sha256(chunk.text.encode()).hexdigest()
            if key and digest in cache:
                out[chunk.id] = Extraction.model_validate(cache[digest])
                self.extractor.cost.cached += 1
            else:
                out[chunk.id] = self.extractor.extract(chunk, before.get(chunk.id, ""))
            if key:
                fresh[digest] = out[chunk.id].model_dump()
                if i % _SAVE_EVERY == _SAVE_EVERY - 1:
                    self._save_cache(path, key, cache | fresh)
            if on_chunk:
                on_chunk(chunk.doc_source)
        if key:
            self._save_cache(path, key, fresh)  # only the current chunks: the cache does not grow forever
        return out

    @staticmethod
    def _save_cache(path, key: str, entries: dict[str, dict]) -> None:
        import json

        atomic_write_text(path, json.dumps({key: entries}, ensure_ascii=False))

    def _collect(self, agg: _Aggregate, source: str, title: str, chunks: list[Chunk],
                 extractions: dict[str, Extraction]) -> None:
        doc = f"doc:{source}"
        agg.node(doc, "document", title, source, None)
        aliases: dict[str, str] = {}
        for chunk in chunks:
            ex = extractions[chunk.id]
            names: dict[str, str] = {}
            for e in ex.entities:
                nid = node_id(e)
                if nid is None:
                    continue
                agg.node(nid, e.type, e.name, source, chunk.id, e.description)
                names[e.name] = nid
                for alias in e.aliases:
                    aliases.setdefault(alias, nid)
                    agg.nodes[nid]["aliases"].add(alias)
            for r in ex.relations:
                u = doc if r.source == DOCUMENT else names.get(r.source) or aliases.get(r.source)
                v = doc if r.target == DOCUMENT else names.get(r.target) or aliases.get(r.target)
                if u and v and u != v:
                    agg.edge(u, v, r.type, source, chunk.id, r.evidence, r.role)
        for chunk in chunks:  # a defined alias ("the Supplier") is a mention of its entity in this document
            for alias, nid in aliases.items():
                if len(alias) > 1 and re.search(rf"\b{re.escape(alias)}\b", chunk.text):
                    agg.node(nid, agg.nodes[nid]["type"], agg.nodes[nid]["name"], source, chunk.id)

    def _mentions(self, agg: _Aggregate, by_doc: dict[str, list[Chunk]]) -> None:
        """Chunks of any document naming an organisation, person, defined term or jurisdiction."""
        patterns = []
        for nid, d in agg.nodes.items():
            if d["type"] in (*NAMED, "defined_term", "jurisdiction") and len(d["name"]) >= 3:
                flags = re.IGNORECASE if d["type"] in NAMED else 0
                patterns.append((nid, d["name"].lower() if flags else d["name"],
                                 re.compile(rf"(?<!\w){re.escape(d['name'])}(?!\w)", flags), flags))
        for source, chunks in by_doc.items():
            for chunk in chunks:
                lower = chunk.text.lower()
                for nid, needle, pattern, flags in patterns:
                    if needle in (lower if flags else chunk.text) and pattern.search(chunk.text):
                        agg.node(nid, agg.nodes[nid]["type"], agg.nodes[nid]["name"], source, chunk.id)

    def _merge(self, agg: _Aggregate) -> int:
        """Union named entities that share a name key (including name-like aliases) or whose names embed
        closer than ``merge_similarity``; returns how many nodes were merged away."""
        named = [n for n, d in agg.nodes.items() if d["type"] in NAMED]
        parent = {n: n for n in named}

        def find(n: str) -> str:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                keep, drop = sorted((ra, rb), key=lambda n: (-len(agg.nodes[n]["chunk_ids"]), n))
                parent[drop] = keep

        by_key: dict[str, str] = {}
        for n in named:
            d = agg.nodes[n]
            keys = {name_key(d["name"])} | {name_key(a) for a in d["aliases"] if is_name_like(a, d["name"])}
            for k in keys - {""}:
                if k in by_key:
                    union(n, by_key[k])
                by_key.setdefault(k, n)
        if len(named) > 1:
            vectors = self.embedder.embed_cached([agg.nodes[n]["name"] for n in named], self.store)
            sims = vectors @ vectors.T
            for i, j in zip(*np.nonzero(np.triu(sims, k=1) >= self.config.merge_similarity), strict=True):
                union(named[i], named[j])
        mapping = {n: find(n) for n in named if find(n) != n}
        for drop, keep in mapping.items():
            d, k = agg.nodes.pop(drop), agg.nodes[keep]
            k["aliases"] |= d["aliases"]
            k["names"] += d["names"]
            k["chunk_ids"] |= d["chunk_ids"]
            k["sources"] |= d["sources"]
            k["description"] = k["description"] or d["description"]
        if mapping:
            edges, agg.edges = agg.edges, {}
            for (u, v, t), d in edges.items():
                u, v = mapping.get(u, u), mapping.get(v, v)
                if u == v:
                    continue
                e = agg.edges.setdefault((u, v, t), {"chunk_ids": set(), "sources": set(), "evidence": [],
                                                     "roles": set()})
                e["chunk_ids"] |= d["chunk_ids"]
                e["sources"] |= d["sources"]
                e["roles"] |= d["roles"]
                e["evidence"] = (e["evidence"] + [x for x in d["evidence"] if x not in e["evidence"]])[:_MAX_EVIDENCE]
        for d in agg.nodes.values():  # the display name: not all capitals if possible, then the most used
            d["name"] = max(d["names"], key=lambda n: (not n.isupper(), d["names"][n], len(n)))
            d["aliases"] = (d["aliases"] | set(d["names"])) - {d["name"]}
        return len(mapping)

    @staticmethod
    def _link_documents(agg: _Aggregate) -> None:
        """A ``mentions`` edge from each document to the entities it mentions but has no relation with, so
        an entity named in two documents connects them; document nodes list the chunks of their edges."""
        linked = {(u, v) for u, v, _ in agg.edges} | {(v, u) for u, v, _ in agg.edges}
        for nid, d in list(agg.nodes.items()):
            if d["type"] == "document":
                continue
            for source in d["sources"]:
                doc = f"doc:{source}"
                if (doc, nid) not in linked and doc in agg.nodes:
                    for c in sorted(c for c in d["chunk_ids"] if agg.chunk_source[c] == source):
                        agg.edge(doc, nid, "mentions", source, c)
        for (u, v, _), e in agg.edges.items():
            for end in (u, v):
                d = agg.nodes[end]
                if d["type"] == "document":
                    source = end.removeprefix("doc:")
                    d["chunk_ids"] |= {c for c in e["chunk_ids"] if agg.chunk_source[c] == source}
                    d["sources"].add(source)

    def _communities(self, graph) -> None:
        """Louvain communities of the undirected graph (weighted by supporting chunks), largest first."""
        import networkx as nx

        simple = nx.Graph()
        simple.add_nodes_from(graph.nodes)
        for u, v, d in graph.edges(data=True):
            w = simple.get_edge_data(u, v, {}).get("weight", 0) + len(d["chunk_ids"])
            simple.add_edge(u, v, weight=w)
        groups = nx.community.louvain_communities(simple, weight="weight", resolution=self.config.resolution, seed=0)
        for i, members in enumerate(sorted(groups, key=lambda g: (-len(g), min(g)))):
            for n in members:
                graph.nodes[n]["community"] = i
