"""The knowledge graph: extractors (``extractors/``), building and merging (``builder.py``), the persisted
graph (``knowledge_graph.py``), local search (``search.py``), communities (``communities.py``) and the HTML
view (``html.py``). Import the submodules you need; this package imports nothing heavy."""
