"""Turn a trained LoRA adapter into files the serving engines load: the merged model (safetensors), a GGUF LoRA
adapter for llama.cpp, or the merged model as one f16 GGUF.

The GGUF converters are llama.cpp's own ``convert_lora_to_gguf.py`` / ``convert_hf_to_gguf.py``. They are taken
from the llama-cpp-python source distribution of the *installed* version (downloaded once with ``pip download``
and cached under the ragtune cache), so the converter always matches the llama.cpp build that will load its
output and nothing of llama.cpp is copied into ragtune. Offline, point ``RAGTUNE_LLAMA_CPP_DIR`` at a llama.cpp
checkout (or an extracted sdist's ``vendor/llama.cpp``) instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from ragtune.errors import InputError, ModelError
from ragtune.generation.profiles import cache_dir
from ragtune.model_registry import ADAPTER, LLM_ROLES, LORA_GGUF, MERGED, MERGED_GGUF

if TYPE_CHECKING:
    from ragtune.model_registry import ModelRegistry

_NEEDED = ("convert_lora_to_gguf.py", "convert_hf_to_gguf.py", "conversion/", "gguf-py/", "LICENSE")


def merge_adapter(base_dir: str, adapter_dir: Path, out: Path) -> Path:
    """Base weights + LoRA delta, saved as a float16 safetensors model with the tokenizer."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.to(torch.float16).save_pretrained(tmp)
    AutoTokenizer.from_pretrained(str(adapter_dir)).save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)
    return out


def converter_dir() -> Path:
    """A folder with llama.cpp's GGUF converters matching the installed llama-cpp-python."""
    override = os.environ.get("RAGTUNE_LLAMA_CPP_DIR")
    if override:
        folder = Path(override).expanduser()
        if not (folder / "convert_lora_to_gguf.py").is_file():
            raise ModelError(f"RAGTUNE_LLAMA_CPP_DIR={folder}: no convert_lora_to_gguf.py there")
        return folder
    try:
        installed = version("llama-cpp-python")
    except PackageNotFoundError:
        raise ModelError("GGUF export needs llama-cpp-python (pip install llama-cpp-python)") from None
    target = cache_dir() / "llama.cpp-convert" / installed
    if (target / "convert_lora_to_gguf.py").is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="ragtune-sdist-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                   f"llama-cpp-python=={installed}", "-d", tmp]
        done = subprocess.run(command, capture_output=True, text=True)
        sdists = list(Path(tmp).glob("*.tar.gz"))
        if done.returncode != 0 or not sdists:
            raise ModelError(
                f"could not download the llama-cpp-python {installed} source (for its GGUF converters): "
                f"{(done.stderr or done.stdout).strip()[-300:]}\nWhen online, run `{' '.join(command[:-2])} -d DIR` "
                "and set RAGTUNE_LLAMA_CPP_DIR to the extracted vendor/llama.cpp folder; or serve the version with "
                "the transformers backend (merged/ folder).")
        staging = Path(tmp) / "tools"
        with tarfile.open(sdists[0]) as tar:
            for member in tar.getmembers():
                rel = member.name.split("/vendor/llama.cpp/", 1)
                if len(rel) == 2 and member.isfile() and any(
                        rel[1] == n or (n.endswith("/") and rel[1].startswith(n)) for n in _NEEDED):
                    member.name = rel[1]
                    tar.extract(member, staging, filter="data")
        if not (staging / "convert_lora_to_gguf.py").is_file():
            raise ModelError(f"the llama-cpp-python {installed} source has no convert_lora_to_gguf.py")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(staging), str(target))
    return target


def _convert(script: str, args: list[str], out: Path) -> Path:
    tools = converter_dir()
    tmp = out.with_name(out.name + ".tmp")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tools / "gguf-py"), str(tools)])}
    done = subprocess.run([sys.executable, str(tools / script), *args, "--outfile", str(tmp)],
                          capture_output=True, text=True, env=env, cwd=tools)
    if done.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise ModelError(f"{script} failed: {(done.stderr or done.stdout).strip()[-800:]}")
    tmp.replace(out)
    return out


def export_lora_gguf(adapter_dir: Path, base_dir: str, out: Path) -> Path:
    """The PEFT adapter as a GGUF LoRA adapter (f16) that llama.cpp applies to the base GGUF (``lora_path``)."""
    args = ["--base", str(Path(base_dir).resolve()), "--outtype", "f16", str(adapter_dir.resolve())]
    return _convert("convert_lora_to_gguf.py", args, out.resolve())


def export_merged_gguf(merged_dir: Path, out: Path) -> Path:
    """A merged model folder as one standalone f16 GGUF file."""
    return _convert("convert_hf_to_gguf.py", [str(merged_dir.resolve()), "--outtype", "f16"], out.resolve())


FORMATS = {"lora": LORA_GGUF, "gguf": MERGED_GGUF, "merged": MERGED}


def export_version(registry: ModelRegistry, version_id: str, fmt: str, out: str | Path | None = None) -> Path:
    """A registered LLM version as ``lora`` (GGUF LoRA adapter for the base GGUF), ``gguf`` (merged model, one
    f16 GGUF file) or ``merged`` (safetensors folder). Made once in the version folder; ``out`` gets a copy."""
    from ragtune.generation.llms.transformers import hf_model_dir
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    version = registry.get(version_id)
    if version.role not in LLM_ROLES:
        raise InputError(f"{version.id} is a {version.kind} model; export handles LLM versions")
    folder = registry.folder(version)
    base = hf_model_dir(version.config["base_model"], version.config.get("base_gguf_file"))
    path = folder / FORMATS[fmt]
    if fmt == "lora" and not path.is_file():
        export_lora_gguf(folder / ADAPTER, base, path)
    if fmt in ("gguf", "merged") and not (folder / MERGED).is_dir():
        merge_adapter(base, folder / ADAPTER, folder / MERGED)
    if fmt == "gguf" and not path.is_file():
        export_merged_gguf(folder / MERGED, path)
    if out is None:
        return path
    out = Path(out).expanduser()
    if path.is_dir():
        shutil.copytree(path, out, dirs_exist_ok=True)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out)
    return out
