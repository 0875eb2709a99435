"""LoRA SFT with the real 135M model, the model registry, and serving tuned versions on llama_cpp."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragtune.errors import InputError, ModelError
from ragtune.model_registry import LORA_GGUF, ModelRegistry
from ragtune.training.config import SFTConfig

SFT_DATA = Path(__file__).parent / "data" / "sft"
TINY = {"batch_size": 2, "max_steps": 3, "save_steps": 1, "learning_rate": 1e-3, "dataset": str(SFT_DATA)}


def _set_training(project, **sft) -> None:
    """Write ``training.sft`` settings into the project's ragtune.yaml."""
    import yaml

    data = yaml.safe_load(project.config_path.read_text(encoding="utf-8"))
    data.setdefault("training", {})["sft"] = sft
    project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")


def _fake_version(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "adapter").mkdir()
    return folder


# the registry
def test_registry_promote_reject_rollback(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"question": "q", "answer": "a"}\n')
    reg = ModelRegistry(tmp_path / "work")
    v1 = reg.add("sft", _fake_version(tmp_path, "a"), data_files={"train": data}, config={"base_model": "fast"})
    v2 = reg.add("sft", _fake_version(tmp_path, "b"), parent="v1", metrics={"test_token_f1": 0.5})
    v3 = reg.add("dpo", _fake_version(tmp_path, "c"), parent="v2")
    emb = reg.add("embedder", _fake_version(tmp_path, "d"))
    assert [v.id for v in (v1, v2, v3, emb)] == ["v1", "v2", "v3", "v4"]
    assert (reg.root / "v2" / "adapter").is_dir() and not (tmp_path / "b").exists()
    assert len(v1.data_hashes["train"]) == 64 and v2.parent == "v1" and v3.kind == "dpo"
    assert reg.champion("llm") is None

    for vid in ("v1", "v2", "v3"):
        reg.promote(vid)
    reg.promote("v4")
    assert reg.champion("sft").id == "v3" and reg.champion("embedder").id == "v4"  # one champion per role
    assert [v.status for v in reg.list("llm")] == ["candidate", "candidate", "champion"]
    assert reg.rollback().id == "v2" and reg.rollback().id == "v1"  # repeated rollbacks walk back
    assert reg.champion("llm").id == "v1" and reg.champion("embedder").id == "v4"
    with pytest.raises(InputError, match="nothing to roll back"):
        reg.rollback()
    assert reg.rollback("v3").id == "v3"  # any earlier version can be restored
    assert reg.get("champion").id == "v3"
    with pytest.raises(InputError, match="champion"):
        reg.reject("v3")
    assert reg.reject("v2").status == "rejected"
    reg.promote("v2")
    assert reg.lineage("llm") == ["v1", "v3", "v2"]
    with pytest.raises(InputError, match="no model version 'v9'"):
        reg.get("v9")
    with pytest.raises(InputError, match="parent version"):
        reg.add("sft", _fake_version(tmp_path, "e"), parent="v9")

    state = json.loads(reg.file.read_text())
    assert [v["id"] for v in state["versions"]] == ["v1", "v2", "v3", "v4"]
    assert not list(reg.root.glob(".registry.*"))  # no temp files left behind


def test_registry_llm_config(tmp_path):
    from ragtune.config import LLMConfig

    reg = ModelRegistry(tmp_path)
    v1 = reg.add("sft", _fake_version(tmp_path, "a"), config={"base_model": "fast", "base_gguf_file": None})
    with pytest.raises(ModelError, match="no GGUF export"):
        reg.llm_config("v1", LLMConfig())
    (reg.folder(v1) / LORA_GGUF).write_bytes(b"GGUF")
    served = reg.llm_config("v1", LLMConfig(backend="openai", model="gpt-4o-mini", max_tokens=99))
    assert served.backend == "llama_cpp" and served.model == "fast" and served.max_tokens == 99
    assert served.lora_path == str(reg.folder(v1) / LORA_GGUF)
    emb = reg.add("embedder", _fake_version(tmp_path, "b"))
    with pytest.raises(InputError, match="not an LLM"):
        reg.llm_config(emb.id, LLMConfig())


# training
@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus):
    """A project with the test corpus and one tiny SFT version (3 steps), exported and scored."""
    from ragtune import Project
    from ragtune.training.sft import LoRASFT

    proj = Project.init(tmp_path_factory.mktemp("sft") / "p")
    proj.ingest([corpus])
    _set_training(proj, **TINY)
    proj = Project(proj.root)
    events: list[tuple] = []
    result = LoRASFT(proj.training_resources).run(on_progress=lambda *e: events.append(e))
    yield proj, result, events
    proj.close()


