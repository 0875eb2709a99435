"""PostgreSQL + pgvector store: chunks, metadata and vectors in one database, an HNSW index on the vectors.

Several processes may share one database: every document changes in one transaction under a per-document advisory
lock, the generation counter is one row that each change increments, and the schema is created under a global
advisory lock. A filtered HNSW search that comes back short (pgvector filters after the index scan) is widened:
a larger ``hnsw.ef_search``, then an exact scan of the rows that pass the filters."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ragtune.documents.models import Chunk, Document
from ragtune.errors import ConfigError, InputError
from ragtune.index.store import DenseScan, Filters, Store, StoredDocument, check_meta, glob_to_regex

SCHEMA_VERSION = 1
MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search
_SCHEMA_LOCK = 7206452371  # advisory lock key: schema creation and the first vector column change
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LITERAL_GLOB = re.compile(r"(?:[^*?\[]|\[[*?\[]\])*")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS ragtune_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS ragtune_documents (
    source text PRIMARY KEY, sha256 text NOT NULL, title text NOT NULL,
    metadata jsonb NOT NULL, ingested_at double precision NOT NULL);
CREATE TABLE IF NOT EXISTS ragtune_chunks (
    seq bigserial PRIMARY KEY, id text UNIQUE NOT NULL,
    doc_source text NOT NULL REFERENCES ragtune_documents(source) ON DELETE CASCADE,
    text text NOT NULL, start integer NOT NULL, "end" integer NOT NULL, page integer,
    n_tokens integer NOT NULL, parent_id text, indexed boolean NOT NULL, metadata jsonb NOT NULL,
    embedding vector);
CREATE INDEX IF NOT EXISTS ragtune_chunks_doc ON ragtune_chunks(doc_source);
CREATE TABLE IF NOT EXISTS ragtune_embed_cache (key text PRIMARY KEY, vector bytea NOT NULL);
"""
_TABLES = ("ragtune_chunks", "ragtune_documents", "ragtune_embed_cache", "ragtune_meta")
_JOIN = " JOIN ragtune_documents d ON d.source = c.doc_source"
_CHUNK_KEYS = {"source", "page", "section"}  # filters on chunk columns alone: no join with the documents
_COLUMNS = 'c.id, c.doc_source, c.text, c.start, c."end", c.page, c.n_tokens, c.parent_id, c.indexed, c.metadata'


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]+@", r"\1***@", url)


