"""Any causal LM through transformers: local directories, hub ids, and GGUF files (dequantised once and
cached as safetensors, which is also the folder fine-tuning starts from)."""

from __future__ import annotations

import hashlib
import threading
from functools import cached_property
from typing import Any

from ragtune.errors import ModelError
from ragtune.generation.profiles import cache_dir, resolve_gguf
from ragtune.llm import LLM, Message, OnToken, RawGeneration, llms


def hf_model_dir(model: str, gguf_file: str | None = None) -> str:
    """A directory (or hub id) transformers can load without ``gguf_file``. GGUF models are dequantised
    on first use and saved under the ragtune cache."""
    gguf = resolve_gguf(gguf_file or model)
    if gguf is None:
        return model
    stat = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}:{stat.st_size}".encode()).hexdigest()[:12]
    target = cache_dir() / "hf" / f"{gguf.stem}-{key}"
    if (target / "config.json").is_file():
        return str(target)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    lm = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # A GGUF-loaded model is flagged as quantised, which Trainer refuses; the weights are already fp32.
    if hasattr(lm.config, "quantization_config"):
        del lm.config.quantization_config
    lm.hf_quantizer = None
    tmp = target.with_name(target.name + ".tmp")
    lm.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.replace(target)
    return str(target)


@llms.register("transformers")
class TransformersLLM(LLM):
    """Generation with ``model.generate`` and the tokenizer's chat template; streams with a text streamer."""

    @cached_property
    def _loaded(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = hf_model_dir(self.config.model, self.config.gguf_file)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        except OSError as e:
            raise ModelError(f"cannot load transformers model {path!r}: {e}") from None
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        return tokenizer, model.eval()

    def _generate(self, messages: list[Message], params: dict[str, Any], on_token: OnToken | None) -> RawGeneration:
        import torch
        from transformers import TextIteratorStreamer

        tokenizer, model = self._loaded
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)
        sample = params["temperature"] > 0
        kwargs = dict(**ids, max_new_tokens=params["max_tokens"], do_sample=sample,
                      repetition_penalty=params["repeat_penalty"], pad_token_id=tokenizer.eos_token_id,
                      stop_strings=params["stop"], tokenizer=tokenizer)
        if sample:
            kwargs |= {"temperature": params["temperature"], "top_p": params["top_p"]}
        torch.manual_seed(params["seed"])
        if on_token is not None:
            streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
            worker = threading.Thread(target=lambda: self._run(model, kwargs | {"streamer": streamer}))
            worker.start()
            for piece in streamer:
                if piece:
                    on_token(piece)
            worker.join()
            out = self._output
        else:
            out = self._run(model, kwargs)
        n_prompt = ids["input_ids"].shape[1]
        new = out[0, n_prompt:]
        text = tokenizer.decode(new, skip_special_tokens=True)
        finish = "length" if len(new) >= params["max_tokens"] else "stop"
        return RawGeneration(text, n_prompt, int(len(new)), finish)

    def _run(self, model, kwargs):
        import torch

        with torch.inference_mode():
            self._output = model.generate(**kwargs)
        return self._output

    def count_tokens(self, text: str) -> int:
        return len(self._loaded[0](text, add_special_tokens=False)["input_ids"])
