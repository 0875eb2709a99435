"""The persisted knowledge graph: a networkx ``MultiDiGraph`` saved as node-link JSON under
``.ragtune/graph/`` (written atomically). Every node and edge lists the chunk ids that support it.

Nodes: ``doc:<source>`` (a document), ``entity:<name key>`` (organisations, people), ``term:``, ``date:``,
``money:``, ``duration:``, ``jurisdiction:``. Node attributes: ``type``, ``name``, ``aliases``, ``chunk_ids``,
``sources``, ``description``, ``community``. Edges are keyed by relation type, with ``chunk_ids``,
``sources``, ``evidence`` (sentences) and ``roles`` (for ``party_to``)."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from ragtune.errors import InputError

FORMAT = "ragtune-graph/1"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, fsync it, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; these are ordinary project files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path, default: Any) -> Any:
    """A JSON file's content, or ``default`` when it is missing or unreadable (caches are disposable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


class KnowledgeGraph:
    """Entities, relations and their supporting chunks, with the build's metadata in ``meta``."""

    def __init__(self, graph, meta: dict[str, Any] | None = None) -> None:
        self.graph = graph
        self.meta = meta or {}

    @classmethod
    def load(cls, path: Path) -> KnowledgeGraph:
        import networkx as nx

        if not path.is_file():
            raise InputError(f"no knowledge graph at {path}: run `ragtune graph build` first")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            graph = nx.node_link_graph(data["graph"], directed=True, multigraph=True, edges="edges")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path}: not a readable knowledge graph ({e}); rebuild it with `ragtune graph build`"
                             ) from None
        return cls(graph, data.get("meta", {}))

    def save(self, path: Path) -> None:
        import networkx as nx

        data = {"format": FORMAT, "meta": self.meta, "graph": nx.node_link_data(self.graph, edges="edges")}
        atomic_write_text(path, json.dumps(data, ensure_ascii=False))

    def node(self, node_id: str) -> dict[str, Any]:
        return self.graph.nodes[node_id]

    def entities(self) -> list[str]:
        """Every node that is not a document."""
        return [n for n, d in self.graph.nodes(data=True) if d["type"] != "document"]

    def documents(self) -> list[str]:
        return [n for n, d in self.graph.nodes(data=True) if d["type"] == "document"]

    def incident_edges(self, node_id: str) -> list[tuple[str, str, dict]]:
        """(source, target, attributes) of every edge touching ``node_id``, both directions."""
        out = [(u, v, d) for u, v, d in self.graph.out_edges(node_id, data=True)]
        return out + [(u, v, d) for u, v, d in self.graph.in_edges(node_id, data=True)]

    def cross_document_entities(self) -> list[str]:
        """Entities supported by chunks of more than one document (parties, terms, places shared)."""
        return [n for n in self.entities() if len(self.node(n)["sources"]) > 1
                and self.node(n)["type"] in ("organization", "person", "defined_term", "jurisdiction", "other")]

    def communities(self) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = {}
        for n, d in self.graph.nodes(data=True):
            groups.setdefault(d.get("community", -1), []).append(n)
        return groups

    def stats(self) -> dict[str, Any]:
        types = Counter(d["type"] for _, d in self.graph.nodes(data=True))
        relations = Counter(d["type"] for _, _, d in self.graph.edges(data=True))
        return {"nodes": self.graph.number_of_nodes(), "edges": self.graph.number_of_edges(),
                "documents": types.pop("document", 0), "entities": sum(types.values()),
                "entity_types": dict(types.most_common()), "relation_types": dict(relations.most_common()),
                "cross_document_entities": len(self.cross_document_entities()),
                "communities": len(self.communities())}
