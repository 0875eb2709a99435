"""DPO: Direct Preference Optimization (Rafailov et al., 2023) on chosen/rejected answer pairs from the feedback
store (preferences, rankings, corrections, up- over down-voted answers), through TRL's DPOTrainer with LoRA."""

from __future__ import annotations

from ragtune.training.preference import PreferenceTuner


class DPO(PreferenceTuner):
    """``ragtune tune dpo``: rows ``{"prompt", "chosen", "rejected"}`` (conversational)."""

    kind = "dpo"

    def trl_trainer(self, model, args, train, tokenizer, peft_config, callbacks):
        from trl import DPOConfig, DPOTrainer

        config = DPOConfig(**args, loss_type=[self.config.loss_type])
        return DPOTrainer(model=model, args=config, train_dataset=train, processing_class=tokenizer,
                          peft_config=peft_config, callbacks=callbacks)
