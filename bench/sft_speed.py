"""LoRA SFT speed: ragtune's trainer settings against a plain TRL SFTTrainer with default settings, side by side
in one run on the same data and hardware.

Both train the same LoRA (r=16, alpha=32, every linear layer) of the default model (profile "fast",
SmolLM2-135M-Instruct) for one pass over the same prompt-completion examples with 8 examples per step.
tokens/s = the examples' real (non-padding) tokens / wall time of ``trainer.train()``; model loading and
tokenisation are not timed. Rounds alternate baseline and ragtune so that load from other processes hits both;
tokens per CPU-second (process time of all threads) are printed too, as they barely move with such load.

    python bench/sft_speed.py                      # examples from the bundled demo contracts
    python bench/sft_speed.py --dataset DIR        # DIR/train.jsonl rows {question, answer}
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore", category=FutureWarning)

SYSTEM = "You are an assistant for questions about the user's documents. Answer briefly and precisely."


def demo_rows(n: int) -> list[dict]:
    """Clause-completion QA from the bundled contracts: varied lengths, like real QA data."""
    from ragtune.demo import CORPUS

    rows = []
    for path in sorted(Path(CORPUS).glob("*.txt")):
        name = path.stem.split("-")[-1].strip()
        for sentence in re.split(r"(?<=[.;])\s+", " ".join(path.read_text(encoding="utf-8").split())):
            words = sentence.split()
            if 14 <= len(words) <= 70:
                rows.append({"question": f"In the {name}, how does the clause \"{' '.join(words[:8])} ...\" go on?",
                             "answer": " ".join(words[8:])})
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def examples(rows: list[dict]) -> list[dict]:
    return [{"prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": r["question"]}],
             "completion": [{"role": "assistant", "content": r["answer"]}]} for r in rows]


def real_tokens(tokenizer, data: list[dict]) -> int:
    return sum(len(tokenizer.apply_chat_template(e["prompt"] + e["completion"], tokenize=True,
                                                 return_dict=True)["input_ids"]) for e in data)


def lora():
    from peft import LoraConfig

    return LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")


def baseline_trainer(base: str, data: list[dict], out: str):
    """TRL's defaults; use_cpu is required by TRL's bf16 default on machines without a GPU."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=out, use_cpu=not torch.cuda.is_available(), report_to=[], save_strategy="no",
                     num_train_epochs=1, disable_tqdm=True)
    return SFTTrainer(model=base, args=args, train_dataset=Dataset.from_list(data), peft_config=lora())


def ragtune_trainer(base: str, data: list[dict], out: str):
    from ragtune.training.config import LoRAConfig, SFTConfig
    from ragtune.training.sft import make_trainer

    cfg = SFTConfig(epochs=1, batch_size=8, save_steps=10_000, lora=LoRAConfig(r=16, alpha=32, dropout=0.05))
    return make_trainer(base, cfg, data, [], Path(out))


def padding_share(trainer) -> float:
    """Pad tokens / all tokens in the baseline's padded batches."""
    real = total = 0
    for batch in trainer.get_train_dataloader():
        mask = batch["attention_mask"]
        real, total = real + int(mask.sum()), total + mask.numel()
    return 1 - real / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, help="Folder with train.jsonl (default: the demo contracts).")
    parser.add_argument("--examples", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args()

    import datasets
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from ragtune.generation.llms.transformers import hf_model_dir
    from ragtune.training.sft import pick_precision

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    if a.dataset:
        with (a.dataset / "train.jsonl").open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()][: a.examples]
    else:
        rows = demo_rows(a.examples)
    base = hf_model_dir("fast")
    data = examples(rows)
    tokens = real_tokens(AutoTokenizer.from_pretrained(base), data)
    results: dict[str, list[float]] = {"trl_defaults": [], "ragtune": []}
    cpu: dict[str, list[float]] = {"trl_defaults": [], "ragtune": []}
    pad = None
    for _ in range(a.rounds):
        for name, make in (("trl_defaults", baseline_trainer), ("ragtune", ragtune_trainer)):
            with tempfile.TemporaryDirectory() as out:
                trainer = make(base, data, out)
                if name == "trl_defaults" and pad is None:
                    pad = padding_share(trainer)
                t0, c0 = time.perf_counter(), time.process_time()
                trainer.train()
                results[name].append(tokens / (time.perf_counter() - t0))
                cpu[name].append(tokens / (time.process_time() - c0))
                del trainer
    speed = {k: round(statistics.median(v), 1) for k, v in results.items()}
    per_cpu = {k: round(statistics.median(v), 1) for k, v in cpu.items()}
    report = {"model": "fast (SmolLM2-135M-Instruct)", "examples": len(data), "tokens": tokens,
              "rounds": a.rounds, "threads": torch.get_num_threads(), "device": "cuda" if torch.cuda.is_available()
              else "cpu", "ragtune_precision": pick_precision("auto"), "baseline_padding_share": round(pad, 3),
              "tokens_per_s": speed, "ratio": round(speed["ragtune"] / speed["trl_defaults"], 2),
              "tokens_per_cpu_s": per_cpu, "cpu_ratio": round(per_cpu["ragtune"] / per_cpu["trl_defaults"], 2)}
    if a.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['examples']} examples, {tokens} tokens, {report['device']}, {report['threads']} threads, "
          f"{a.rounds} round(s)")
    print(f"  TRL SFTTrainer defaults : {speed['trl_defaults']:8.1f} tokens/s  (bf16 autocast, gradient "
          f"checkpointing, padded batches: {pad:.0%} padding)")
    print(f"  ragtune LoRASFT         : {speed['ragtune']:8.1f} tokens/s  ({report['ragtune_precision']}, "
          "padding-free + varlen_sdpa, no checkpointing)")
    print(f"  ratio                   : {report['ratio']:.2f}x  (target >= 1.3x)")
    print(f"  per CPU-second          : {per_cpu['trl_defaults']:.1f} vs {per_cpu['ragtune']:.1f} tokens, "
          f"{report['cpu_ratio']:.2f}x (insensitive to other processes sharing the cores)")


if __name__ == "__main__":
    main()
