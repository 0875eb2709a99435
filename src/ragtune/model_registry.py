"""The model registry under ``<project>/.ragtune/models/``: every trained version (v1, v2, ...) with its parent,
kind, status, files, metrics, training-data hashes and config, and one champion per role.

Roles: the LLM (``sft``, ``dpo`` and ``kto`` versions compete for it), the ``embedder``, the ``reranker``, the
``verdicts`` and the answer-sentence ``scorer``.
``registry.json`` is rewritten atomically (temp file + rename) under a lock, so a crash or a concurrent writer
never leaves it half-written; each version's files live in its own folder ``models/<id>/``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ragtune.config import LLMConfig
from ragtune.errors import InputError, ModelError

Kind = Literal["sft", "dpo", "kto", "embedder", "reranker", "verdicts", "scorer", "expressions"]
Status = Literal["champion", "candidate", "rejected"]
ROLES: dict[str, str] = {"sft": "llm", "dpo": "llm", "kto": "llm", "embedder": "embedder", "reranker": "reranker",
                       "verdicts": "verdicts", "scorer": "scorer", "expressions": "expressions"}
LLM_ROLES = ("llm", "expressions")
"""Roles whose versions are LLM adapters (served and exported like an SFT version)."""

# files a version folder may hold (written by the trainers and `export`)
ADAPTER, MERGED, LORA_GGUF, MERGED_GGUF = "adapter", "merged", "adapter.gguf", "model-f16.gguf"


class ModelVersion(BaseModel):
    """One trained model version."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    id: str
    parent: str | None = None
    kind: Kind
    status: Status = "candidate"
    path: str = Field(description="The version's folder, relative to .ragtune/models/.")
    metrics: dict[str, Any] = Field(default_factory=dict)
    data_hashes: dict[str, str] = Field(default_factory=dict, description="sha256 of each training file.")
    config: dict[str, Any] = Field(default_factory=dict)
    created: str

    @property
    def role(self) -> str:
        return ROLES[self.kind]


class _State(BaseModel):
    schema_version: int = 1
    versions: list[ModelVersion] = Field(default_factory=list)
    history: list[dict[str, str]] = Field(default_factory=list, description="Promotions, oldest first.")


def is_version_ref(name: str) -> bool:
    """Whether a model name is for the registry to resolve: ``champion`` or a version id such as ``v3``."""
    return name == "champion" or re.fullmatch(r"v\d+", name) is not None


