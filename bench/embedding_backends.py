"""Embedding paths for the shipped MiniLM on this CPU: chunks/s and cosine to float32 torch vectors, measured on
the same chunk texts in one run (docs/performance.md, "Ingest and embedding": how ``embedder.precision: auto``
was chosen).

    nice -n 10 python bench/embedding_backends.py            # 256 chunks of the cuad_dev contracts
    pip install onnxruntime onnx                              # for the ONNX rows (skipped when missing)

Paths: torch float32 (the reference); torch bfloat16 autocast (what ``precision: bfloat16`` runs); torch bfloat16
weights; torch dynamic int8 (``quantize_dynamic`` of the Linear layers); ONNX Runtime float32 (exported here with
``torch.onnx.export``, no hub download) and ONNX Runtime dynamic int8 (MatMul weights, per channel). Each path
embeds the texts twice; the faster pass counts (the machine is shared).
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
CUAD = Path(os.environ.get("CUAD_DEV", "/work/shared/data/cuad_dev"))


def chunk_texts(n: int) -> list[str]:
    from ragtune.config import EmbedderConfig
    from ragtune.documents.chunkers import RecursiveConfig, chunkers
    from ragtune.documents.loaders import loader_for
    from ragtune.documents.models import Document
    from ragtune.documents.tokenizer import token_counter_for
    from ragtune.index.embedder import Embedder

    config = RecursiveConfig(chunk_tokens=256, overlap_tokens=30)
    chunker = chunkers.get(config.name)(config, token_counter_for(Embedder(EmbedderConfig()).path))
    texts: list[str] = []
    for path in sorted((CUAD / "contracts").glob("*.txt")):
        loader = loader_for(path)
        pages = loader.load(path, path.read_bytes())
        doc = Document(source=path.name, title=path.stem, sha256="", pages=pages, paged=loader.paged)
        texts += [c.text for c in chunker.chunk(doc) if c.indexed]
        if len(texts) >= n:
            break
    return texts[:n]


def best_of_two(embed, texts: list[str]) -> tuple[np.ndarray, float]:
    seconds = []
    for _ in range(2):
        t = time.perf_counter()
        vectors = embed(texts)
        seconds.append(time.perf_counter() - t)
    return vectors, len(texts) / min(seconds)


def onnx_paths(model, folder: Path) -> dict:
    """ONNX Runtime float32 and int8 embedders (mean pooling and normalisation as the model's own modules)."""
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = model.tokenizer(["an example"], return_tensors="pt")
    torch.onnx.export(Encoder(model[0].model).eval(), tuple(sample[n] for n in names), str(folder / "fp32.onnx"),
                      input_names=names, output_names=["hidden"], opset_version=17, dynamo=False,
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]})
    quantize_dynamic(str(folder / "fp32.onnx"), str(folder / "int8.onnx"), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul"], per_channel=True)

    def embedder(file: str):
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared CPUs
        session = ort.InferenceSession(str(folder / file), options, providers=["CPUExecutionProvider"])

        def embed(texts: list[str]) -> np.ndarray:
            out = []
            order = np.argsort([-len(t) for t in texts])
            for i in range(0, len(texts), 32):
                batch = model.tokenizer([texts[j] for j in order[i:i + 32]], padding=True, truncation=True,
                                        max_length=256, return_tensors="np")
                hidden = session.run(None, {n: batch[n].astype(np.int64) for n in names})[0]
                mask = batch["attention_mask"][..., None].astype(np.float32)
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
            vectors = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
            vectors[order] = np.concatenate(out)
            return vectors

        return embed

    return {"ONNX Runtime float32": embedder("fp32.onnx"), "ONNX Runtime int8 (dynamic)": embedder("int8.onnx")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=256)
    args = parser.parse_args()
    import torch

    from ragtune.config import EmbedderConfig
    from ragtune.index.embedder import Embedder, cpu_has_amx, load_sentence_transformer

    texts = chunk_texts(args.chunks)
    model = load_sentence_transformer(Embedder(EmbedderConfig()).path, "cpu")

    def encode(st):
        return lambda texts: st.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)

    def autocast(texts):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return encode(model)(texts)

    half = copy.deepcopy(model).to(torch.bfloat16)
    int8 = copy.deepcopy(model)
    int8[0].model = torch.ao.quantization.quantize_dynamic(int8[0].model, {torch.nn.Linear}, dtype=torch.qint8)
    paths = {"torch float32": encode(model), "torch bfloat16 autocast": autocast,
             "torch bfloat16 weights": lambda t: encode(half)(t).astype(np.float32),
             "torch int8 (dynamic)": encode(int8)}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            paths.update(onnx_paths(model, Path(tmp)))
        except ImportError:
            print("onnxruntime / onnx not installed: no ONNX rows (pip install onnxruntime onnx)")
        results = {name: best_of_two(embed, texts) for name, embed in paths.items()}
    reference, base = results["torch float32"]
    print(f"{len(texts)} chunks (256 tokens) of cuad_dev, {os.cpu_count()} CPUs, AMX: {cpu_has_amx()}, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| path | chunks/s | vs torch float32 | min cosine | mean cosine |")
    print("|---|---:|---:|---:|---:|")
    for name, (vectors, speed) in results.items():
        cosine = (np.asarray(vectors, dtype=np.float32) * reference).sum(axis=1)
        print(f"| {name} | {speed:.1f} | {speed / base:.2f}x | {cosine.min():.4f} | {cosine.mean():.4f} |")


if __name__ == "__main__":
    main()
