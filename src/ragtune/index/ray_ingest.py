"""Folder ingestion on Ray Data (``scale.engine: ray``): the same incremental ingest as ``Ingestor``, with
loading and chunking in Ray worker tasks and embedding in an actor pool (the embedder loaded once per actor).

The pipeline streams: the driver writes each document in one store transaction as its batch comes back, and
Ray Data pauses reading while the batches in flight fill the object-store budget (``scale.object_store_mb``),
so memory stays bounded by about workers x ``scale.batch_files`` files, whatever the size of the corpus."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ragtune.config import DocumentsConfig, ScaleConfig
from ragtune.documents.chunkers import Chunker
from ragtune.documents.loaders import LoadError
from ragtune.errors import ConfigError
from ragtune.index.embedder import Embedder
from ragtune.index.ingest import Enricher, Ingestor, IngestReport, Skipped, index_texts, load_document
from ragtune.index.store import Store

Batch = dict[str, np.ndarray]


def load_and_chunk(batch: Batch, config: DocumentsConfig, chunker: Chunker) -> Batch:
    """Ray task: each file of the batch loaded (``load_document``) and chunked; ``status`` is ingested,
    unchanged or skipped (``reason``), ``payload`` the pickled (document, chunks) of an ingested file."""
    status, reason, payload = [], [], []
    for path, source, sha in zip(batch["path"], batch["source"], batch["stored_sha256"], strict=True):
        try:
            doc = load_document(Path(path), source, sha or None, config)
        except LoadError as e:
            status.append("skipped"), reason.append(str(e)), payload.append(b"")
            continue
        status.append("unchanged" if doc is None else "ingested"), reason.append("")
        payload.append(b"" if doc is None else pickle.dumps((doc, chunker.chunk(doc))))
    return {"source": batch["source"], "status": np.array(status, dtype=object),
            "reason": np.array(reason, dtype=object), "payload": np.array(payload, dtype=object)}


class EmbedChunks:
    """Ray actor: embeds the indexed chunks of a batch of documents in one call; ``vectors`` holds each
    document's float32 vectors as bytes. Given ``load`` (documents config and chunker), it first loads and
    chunks the batch's files itself."""

    def __init__(self, embedder: Embedder, load: tuple[DocumentsConfig, Chunker] | None = None,
                 context: bool = True) -> None:
        self.embedder = embedder
        self.load = load
        self.context = context

    def __call__(self, batch: Batch) -> Batch:
        if self.load:
            batch = load_and_chunk(batch, *self.load)
        texts: list[list[str]] = [index_texts(pickle.loads(p)[1], self.context) if p else []
                                  for p in batch["payload"]]
        flat = [t for doc in texts for t in doc]
        vectors = self.embedder.embed(flat) if flat else np.zeros((0, 0), dtype=np.float32)
        out, start = [], 0
        for doc in texts:
            out.append(vectors[start:start + len(doc)].tobytes())
            start += len(doc)
        return batch | {"vectors": np.array(out, dtype=object)}


class RayIngestor(Ingestor):
    """``Ingestor`` with loading, chunking and embedding on Ray Data; same report, same chunk ids and vectors.
    Vectors are computed by the actors (the store's vector cache is written, not read)."""

    def __init__(self, root: Path, config: DocumentsConfig, chunker: Chunker, embedder: Embedder, store: Store,
                 scale: ScaleConfig, enrichers: dict[str, Enricher] | None = None, context: bool = True) -> None:
        if enrichers:
            raise ConfigError(f"scale.engine 'ray' does not run ingest-time enrichment ({', '.join(enrichers)}): "
                              "use scale.engine 'local', or set index.hypothetical_questions.per_chunk: 0")
        super().__init__(root, config, chunker, embedder, store, context=context)
        self.scale = scale

    def run(self, paths: list[Path], on_file: Callable[[str, int], None] | None = None,
            on_start: Callable[[int], None] | None = None) -> IngestReport:
        from ragtune.ray_runtime import ray_session

        t0, report, files, stored = self.begin(paths, on_start)
        sources = [self.source_name(path) for path, _ in files]
        rows = [{"path": str(path), "source": source, "stored_sha256": stored[source].sha256 if source in stored
                 else ""} for (path, _), source in zip(files, sources, strict=True)]
        if rows:
            with ray_session(self.scale) as ray:
                cpus = int(ray.cluster_resources().get("CPU", 1))
                blocks = math.ceil(len(rows) / self.scale.batch_files)
                cpus = min(cpus, blocks)  # no more workers than batches
                embedders = min(self.scale.embed_workers or cpus, cpus)
                ds = ray.data.from_items(rows, override_num_blocks=blocks)
                load = (self.config, self.chunker)
                if embedders < cpus:  # loader tasks on the other CPUs: a stage of its own (the remote args function
                    # keeps Ray Data from fusing it into the actor pool)
                    ds = ds.map_batches(load_and_chunk, fn_args=load, batch_size=self.scale.batch_files,
                                        batch_format="numpy", compute=ray.data.TaskPoolStrategy(size=cpus - embedders),
                                        ray_remote_args_fn=lambda: {"num_cpus": 1})
                    load = None
                ds = ds.map_batches(EmbedChunks, fn_constructor_args=(self.embedder, load, self.context),
                                    batch_size=self.scale.batch_files, batch_format="numpy",
                                    compute=ray.data.ActorPoolStrategy(size=embedders))
                for batch in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1):
                    for i, source in enumerate(batch["source"]):
                        self._record(report, batch, i)
                        if on_file:
                            on_file(str(source), report.files_seen)
        return self.finish(report, paths, files, stored, t0)

    def _record(self, report: IngestReport, batch: Batch, i: int) -> None:
        """Count row ``i`` of a finished batch; an ingested document is written (with its vectors cached)."""
        report.files_seen += 1
        status = batch["status"][i]
        if status == "skipped":  # an unreadable new version keeps the stored one
            report.skipped.append(Skipped(str(batch["source"][i]), str(batch["reason"][i])))
        elif status == "unchanged":
            report.files_unchanged += 1
        else:
            doc, chunks = pickle.loads(batch["payload"][i])
            texts = index_texts(chunks, self.context)
            vectors = np.frombuffer(batch["vectors"][i], dtype=np.float32).reshape(len(texts), -1) if texts \
                else np.zeros((0, 0), dtype=np.float32)
            if texts:
                self.store.cache_vectors([self.embedder.cache_key(t) for t in texts], vectors)
            self.write(report, doc, chunks, vectors)