def connect(url: str):
    """A psycopg connection (autocommit; transactions are explicit) or a ConfigError naming the URL."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as e:
        raise ConfigError(f"store.url {redact(url)}: cannot connect to PostgreSQL "
                          f"({str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__})") from None


def drop_index(url: str) -> None:
    """Delete every ragtune table of the store at ``url`` (``ingest --rebuild``)."""
    with connect(url) as db:
        db.execute(f"DROP TABLE IF EXISTS {', '.join(_TABLES)}")


class PostgresStore(Store):
    """One PostgreSQL database with the pgvector extension (``CREATE EXTENSION vector`` is run if missing).
    Vectors live in the chunks table; the HNSW index (cosine) is made when the first vectors arrive."""

    has_vector_index = True

    def __init__(self, url: str, embed_model: str, hnsw_m: int = 16, hnsw_ef_construction: int = 64,
                 ef_search: int = 40, indexed: str = "context+text") -> None:
        import psycopg
        from pgvector.psycopg import register_vector

        self.name = redact(url)
        self.hnsw_m, self.hnsw_ef_construction, self.ef_search = hnsw_m, hnsw_ef_construction, ef_search
        self.db = connect(url)
        try:
            with self.db.transaction():
                self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                if self.db.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is None:
                    self.db.execute("CREATE EXTENSION vector")
                self.db.execute(_SCHEMA)
                check_meta(self.name, self._meta, self._set_meta, SCHEMA_VERSION, embed_model, indexed)
            register_vector(self.db)
        except psycopg.errors.InsufficientPrivilege as e:
            self.db.close()
            raise ConfigError(f"store.url {self.name}: {str(e).strip()} (a superuser must run "
                              "`CREATE EXTENSION vector` in this database once)") from None
        except psycopg.errors.FeatureNotSupported as e:
            self.db.close()
            raise ConfigError(f"store.url {self.name}: the pgvector extension is not installed on this PostgreSQL "
                              f"server ({str(e).strip()})") from None
        except BaseException:
            self.db.close()
            raise
        self._dim = self._meta("embed_dim")

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM ragtune_meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO ragtune_meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = "
                        "EXCLUDED.value", (key, value))

    def _bump(self) -> None:
        self.db.execute("UPDATE ragtune_meta SET value = (value::bigint + 1)::text WHERE key = 'generation'")

    def _ensure_vector_column(self, dim: int) -> None:
        """Type the vector column and build the HNSW index on the first vectors (once, under the schema lock)."""
        if self._dim is None:
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            self._dim = self._meta("embed_dim")
        if self._dim is None:
            self.db.execute(f"ALTER TABLE ragtune_chunks ALTER COLUMN embedding TYPE vector({int(dim)})")
            self.db.execute(
                "CREATE INDEX ragtune_chunks_embedding ON ragtune_chunks USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {int(self.hnsw_m)}, ef_construction = {int(self.hnsw_ef_construction)})")
            self._set_meta("embed_dim", str(dim))
            self._dim = str(dim)
        elif int(self._dim) != dim:
            raise ConfigError(f"{self.name}: index holds {self._dim}-d vectors, the embedder gives {dim}-d")

    def documents(self) -> dict[str, StoredDocument]:
        rows = self.db.execute(
            "SELECT d.source, d.sha256, d.title, COUNT(c.seq) FROM ragtune_documents d "
            "LEFT JOIN ragtune_chunks c ON c.doc_source = d.source GROUP BY d.source ORDER BY d.source COLLATE \"C\""
        )
        return {r[0]: StoredDocument(*r) for r in rows}

    def replace_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> int:
        indexed = [c for c in chunks if c.indexed]
        if len(indexed) != len(vectors):
            raise ValueError(f"{len(indexed)} searchable chunks but {len(vectors)} vectors")
        vectors = np.asarray(vectors, dtype=np.float32)
        dim = vectors.shape[1] if len(vectors) else None
        with self.db.transaction():
            if dim is not None:
                self._ensure_vector_column(dim)
            removed = self._delete(doc.source)
            self.db.execute("INSERT INTO ragtune_documents VALUES (%s, %s, %s, %s, %s)",
                            (doc.source, doc.sha256, doc.title, json.dumps(doc.metadata), time.time()))
            it = iter(vectors)
            with self.db.cursor() as cur:
                cur.executemany(
                    'INSERT INTO ragtune_chunks (id, doc_source, text, start, "end", page, n_tokens, parent_id, '
                    "indexed, metadata, embedding) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(c.id, c.doc_source, c.text, c.start, c.end, c.page, c.n_tokens, c.parent_id, c.indexed,
                      json.dumps(c.metadata), next(it) if c.indexed else None) for c in chunks],
                )
            self._bump()
        return removed

    def _delete(self, source: str) -> int:
        """Under a per-document lock, so two writers of one document take turns."""
        self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (source,))
        n = self.db.execute("DELETE FROM ragtune_chunks WHERE doc_source = %s", (source,)).rowcount
        self.db.execute("DELETE FROM ragtune_documents WHERE source = %s", (source,))
        return n

    def remove_document(self, source: str) -> int:
        with self.db.transaction():
            n = self._delete(source)
            self._bump()
        return n

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM ragtune_chunks c WHERE c.id = ANY(%s)", (list(ids),))
        found = {r[0]: Chunk(*r[:8], indexed=r[8], metadata=r[9]) for r in rows}
        return [found[i] for i in ids if i in found]

    def head(self, source: str, chars: int) -> list[Chunk]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM ragtune_chunks c WHERE c.doc_source = %s AND c.indexed "
                               "AND c.start < %s ORDER BY c.start", (source, chars))
        return [Chunk(*r[:8], indexed=r[8], metadata=r[9]) for r in rows]

    def indexed_chunks(self, context: bool = True) -> tuple[list[str], list[str]]:
        rows = self.db.execute("SELECT id, text, metadata->>'context' FROM ragtune_chunks WHERE indexed ORDER BY seq"
                               ).fetchall()
        return [r[0] for r in rows], [f"{r[2]}\n{r[1]}" if context and r[2] else r[1] for r in rows]

    def indexed_vectors(self, batch: int = 50_000) -> Iterator[tuple[list[str], np.ndarray]]:
        with self.db.transaction(), self.db.cursor(name="ragtune_indexed_vectors") as cur:  # one snapshot
            cur.execute("SELECT id, embedding FROM ragtune_chunks WHERE indexed AND embedding IS NOT NULL ORDER BY seq")
            while rows := cur.fetchmany(batch):
                yield [r[0] for r in rows], np.stack([r[1].to_numpy() for r in rows]).astype(np.float32)

    def _where(self, filters: Filters) -> tuple[str, list[Any]]:
        """SQL over ``c`` (chunks) and ``d`` (documents) with SQLiteStore's semantics: ``source`` is a GLOB
        pattern, metadata values compare with their JSON type (5 is not "5")."""
        clauses, params = [], []
        for key, value in filters.items():
            values = value if isinstance(value, list) else [value]
            parts = []
            for v in values:
                if key == "source":
                    pattern = str(v)
                    if _LITERAL_GLOB.fullmatch(pattern):
                        parts.append("c.doc_source = %s")
                        params.append(re.sub(r"\[([*?\[])\]", r"\1", pattern))
                    else:
                        parts.append("c.doc_source ~ %s")
                        params.append(glob_to_regex(pattern))
                elif key == "title":
                    parts.append("d.title = %s")
                    params.append(str(v))
                elif key == "page":
                    parts.append("c.page::text = %s")
                    params.append(str(v))
                elif key == "section":
                    parts.append("c.metadata -> 'section' = %s::jsonb")
                    params.append(json.dumps(v))
                elif _KEY.match(key):
                    parts.append("d.metadata -> %s = %s::jsonb")
                    params.extend([key, json.dumps(v)])
                else:
                    raise InputError(f"filter key {key!r} is not a valid metadata name")
            clauses.append("(" + " OR ".join(parts) + ")")
        return " AND ".join(clauses) or "true", params

    def matching_ids(self, filters: Filters) -> set[str]:
        where, params = self._where(filters)
        sql = f"SELECT c.id FROM ragtune_chunks c{_JOIN} WHERE c.indexed AND {where}"
        return {r[0] for r in self.db.execute(sql, params)}

    def _scan(self, sql: str, params: list[Any], ef_search: int | None) -> list[tuple[str, float]]:
        """One search in its own transaction: HNSW with ``ef_search``, or (None) an exact scan. Never a prepared
        statement: a cached plan would ignore ``enable_indexscan`` and the selectivity of these filters."""
        with self.db.transaction():
            if ef_search is None:
                self.db.execute("SET LOCAL enable_indexscan = off")
            else:
                self.db.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
            return [(cid, 1.0 - float(dist)) for cid, dist in self.db.execute(sql, params, prepare=False)]

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """HNSW with ``ef_search`` (at least ``k``). When it returns fewer than ``k`` rows while more pass the
        filters: again with ``ef_search`` raised to about twice ``k`` / (fraction of rows passing), at most 1000,
        unless fewer rows pass than that (then an exact scan is cheaper); still short: an exact scan of the rows
        that pass. ``last_dense_scans`` records what ran."""
        self.last_dense_scans = ()
        if self._dim is None:
            self._dim = self._meta("embed_dim")  # another process may have stored the first vectors
            if self._dim is None:
                return []
        filters = filters or {}
        where, params = self._where(filters)
        tables = "ragtune_chunks c" + (_JOIN if set(filters) - _CHUNK_KEYS else "")
        query = np.asarray(vector, dtype=np.float32)
        sql = (f"SELECT c.id, c.embedding <=> %s AS dist FROM {tables} "
               f"WHERE c.embedding IS NOT NULL AND {where} ORDER BY c.embedding <=> %s LIMIT %s")
        args = [query, *params, query, k]
        ef = min(MAX_EF_SEARCH, max(self.ef_search, k))
        rows = self._scan(sql, args, ef)
        scans = [DenseScan("hnsw", len(rows), ef)]
        if len(rows) < k:
            passing, total = self.db.execute(
                f"SELECT COUNT(*) FILTER (WHERE {where}), COUNT(*) FROM {tables} WHERE c.embedding IS NOT NULL",
                params, prepare=False,
            ).fetchone()
            wider = min(MAX_EF_SEARCH, max(2 * ef, math.ceil(2 * k * total / max(passing, 1))))
            if passing > wider:  # else the exact scan computes fewer distances than a wider HNSW search
                rows = self._scan(sql, args, wider)
                scans.append(DenseScan("hnsw", len(rows), wider))
            if len(rows) < k and passing > len(rows):
                rows = self._scan(sql, args, None)
                scans.append(DenseScan("exact", len(rows)))
        self.last_dense_scans = tuple(scans)
        return rows

    def count_chunks(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM ragtune_chunks").fetchone()[0]

    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    def cached_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        rows = self.db.execute("SELECT key, vector FROM ragtune_embed_cache WHERE key = ANY(%s)", (list(keys),))
        return {key: np.frombuffer(blob, dtype=np.float32) for key, blob in rows}

    def cache_vectors(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        with self.db.transaction(), self.db.cursor() as cur:
            cur.executemany(
                "INSERT INTO ragtune_embed_cache VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)],
            )

    def close(self) -> None:
        self.db.close()
