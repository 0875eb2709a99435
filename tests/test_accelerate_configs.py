"""The shipped accelerate / DeepSpeed configs for multi-GPU LoRA SFT parse with accelerate's own config loader
and name DeepSpeed JSON files that exist and set the ZeRO stage they promise (bench/accelerate_dry_run.py runs
them on CPU)."""

import json
from pathlib import Path

import pytest

CONFIGS = Path(__file__).parent.parent / "configs" / "accelerate"
# Top-level keys of a DeepSpeed config that the HF Trainer integration fills or reads ("auto" = from the Trainer).
DEEPSPEED_KEYS = {"bf16", "fp16", "zero_optimization", "gradient_accumulation_steps", "gradient_clipping",
                  "train_batch_size", "train_micro_batch_size_per_gpu", "steps_per_print", "wall_clock_breakdown",
                  "optimizer", "scheduler"}
ZERO_KEYS = {"stage", "overlap_comm", "contiguous_gradients", "reduce_bucket_size", "allgather_bucket_size",
             "stage3_prefetch_bucket_size", "stage3_param_persistence_threshold", "stage3_max_live_parameters",
             "stage3_max_reuse_distance", "stage3_gather_16bit_weights_on_model_save", "offload_optimizer",
             "offload_param"}


@pytest.mark.parametrize("name, kind, stage", [("ddp.yaml", "MULTI_GPU", None),
                                               ("deepspeed_zero2.yaml", "DEEPSPEED", 2),
                                               ("deepspeed_zero3.yaml", "DEEPSPEED", 3)])
def test_accelerate_config_parses(name, kind, stage):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIGS / name))
    assert config.distributed_type.value == kind and config.num_processes >= 2 and not config.use_cpu
    if stage is None:
        return
    ds_file = Path(config.deepspeed_config["deepspeed_config_file"])
    assert ds_file.parts[:2] == ("configs", "accelerate")  # relative to the repository root
    ds = json.loads((CONFIGS / ds_file.name).read_text(encoding="utf-8"))
    assert set(ds) <= DEEPSPEED_KEYS and set(ds["zero_optimization"]) <= ZERO_KEYS
    assert ds["zero_optimization"]["stage"] == stage
    assert config.deepspeed_config["zero3_init_flag"] == (stage == 3)