def test_sft_registers_a_version_served_by_llama_cpp(trained):
    proj, result, events = trained
    version = result.version
    assert version.id == "v1" and version.kind == "sft" and version.status == "candidate"
    assert result.train["steps"] == 3 and result.train["tokens"] > 0 and result.examples["train"] == 10
    assert result.train["batch"] == [2, 1]  # short examples: batch_tokens leaves the batch alone
    assert {"train", "merge", "export", "evaluate"} <= {e[0] for e in events}
    assert any(e[0] == "train" and "loss" in e[3] for e in events)
    folder = ModelRegistry(proj.workdir).folder(version)
    assert (folder / "adapter" / "adapter_config.json").is_file() and (folder / "merged" / "config.json").is_file()
    assert (folder / LORA_GGUF).is_file()
    assert set(version.data_hashes) == {"train", "validation", "test"}
    m = version.metrics
    assert m["test_n"] == 2 and 0 <= m["test_token_f1"] <= 1 and 0 <= m["base_rouge_l"] <= 1
    assert m["seconds"] > 0 and m["tokens"] == result.train["tokens"] and m["examples"]["train"] == 10  # cost model
    assert "eval_loss" in m and len((folder / "eval_test.jsonl").read_text().splitlines()) == 2
    assert not (proj.workdir / "models" / "runs" / "sft").exists()

    llm = proj.llm_for("v1")
    assert llm.name == "llama_cpp" and llm.lora_path.endswith(LORA_GGUF)
    assert proj.llm_for("base") is proj.llm
    answer = proj.ask("Which law governs the Widget Supply Agreement?", model="v1", record=True, strategy="generate")
    assert answer.answer.strip() and answer.usage["completion_tokens"] > 0


def test_models_cli(trained, tmp_path):
    from typer.testing import CliRunner

    from ragtune.cli.main import app

    proj, _, _ = trained
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "-p", str(proj.root), "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert {"id", "parent", "kind", "status", "metrics", "created"} <= set(row) and row["id"] == "v1"
    assert runner.invoke(app, ["models", "promote", "v1", "-p", str(proj.root)]).exit_code == 0
    assert ModelRegistry(proj.workdir).champion("llm").id == "v1"
    out = tmp_path / "merged-copy"
    exported = runner.invoke(app, ["models", "export", "v1", "--format", "merged", "-o", str(out), "-p",
                                   str(proj.root), "--json"])
    assert exported.exit_code == 0, exported.output
    assert (out / "model.safetensors").is_file()
    bad = runner.invoke(app, ["models", "export", "v1", "--format", "onnx", "-p", str(proj.root)])
    assert bad.exit_code == 1 and "unknown export format" in bad.output
    asked = runner.invoke(app, ["ask", "How much is a widget?", "-p", str(proj.root), "--model", "champion",
                                "--json"])
    assert asked.exit_code == 0, asked.output
    assert runner.invoke(app, ["ask", "x?", "-p", str(proj.root), "--model", "v7"]).exit_code == 1


def test_batch_tokens_cut_the_batch_and_keep_the_examples_per_step():
    from ragtune.training.sft import fit_batch

    assert fit_batch(8, 1, 300, 4096) == (8, 1)  # 2,400 tokens fit
    assert fit_batch(8, 1, 1100, 4096) == (2, 4)  # 3 would fit, 2 divides the 8 examples a step sees
    assert fit_batch(2, 4, 1100, 4096) == (2, 4)
    assert fit_batch(8, 2, 5000, 4096) == (1, 16)  # one example always fits
    assert fit_batch(8, 1, 1100, None) == (8, 1)


