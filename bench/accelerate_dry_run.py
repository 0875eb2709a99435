"""Dry run of the multi-GPU training configs on CPU: each ``configs/accelerate/*.yaml`` is loaded with
accelerate's config loader, then ``accelerate launch --config_file <it> --cpu --num_processes 1`` runs
``ragtune tune sft`` for a couple of LoRA steps on the 135M model (tests/data/sft), without merge, export or
scoring. DeepSpeed configs run only where ``deepspeed`` is installed (it needs CUDA to build its ops); without
it they are reported as parsed, not run.

    nice -n 10 python bench/accelerate_dry_run.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs" / "accelerate"
SFT = {"batch_size": 2, "max_steps": 2, "save_steps": 100, "learning_rate": 1e-3, "merge": False,
       "export_gguf": False, "evaluate": False, "dataset": str(REPO / "tests" / "data" / "sft")}


def main() -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    from ragtune import Project

    has_deepspeed = importlib.util.find_spec("deepspeed") is not None
    rows = []
    for path in sorted(CONFIGS.glob("*.yaml")):
        config = load_config_from_file(str(path))
        kind = config.distributed_type.value
        if kind == "DEEPSPEED" and not has_deepspeed:
            rows.append({"config": path.name, "type": kind, "parsed": True, "ran": "no (deepspeed not installed)"})
            continue
        with tempfile.TemporaryDirectory() as tmp:
            project = Project.init(Path(tmp) / "p")
            data = yaml.safe_load(project.config_path.read_text(encoding="utf-8"))
            data.setdefault("training", {})["sft"] = SFT
            project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
            cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(path), "--cpu",
                   "--num_processes", "1", "--num_machines", "1", "--mixed_precision", "no",
                   "-m", "ragtune.cli", "tune", "sft", "-p", str(project.root), "--json"]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=os.environ | {
                "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
            seconds = round(time.perf_counter() - t0, 1)
            if done.returncode != 0:
                rows.append({"config": path.name, "type": kind, "parsed": True, "ran": "FAILED",
                             "error": done.stderr.strip().splitlines()[-3:]})
                continue
            train = json.loads(done.stdout)["train"]
            rows.append({"config": path.name, "type": kind, "parsed": True, "ran": "yes", "seconds": seconds,
                         "steps": train["steps"], "train_loss": train["train_loss"]})
    for row in rows:
        print(json.dumps(row))
    if any(r["ran"] == "FAILED" for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