def version_identity(version: ModelVersion) -> str:
    """A name that changes whenever the version behind an id does (ids restart when a registry is deleted):
    what caches of a version's outputs (embeddings, indexes) are keyed by."""
    return f"registry:{version.id}@{version.created}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ModelRegistry:
    """Versions of fine-tuned models in ``<workdir>/models``."""

    def __init__(self, workdir: str | Path) -> None:
        self.root = Path(workdir) / "models"
        self.file = self.root / "registry.json"

    # reading
    def _read(self) -> _State:
        if not self.file.is_file():
            return _State()
        try:
            return _State.model_validate_json(self.file.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ModelError(f"{self.file}: unreadable model registry: {e}") from None

    def list(self, kind: str | None = None) -> list[ModelVersion]:
        """All versions (of one kind or role), oldest first."""
        return [v for v in self._read().versions if kind is None or kind in (v.kind, v.role)]

    def get(self, version_id: str) -> ModelVersion:
        """A version by id; ``champion`` means the LLM champion."""
        if version_id == "champion":
            champion = self.champion("llm")
            if champion is None:
                raise InputError("there is no champion LLM yet: promote a version with `ragtune models promote ID`")
            return champion
        for v in self._read().versions:
            if v.id == version_id:
                return v
        known = ", ".join(v.id for v in self._read().versions) or "none yet"
        raise InputError(f"no model version {version_id!r} (versions: {known})")

    def resolve(self, ref: str, kind: str) -> ModelVersion:
        """The version ``ref`` names for a role (``embedder``, ``reranker``, ``llm`` or a kind): a version id of
        that role, or ``champion``, the role's champion."""
        role = ROLES.get(kind, kind)
        if ref == "champion":
            version = self.champion(role)
            if version is None:
                raise InputError(f"there is no champion {role} in {self.root} yet: promote a version with "
                                 "`ragtune models promote ID`")
            return version
        version = self.get(ref)
        if version.role != role:
            raise InputError(f"{version.id} is a {version.kind} model, not a version of the {role}")
        return version

    def champion(self, kind: str = "llm") -> ModelVersion | None:
        """The champion of the role that ``kind`` belongs to (``llm``, ``embedder``, ``reranker`` or a kind)."""
        role = ROLES.get(kind, kind)
        return next((v for v in self._read().versions if v.role == role and v.status == "champion"), None)

    def folder(self, version: ModelVersion | str) -> Path:
        version = self.get(version) if isinstance(version, str) else version
        return self.root / version.path

    # writing
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_State]:
        """Read, let the caller change, write back atomically; serialised by a lock file where fcntl exists."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            try:
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
            except ImportError:  # Windows: no cross-process lock, writes stay atomic
                pass
            state = self._read()
            yield state
            fd, tmp = tempfile.mkstemp(prefix=".registry.", suffix=".json", dir=self.root)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(state.model_dump_json(indent=2) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.file)

    def add(self, kind: Kind, source: Path, parent: str | None = None, metrics: dict[str, Any] | None = None,
            data_files: dict[str, Path] | None = None, config: dict[str, Any] | None = None) -> ModelVersion:
        """Register a new candidate: moves the folder ``source`` to ``models/<new id>/`` and records it."""
        if kind not in ROLES:
            raise InputError(f"unknown model kind {kind!r}; expected one of {', '.join(ROLES)}")
        hashes = {name: sha256_file(Path(p)) for name, p in (data_files or {}).items()}
        with self._transaction() as state:
            if parent is not None and all(v.id != parent for v in state.versions):
                raise InputError(f"parent version {parent!r} is not in the registry")
            taken = [int(v.id[1:]) for v in state.versions] + [
                int(p.name[1:]) for p in self.root.glob("v*") if p.name[1:].isdigit()]
            version_id = f"v{max(taken, default=0) + 1}"
            shutil.move(str(source), str(self.root / version_id))
            version = ModelVersion(id=version_id, parent=parent, kind=kind, path=version_id, metrics=metrics or {},
                                   data_hashes=hashes, config=config or {}, created=_now())
            state.versions.append(version)
        return version

    def update_metrics(self, version_id: str, metrics: dict[str, Any]) -> ModelVersion:
        """Merge ``metrics`` into a version's metrics."""
        with self._transaction() as state:
            version = self._find(state, version_id)
            version.metrics = {**version.metrics, **metrics}
        return version

    def promote(self, version_id: str, action: str = "promote") -> ModelVersion:
        """Make a version the champion of its role; the previous champion becomes a candidate."""
        with self._transaction() as state:
            version = self._find(state, version_id)
            for v in state.versions:
                if v.role == version.role and v.status == "champion":
                    v.status = "candidate"
            version.status = "champion"
            state.history.append({"role": version.role, "version": version.id, "action": action, "at": _now()})
        return version

    def reject(self, version_id: str) -> ModelVersion:
        """Mark a version rejected (a champion cannot be: promote or roll back to another one first)."""
        with self._transaction() as state:
            version = self._find(state, version_id)
            if version.status == "champion":
                raise InputError(f"{version_id} is the champion: promote or roll back to another version first")
            version.status = "rejected"
        return version

    def rollback(self, version_id: str | None = None, role: str = "llm") -> ModelVersion:
        """Restore ``version_id`` (any earlier version) as champion; without it, the champion that came before
        the current one (repeated rollbacks walk further back)."""
        if version_id is None:
            lineage = self.lineage(role)
            if len(lineage) < 2:
                raise InputError(f"nothing to roll back to: no earlier {role} champion (give a version id)")
            version_id = lineage[-2]
        return self.promote(version_id, action="rollback")

    def lineage(self, role: str = "llm") -> list[str]:
        """Champions of a role, oldest first, with rolled-back ones removed: the last is the current champion."""
        role = ROLES.get(role, role)
        stack: list[str] = []
        for h in self._read().history:
            if h["role"] != role:
                continue
            if h["version"] in stack:
                i = stack.index(h["version"])
                stack = stack[: i + 1] if h.get("action") == "rollback" else [*stack[:i], *stack[i + 1:], h["version"]]
            else:
                stack.append(h["version"])
        return stack

    @staticmethod
    def _find(state: _State, version_id: str) -> ModelVersion:
        for v in state.versions:
            if v.id == version_id:
                return v
        raise InputError(f"no model version {version_id!r}")

    # serving
    def llm_config(self, version_id: str, base: LLMConfig) -> LLMConfig:
        """The LLM config that serves an sft/dpo/kto version on the engine of ``base``: llama_cpp (the base
        GGUF plus the version's GGUF LoRA, or its merged f16 GGUF) or transformers (the merged folder)."""
        version = self.get(version_id)
        if version.role not in LLM_ROLES:
            raise InputError(f"{version.id} is a {version.kind} model, not an LLM")
        folder = self.folder(version)
        if base.backend == "transformers":
            merged = folder / MERGED
            if not merged.is_dir():
                raise ModelError(f"{version.id} has no merged model: run `ragtune models export {version.id} "
                                 "--format merged`")
            return base.model_copy(update={"model": str(merged), "gguf_file": None, "lora_path": None})
        served = {"backend": "llama_cpp", "base_url": None}
        if (folder / LORA_GGUF).is_file():
            return base.model_copy(update={**served, "model": version.config.get("base_model", base.model),
                                           "gguf_file": version.config.get("base_gguf_file"),
                                           "lora_path": str(folder / LORA_GGUF)})
        if (folder / MERGED_GGUF).is_file():
            return base.model_copy(update={**served, "model": str(folder / MERGED_GGUF), "gguf_file": None,
                                           "lora_path": None})
        raise ModelError(f"{version.id} has no GGUF export for llama_cpp: run `ragtune models export {version.id} "
                         "--format gguf`")
