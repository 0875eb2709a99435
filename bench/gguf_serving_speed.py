"""Why the `fast` profile is served as Q8_0: llama.cpp prompt-reading and generation speed of SmolLM2-135M as
shipped (Q4_1) and converted (Q8_0, F16), measured side by side in one run. Prints tokens/s and the ratio to
Q4_1 (the baseline). The prompt is a 1,000-token slice of a bundled contract, about a RAG answer's prompt.

    .venv/bin/python bench/gguf_serving_speed.py [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(path: Path, prompt: list[int], threads: int) -> tuple[float, float]:
    """(prompt tokens/s, generated tokens/s) of one load of the model."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, verbose=False, seed=0)
    llm.eval(llm.tokenize(b"warm up"))
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    read = len(prompt) / (time.perf_counter() - t0)
    llm.reset()
    t0 = time.perf_counter()
    out = llm.create_completion("The parties agree that", max_tokens=100, temperature=0.0)
    generated = out["usage"]["completion_tokens"] / (time.perf_counter() - t0)
    llm.close()
    return read, generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    from llama_cpp import Llama

    from ragtune.demo import CORPUS
    from ragtune.generation.profiles import PROFILES, convert_gguf
    from ragtune.models import package_dir

    profile = PROFILES["fast"]
    shipped = package_dir(profile.packages[0]) / profile.files[0]
    text = sorted(Path(CORPUS).glob("*.txt"))[0].read_text(encoding="utf-8")
    tokenizer = Llama(model_path=str(shipped), n_ctx=4096, verbose=False)
    prompt = tokenizer.tokenize(text.encode())[:1000]
    with tempfile.TemporaryDirectory() as tmp:
        files = {"Q4_1": shipped} | {t: convert_gguf(shipped, t, Path(tmp) / f"{t}.gguf") for t in ("Q8_0", "F16")}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in files}
        for _ in range(args.rounds):  # alternate, so load from other jobs hits every format alike
            for name, path in files.items():
                runs[name].append(measure(path, prompt, args.threads))
        sizes = {name: path.stat().st_size / 1e6 for name, path in files.items()}
    base_read = statistics.median(r for r, _ in runs["Q4_1"])
    base_gen = statistics.median(g for _, g in runs["Q4_1"])
    print(f"SmolLM2-135M-Instruct, llama.cpp, {args.threads} threads, median of {args.rounds} rounds; "
          f"prompt {len(prompt)} tokens, 100 generated")
    print(f"{'format':6} {'MB':>5} {'prompt tok/s':>13} {'ratio':>6} {'gen tok/s':>10} {'ratio':>6}")
    for name in files:
        read = statistics.median(r for r, _ in runs[name])
        gen = statistics.median(g for _, g in runs[name])
        print(f"{name:6} {sizes[name]:5.0f} {read:13.0f} {read / base_read:6.2f} "
              f"{gen:10.0f} {gen / base_gen:6.2f}")


if __name__ == "__main__":
    main()
