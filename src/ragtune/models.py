"""Resolve model names to local files: installed model packages first, then paths, then hub ids."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ragtune.errors import ModelError


def package_dir(distribution: str) -> Path | None:
    """The installed folder of a Python package named like ``distribution`` (dashes -> underscores)."""
    module = distribution.replace("-", "_")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_dir(name: str, marker: str = "config.json") -> str:
    """A directory holding ``marker`` for ``name``: an installed model package, a local folder, or the name
    itself (a hub id, which transformers / sentence-transformers resolve from their cache or the hub)."""
    pkg = package_dir(name)
    if pkg is not None:
        hits = sorted(pkg.rglob(marker), key=lambda p: len(p.parts))
        if not hits:
            raise ModelError(f"package {name!r} has no {marker}: not a model package")
        return str(hits[0].parent)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / marker).exists():
            raise ModelError(f"{path}: not a model directory (no {marker})")
        return str(path)
    return name