def test_loss_covers_answer_tokens_only(tmp_path):
    from ragtune.generation.llms.transformers import hf_model_dir
    from ragtune.training.sft import make_trainer

    example = {"prompt": [{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": "What is the price per widget?"}],
               "completion": [{"role": "assistant", "content": "$4.20 per widget."}]}
    other = {"prompt": [{"role": "user", "content": "Governing law?"}],
             "completion": [{"role": "assistant", "content": "Delaware."}]}
    trainer = make_trainer(hf_model_dir("fast"), SFTConfig(batch_size=2), [example, other], [], tmp_path)
    batch = trainer.data_collator([trainer.train_dataset[0], trainer.train_dataset[1]])
    assert "attention_mask" not in batch and batch["input_ids"].shape[0] == 1  # padding-free: one flat row
    assert batch["cu_seq_lens_q"].tolist()[0] == 0 and len(batch["cu_seq_lens_q"]) == 3
    tok = trainer.processing_class
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    trained_text = tok.decode(ids[labels != -100])
    assert trained_text == "$4.20 per widget.<|im_end|>\nDelaware.<|im_end|>\n"
    prompt_text = tok.decode(ids[labels == -100])
    assert "What is the price per widget?" in prompt_text and "assistant" in prompt_text
    assert "$4.20" not in prompt_text


def test_varlen_attention_matches_separate_sequences():
    import torch
    from transformers import AutoModelForCausalLM

    from ragtune.generation.llms.transformers import hf_model_dir
    from ragtune.training.attention import register

    path = hf_model_dir("fast")
    packed_model = AutoModelForCausalLM.from_pretrained(path, attn_implementation=register()).eval()
    plain = AutoModelForCausalLM.from_pretrained(path, attn_implementation="sdpa").eval()
    seqs = [torch.randint(10, 40000, (n,), generator=torch.Generator().manual_seed(n)) for n in (5, 17, 9)]
    cu = torch.tensor([0, 5, 22, 31], dtype=torch.int32)
    with torch.no_grad():
        packed = packed_model(input_ids=torch.cat(seqs)[None], cu_seq_lens_q=cu, cu_seq_lens_k=cu,
                              position_ids=torch.cat([torch.arange(len(s)) for s in seqs])[None]).logits
        separate = torch.cat([plain(input_ids=s[None]).logits for s in seqs], dim=1)
    assert torch.allclose(packed, separate, atol=1e-3)


def test_raft_prompts_hold_gold_among_distractors(project):
    import random

    from ragtune.training.data import PromptBuilder

    gold = project.retrieve("Which law governs the Widget Supply Agreement?", top_k=1).hits[0].chunk
    cfg = SFTConfig(rag=True)
    row = {"id": "r1", "question": "Which law governs the Widget Supply Agreement?",
           "answer": "The laws of the State of Delaware.", "chunk_ids": [gold.id]}
    example = PromptBuilder(project.training_resources, cfg).example(row, random.Random(0))
    user = example["prompt"][-1]["content"]
    headers = [(m.start(), int(m.group(1))) for m in re.finditer(r"^\[(\d+)\] \(", user, re.M)]
    assert [n for _, n in headers] == list(range(1, 2 + cfg.raft.distractors))  # gold + 3 distractors
    n = max(n for start, n in headers if start < user.index(gold.text))
    assert example["completion"][0]["content"] == f"The laws of the State of Delaware. [{n}]"
    missing = dict(row, chunk_ids=["no-such-chunk"])
    assert PromptBuilder(project.training_resources, cfg).example(missing, random.Random(0)) is None
    quoting = SFTConfig(rag=True, raft={"quote": True})
    target = PromptBuilder(project.training_resources, quoting).example(row, random.Random(0))["completion"][0][
        "content"]
    quote, answer = target.split("\n")
    assert quote.endswith(f"[{n}]") and "Delaware" in quote and quote.strip('"').split('" [')[0] in " ".join(
        gold.text.split())  # the gold passage's supporting sentence, verbatim and cited
    assert answer == "Answer: The laws of the State of Delaware."


def test_missing_dataset_and_nothing_to_resume(new_project):
    from ragtune.training.sft import LoRASFT

    with pytest.raises(InputError, match="no dataset 'synth'"):
        LoRASFT(new_project.training_resources).run()
    with pytest.raises(InputError, match="no interrupted sft run"):
        LoRASFT(new_project.training_resources).run(resume=True)


def test_resume_after_kill(tmp_path):
    """SIGKILL the trainer after its second checkpoint; --resume continues from there to the last step."""
    from ragtune import Project

    proj = Project.init(tmp_path / "p")
    _set_training(proj, **TINY | {"max_steps": 5, "merge": False, "export_gguf": False, "evaluate": False})
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "ragtune.cli", "tune", "sft", "-p", str(proj.root), "--json"]
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    runs = proj.workdir / "models" / "runs"
    deadline = time.time() + 300
    try:
        while not list(runs.glob("sft-*/checkpoints/checkpoint-2/trainer_state.json")):
            assert child.poll() is None, child.stderr.read()
            assert time.time() < deadline, "no checkpoint in time"
            time.sleep(0.2)
        time.sleep(0.5)  # let the checkpoint finish writing; a partial one is skipped by --resume anyway
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not (proj.workdir / "models" / "registry.json").exists()
    done = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["train"]["resumed_from"] >= 2 and result["train"]["steps"] == 5
    assert result["version"]["id"] == "v1" and result["version"]["metrics"]["train_loss"] > 0
    assert not list(runs.glob("sft-*"))
    shutil.rmtree(proj.root)
