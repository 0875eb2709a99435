"""ragtune: domain-specific LLM applications with advanced RAG, small-model fine-tuning and a measured
choice between them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragtune.project import Project

__version__ = "0.1.0"
__all__ = ["Project", "__version__"]


def __getattr__(name: str) -> Any:
    """``ragtune.Project`` is imported on first use, so ``ragtune --help`` does not build the config models."""
    if name == "Project":
        from ragtune.project import Project

        return Project
    raise AttributeError(f"module 'ragtune' has no attribute {name!r}")
