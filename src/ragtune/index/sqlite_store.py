"""SQLite + sqlite-vec store: chunks, metadata and vectors in one transactional file (WAL mode)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import sqlean as sqlite3  # the stdlib module often lacks extension loading (pyenv, macOS)

from ragtune.documents.models import Chunk, Document
from ragtune.errors import ConfigError, InputError
from ragtune.index.store import DenseScan, Filters, Store, StoredDocument, check_meta

SCHEMA_VERSION = 1
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, sha256 TEXT NOT NULL, title TEXT NOT NULL,
    metadata TEXT NOT NULL, ingested_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,
    doc_source TEXT NOT NULL REFERENCES documents(source) ON DELETE CASCADE,
    text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, page INTEGER,
    n_tokens INTEGER NOT NULL, parent_id TEXT, indexed INTEGER NOT NULL, metadata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_source);
CREATE TABLE IF NOT EXISTS embed_cache (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""


class SQLiteStore(Store):
    """One SQLite database file. Vectors live in a sqlite-vec ``vec0`` table keyed by chunk rowid, so a
    document's chunks and vectors change in the same transaction."""

    def __init__(self, path: Path, embed_model: str, indexed: str = "context+text") -> None:
        import sqlite_vec

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.enable_load_extension(True)
            sqlite_vec.load(self.db)
            self.db.enable_load_extension(False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            with self._tx():
                check_meta(str(self.path), self._meta, self._set_meta, SCHEMA_VERSION, embed_model, indexed)
        except sqlite3.DatabaseError as e:
            raise InputError(f"{path}: not a readable ragtune index ({e})") from None

    def _tx(self):
        return _Transaction(self.db)

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _bump(self) -> None:
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")

    def _ensure_vec_table(self, dim: int) -> None:
        stored = self._meta("embed_dim")
        if stored is None:
            self.db.execute(
                f"CREATE VIRTUAL TABLE vec_chunks USING vec0(embedding float[{dim}] distance_metric=cosine)")
            self._set_meta("embed_dim", str(dim))
        elif int(stored) != dim:
            raise ConfigError(f"{self.path}: index holds {stored}-d vectors, the embedder gives {dim}-d")

    def documents(self) -> dict[str, StoredDocument]:
        rows = self.db.execute(
            "SELECT d.source, d.sha256, d.title, COUNT(c.rowid) FROM documents d "
            "LEFT JOIN chunks c ON c.doc_source = d.source GROUP BY d.source"
        )
        return {r[0]: StoredDocument(*r) for r in rows}

    def replace_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> int:
        indexed = [c for c in chunks if c.indexed]
        if len(indexed) != len(vectors):
            raise ValueError(f"{len(indexed)} searchable chunks but {len(vectors)} vectors")
        with self._tx():
            removed = self._delete(doc.source)
            self.db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?)",
                (doc.source, doc.sha256, doc.title, json.dumps(doc.metadata), time.time()),
            )
            if len(vectors):
                self._ensure_vec_table(vectors.shape[1])
            it = iter(np.asarray(vectors, dtype=np.float32))
            for c in chunks:
                cur = self.db.execute(
                    'INSERT INTO chunks (id, doc_source, text, start, "end", page, n_tokens, parent_id, indexed, '
                    "metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (c.id, c.doc_source, c.text, c.start, c.end, c.page, c.n_tokens, c.parent_id, int(c.indexed),
                     json.dumps(c.metadata)),
                )
                if c.indexed:
                    self.db.execute("INSERT INTO vec_chunks(rowid, embedding) VALUES (?, ?)",
                                    (cur.lastrowid, next(it).tobytes()))
            self._bump()
        return removed

    def _delete(self, source: str) -> int:
        rowids = [r[0] for r in self.db.execute("SELECT rowid FROM chunks WHERE doc_source=? AND indexed=1",
                                                (source,))]
        if rowids and self._meta("embed_dim") is not None:
            self.db.executemany("DELETE FROM vec_chunks WHERE rowid=?", [(r,) for r in rowids])
        n = self.db.execute("DELETE FROM chunks WHERE doc_source=?", (source,)).rowcount
        self.db.execute("DELETE FROM documents WHERE source=?", (source,))
        return n

    def remove_document(self, source: str) -> int:
        with self._tx():
            n = self._delete(source)
            self._bump()
        return n

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        found: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            for r in self.db.execute(
                f'SELECT id, doc_source, text, start, "end", page, n_tokens, parent_id, indexed, metadata '
                f"FROM chunks WHERE id IN ({marks})", part
            ):
                found[r[0]] = Chunk(*r[:8], indexed=bool(r[8]), metadata=json.loads(r[9]))
        return [found[i] for i in ids if i in found]

    def head(self, source: str, chars: int) -> list[Chunk]:
        rows = self.db.execute("SELECT id FROM chunks WHERE doc_source=? AND indexed=1 AND start < ? ORDER BY start",
                               (source, chars)).fetchall()
        return self.chunks([r[0] for r in rows])

    def indexed_chunks(self, context: bool = True) -> tuple[list[str], list[str]]:
        rows = self.db.execute("SELECT id, text, json_extract(metadata, '$.context') FROM chunks WHERE indexed=1 "
                               "ORDER BY rowid").fetchall()
        return [r[0] for r in rows], [f"{r[2]}\n{r[1]}" if context and r[2] else r[1] for r in rows]

    def indexed_vectors(self, batch: int = 50_000) -> Iterator[tuple[list[str], np.ndarray]]:
        if self._meta("embed_dim") is None:
            return
        cur = self.db.execute("SELECT c.id, v.embedding FROM vec_chunks v JOIN chunks c ON c.rowid = v.rowid "
                              "ORDER BY v.rowid")  # one statement: one snapshot in WAL mode
        while rows := cur.fetchmany(batch):
            dim = len(rows[0][1]) // 4
            yield [r[0] for r in rows], np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, dim)

    def _where(self, filters: Filters) -> tuple[str, list]:
        clauses, params = [], []
        for key, value in filters.items():
            values = value if isinstance(value, list) else [value]
            if key == "source":
                expr, op = "c.doc_source", "GLOB"
            elif key == "title":
                expr, op = "d.title", "="
            elif key == "page":
                expr, op = "c.page", "="
            elif key == "section":
                expr, op = "json_extract(c.metadata, '$.section')", "="
            elif _KEY.match(key):
                expr, op = f"json_extract(d.metadata, '$.{key}')", "="
            else:
                raise InputError(f"filter key {key!r} is not a valid metadata name")
            clauses.append("(" + " OR ".join(f"{expr} {op} ?" for _ in values) + ")")
            params.extend(values)
        return " AND ".join(clauses) or "1", params

    def matching_ids(self, filters: Filters) -> set[str]:
        where, params = self._where(filters)
        # CROSS JOIN keeps documents the outer loop: document filters run once per document, not once per chunk
        sql = (f"SELECT c.id FROM documents d CROSS JOIN chunks c ON c.doc_source = d.source "
               f"WHERE c.indexed=1 AND {where}")
        return {r[0] for r in self.db.execute(sql, params)}

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """Exact: sqlite-vec's ``vec0`` KNN, or with filters a distance over every row that passes them."""
        self.last_dense_scans = ()
        if self._meta("embed_dim") is None:
            return []
        q = np.asarray(vector, dtype=np.float32).tobytes()
        if filters:
            where, params = self._where(filters)
            sql = (
                "SELECT c.id, vec_distance_cosine(v.embedding, ?) AS dist FROM vec_chunks v "
                "JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.source = c.doc_source "
                f"WHERE {where} ORDER BY dist LIMIT ?"
            )
            rows = self.db.execute(sql, [q, *params, k]).fetchall()
        else:
            rows = self.db.execute(
                "SELECT c.id, v.distance FROM (SELECT rowid, distance FROM vec_chunks "
                "WHERE embedding MATCH ? AND k = ?) v JOIN chunks c ON c.rowid = v.rowid ORDER BY v.distance",
                (q, k),
            ).fetchall()
        self.last_dense_scans = (DenseScan("exact" if filters else "vec0", len(rows)),)
        return [(cid, 1.0 - float(dist)) for cid, dist in rows]

    def count_chunks(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    def cached_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out = {}
        for i in range(0, len(keys), 500):
            part = list(keys[i : i + 500])
            marks = ",".join("?" * len(part))
            for key, blob in self.db.execute(f"SELECT key, vector FROM embed_cache WHERE key IN ({marks})", part):
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def cache_vectors(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        with self._tx():
            self.db.executemany(
                "INSERT OR IGNORE INTO embed_cache VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)],
            )

    def close(self) -> None:
        self.db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
