"""KTO: Kahneman-Tversky Optimization (Ethayarajh et al., 2024) on single answers labelled good or bad (thumbs
up/down, corrections and their originals), so feedback needs no pairs; TRL's KTOTrainer with LoRA."""

from __future__ import annotations

from typing import Any

from ragtune.errors import InputError
from ragtune.training.preference import PreferenceTuner


class KTO(PreferenceTuner):
    """``ragtune tune kto``: rows ``{"prompt", "completion", "label"}`` (conversational)."""

    kind = "kto"

    def check(self, rows: list[dict[str, Any]]) -> None:
        super().check(rows)
        if len(rows) < 2:
            raise InputError("KTO needs at least 2 labelled answers: it estimates its KL term within a batch")

    def trl_trainer(self, model, args, train, tokenizer, peft_config, callbacks):
        from trl import KTOConfig, KTOTrainer

        cfg = self.config
        config = KTOConfig(**args, desirable_weight=cfg.desirable_weight, undesirable_weight=cfg.undesirable_weight)
        return KTOTrainer(model=model, args=config, train_dataset=train, processing_class=tokenizer,
                          peft_config=peft_config, callbacks=callbacks)
