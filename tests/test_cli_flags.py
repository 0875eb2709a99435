"""The flags of `tune`, `data synth` and `bench` are generated from their config sections: every field has its
flag, with its description, and the flags given reach the config as one nested override."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from ragtune.cli.config_options import config_fields, config_options, flag
from ragtune.cli.main import app
from ragtune.config import with_overrides
from ragtune.datasets.config import SynthConfig
from ragtune.errors import InputError
from ragtune.evaluation.config import BenchConfig, JudgeConfig
from ragtune.training.config import (
    DPOConfig,
    EmbedderTuneConfig,
    KTOConfig,
    LoopConfig,
    ReaderTuneConfig,
    RerankerTuneConfig,
    SFTConfig,
    VerdictTuneConfig,
)

SECTIONS = [
    (("tune", "sft"), SFTConfig, "training.sft"),
    (("tune", "dpo"), DPOConfig, "training.dpo"),
    (("tune", "kto"), KTOConfig, "training.kto"),
    (("tune", "loop"), LoopConfig, "training.loop"),
    (("tune", "embedder"), EmbedderTuneConfig, "training.embedder"),
    (("tune", "reranker"), RerankerTuneConfig, "training.reranker"),
    (("tune", "verdicts"), VerdictTuneConfig, "training.verdicts"),
    (("tune", "reader"), ReaderTuneConfig, "training.reader"),
    (("tune", "judge"), JudgeConfig, "bench.judge"),
    (("data", "synth"), SynthConfig, "datasets.synth"),
    (("bench",), BenchConfig, "bench"),
]


def command(path: tuple[str, ...]):
    cmd = get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


@pytest.mark.parametrize(("path", "model", "section"), SECTIONS, ids=[" ".join(s[0]) for s in SECTIONS])
def test_every_config_field_has_its_flag(path, model, section):
    options = {opt: p for p in command(path).params for opt in (*p.opts, *p.secondary_opts)}
    for field_path, field in config_fields(model):
        param = options.get(flag(field_path))
        assert param is not None, f"{' '.join(path)}: no {flag(field_path)} for {section}.{'.'.join(field_path)}"
        assert f"({section}.{'.'.join(field_path)}, default:" in param.help
        if field.description:
            assert param.help.startswith(field.description.strip()[:30].replace("[", "\\["))


def test_sft_help_shows_every_field_with_its_description():
    result = CliRunner().invoke(app, ["tune", "sft", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for field_path, field in config_fields(SFTConfig):
        assert flag(field_path) in text
        assert field.description and " ".join(field.description.split())[:40] in text, field_path


def test_flags_reach_the_config_as_nested_overrides():
    seen: dict[str, Any] = {}
    cli = typer.Typer()

    @cli.command()
    @config_options(SFTConfig, "training.sft")
    def run(overrides: dict[str, Any] | None = None) -> None:
        seen.update(overrides or {})

    args = ["--max-steps", "3", "--lora-r", "8", "--no-rag", "--lr", "0.001", "--lora-target-modules", "q,v"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert seen == {"max_steps": 3, "lora": {"r": 8, "target_modules": ["q", "v"]}, "rag": False,
                    "learning_rate": 0.001}
    merged = with_overrides(SFTConfig(), seen)
    assert (merged.max_steps, merged.lora.r, merged.lora.alpha, merged.rag, merged.epochs) == (3, 8, 32, False, 2.0)
    assert CliRunner().invoke(cli, ["--max-steps", "0"]).exit_code == 2  # the field's ge=1, checked by the flag
    with pytest.raises(InputError, match="epochs"):
        with_overrides(SFTConfig(), {"epochs": 0})  # gt=0: checked when the config is validated again
