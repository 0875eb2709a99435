"""Ingest speed (load + chunk + embed + index) of ragtune vs LlamaIndex on the same files, embedding throughput
inside ingest vs raw sentence-transformers encode, retrieval quality of both indexes and peak RSS of each, in one
run (docs/performance.md, "Ingest and embedding").

    nice -n 10 python bench/ingest_speed.py                    # demo corpus, cuad_dev, synthetic 10k documents
    nice -n 10 python bench/ingest_speed.py --corpora demo cuad --no-llamaindex

Corpora: ``demo`` (src/ragtune/demo/corpus), ``cuad`` (the 15 contracts of $CUAD_DEV, default
/work/shared/data/cuad_dev; its clause questions score retrieval), ``synthetic`` (``--docs`` text files of 30-90
words drawn from CUAD's word frequencies, written once under bench/.work/). Both pipelines chunk at 256 tokens of
the MiniLM tokenizer with 30 tokens of overlap and embed with the same local MiniLM folder, batch size 32.
LlamaIndex (SimpleDirectoryReader + SentenceSplitter + HuggingFaceEmbedding + its default in-memory
VectorStoreIndex) is installed by this script into its own venv, bench/.work/llamaindex-venv (torch 2.13.0 CPU
first). Every pipeline runs in its own subprocess; model loading is timed apart from ingest. Retrieval quality:
for the cuad_retrieval questions whose CUAD clause was found in the text, recall@5 = share of questions with a
top-5 chunk overlapping a gold clause (a shared 50-character window), for dense retrieval in both, ragtune's
hybrid and its default pipeline (document_filter+hybrid+document_head; LlamaIndex's default retriever is dense).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work"
VENV = WORK / "llamaindex-venv"
LLAMAINDEX = ["llama-index-core==0.14.25", "llama-index-embeddings-huggingface==0.8.0"]
CUAD = Path(os.environ.get("CUAD_DEV", "/work/shared/data/cuad_dev"))
QUERIES = ROOT / "data" / "cuad_retrieval" / "queries.jsonl"
CHUNK_TOKENS, OVERLAP, BATCH, TOP = 256, 30, 32, 5


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss would count the pages of the forked parent)."""
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def overlaps(chunk: str, clause: str, window: int = 50) -> bool:
    """Whether ``chunk`` holds a ``window``-character piece of ``clause`` (all of it when shorter)."""
    if len(clause) <= window:
        return clause in chunk
    return any(clause[i:i + window] in chunk for i in range(0, len(clause) - window + 1, 10))


def questions() -> list[tuple[str, list[str]]]:
    """(question, normalised gold clauses) for the cuad_retrieval questions with a clause found in the text."""
    gold = {}
    for line in (CUAD / "qa.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["clauses"] and row["clauses_found_in_text"]:
            gold[row["id"]] = [norm(c) for c in row["clauses"]]
    out = []
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["metadata"]["cuad_id"] in gold:
            out.append((q["text"], gold[q["metadata"]["cuad_id"]]))
    return out


def recall(retrieve, qs: list[tuple[str, list[str]]]) -> float:
    hits = 0
    for question, clauses in qs:
        chunks = [norm(t) for t in retrieve(question)]
        hits += any(overlaps(c, g) for c in chunks for g in clauses)
    return hits / len(qs)


def synthetic_corpus(n_docs: int, seed: int = 0) -> Path:
    """``n_docs`` small text files (written once, then reused)."""
    import numpy as np

    folder, done = WORK / f"synthetic-{n_docs}", WORK / f"synthetic-{n_docs}.done"
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    corpus = ROOT / "data" / "cuad_retrieval" / "corpus.jsonl"
    counts = Counter(w for line in corpus.read_text(encoding="utf-8").splitlines()
                     for w in re.findall(r"[A-Za-z]+|[.,;]", json.loads(line)["text"]))
    words, p = np.array(list(counts)), np.array(list(counts.values()), dtype=np.float64)
    rng = np.random.default_rng(seed)
    for i, n in enumerate(rng.integers(30, 91, n_docs)):
        text = " ".join(rng.choice(words, size=int(n), p=p / p.sum())).replace(" .", ".").replace(" ,", ",")
        (folder / f"doc{i:05d}.txt").write_text(text + "\n", encoding="utf-8")
    done.write_text("")
    return folder


# --- workers (each in its own process) ---------------------------------------------------------------------------

def ragtune_worker(corpus: Path, precision: str, texts_out: Path | None, quality: bool) -> dict:
    import sentence_transformers  # noqa: F401  (imported before the clock starts, as on the LlamaIndex side)

    from ragtune.documents.chunkers import RecursiveConfig
    from ragtune.index.embedder import Embedder
    from ragtune.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        proj = Project.init(Path(tmp) / "p", name="bench")
        proj.config.chunker = RecursiveConfig(chunk_tokens=CHUNK_TOKENS, overlap_tokens=OVERLAP)
        proj.config.embedder = proj.config.embedder.model_copy(update={"precision": precision,
                                                                       "batch_size": BATCH})
        t = time.perf_counter()
        proj.embedder.embed(["warm up"])
        load_s = time.perf_counter() - t
        embed_s = 0.0
        embed = Embedder.embed

        def timed_embed(self, texts):
            nonlocal embed_s
            t = time.perf_counter()
            try:
                return embed(self, texts)
            finally:
                embed_s += time.perf_counter() - t

        Embedder.embed = timed_embed  # measures the embedding share of ingest
        t = time.perf_counter()
        report = proj.ingest([corpus])
        ingest_s = time.perf_counter() - t
        Embedder.embed = embed
        ids, texts = proj.store.indexed_chunks()
        if texts_out:
            texts_out.write_text(json.dumps(texts), encoding="utf-8")
        out = {"chunks": len(ids), "files": report.files_ingested, "load_s": load_s, "ingest_s": ingest_s,
               "embed_s": embed_s, "precision": proj.embedder.precision}
        if quality:
            qs = questions()
            for label, pipeline in (("dense", "dense"), ("hybrid", "hybrid"), ("default", None)):
                out[f"recall_{label}"] = recall(
                    lambda q, p=pipeline: [h.chunk.text for h in proj.retrieve(q, TOP, pipeline=p).hits], qs)
        proj.close()
    return out


def encode_worker(model: str, texts_file: Path, precision: str) -> dict:
    """Raw ``SentenceTransformer.encode`` of the chunk texts ragtune embedded."""
    import torch
    from sentence_transformers import SentenceTransformer

    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    t = time.perf_counter()
    st = SentenceTransformer(model, device="cpu")
    st.encode(["warm up"])
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        st.encode(texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False)
    return {"chunks": len(texts), "load_s": load_s, "embed_s": time.perf_counter() - t}


def llamaindex_worker(corpus: Path, model: str, quality: bool) -> dict:
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from transformers import AutoTokenizer

    t = time.perf_counter()
    embed_model = HuggingFaceEmbedding(model_name=model, embed_batch_size=BATCH, device="cpu")
    embed_model.get_text_embedding("warm up")
    tokenizer = AutoTokenizer.from_pretrained(model)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    docs = SimpleDirectoryReader(str(corpus), exclude_hidden=False).load_data()  # bench/.work/ is hidden
    splitter = SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=OVERLAP, tokenizer=tokenizer.tokenize)
    index = VectorStoreIndex.from_documents(docs, transformations=[splitter], embed_model=embed_model)
    ingest_s = time.perf_counter() - t
    out = {"chunks": len(index.docstore.docs), "files": len(docs), "load_s": load_s, "ingest_s": ingest_s}
    if quality:
        retriever = index.as_retriever(similarity_top_k=TOP)
        out["recall_dense"] = recall(lambda q: [n.node.get_content() for n in retriever.retrieve(q)], questions())
        out["recall_default"] = out["recall_dense"]  # its default retriever is the dense one
    return out


# --- orchestration -----------------------------------------------------------------------------------------------

def ensure_llamaindex() -> Path:
    """The venv's python, created and filled on first use."""
    python = VENV / "bin" / "python"
    if not (VENV / "READY").is_file():
        print(f"installing LlamaIndex into {VENV} (once) ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)  # the CPU wheel, before anything needing torch
        subprocess.run([*pip, *LLAMAINDEX], check=True)
        (VENV / "READY").write_text(" ".join(LLAMAINDEX))
    return python


def spawn(python: str, *args: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if python != sys.executable:  # the LlamaIndex venv: no ragtune there
        env.pop("PYTHONPATH", None)
    proc = subprocess.run([python, __file__, "--worker", *args], stdout=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"worker {args} failed (exit status {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def worker_main(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "ragtune":
        corpus, precision, texts, quality = rest
        out = ragtune_worker(Path(corpus), precision, Path(texts) if texts != "-" else None, quality == "1")
    elif kind == "encode":
        out = encode_worker(rest[0], Path(rest[1]), rest[2])
    else:
        out = llamaindex_worker(Path(rest[0]), rest[1], rest[2] == "1")
    out["rss_mib"] = peak_rss_mib()
    print(json.dumps(out))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", nargs="+", default=["demo", "cuad", "synthetic"],
                        choices=["demo", "cuad", "synthetic"])
    parser.add_argument("--docs", type=int, default=10_000, help="documents of the synthetic corpus")
    parser.add_argument("--no-llamaindex", action="store_true")
    parser.add_argument("--embedding-corpus", default="cuad", help="where to compare embedding inside ingest "
                        "with raw encode (float32 and bfloat16); 'none' skips it")
    args = parser.parse_args()

    from ragtune.config import EmbedderConfig
    from ragtune.index.embedder import Embedder

    model = Embedder(EmbedderConfig()).path
    folders = {"demo": ROOT / "src" / "ragtune" / "demo" / "corpus", "cuad": CUAD / "contracts"}
    li_python = None if args.no_llamaindex else str(ensure_llamaindex())
    me = sys.executable
    rows, ratios = [], []
    embedding = None
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.corpora:
            folder = synthetic_corpus(args.docs) if name == "synthetic" else folders[name]
            quality = "1" if name == "cuad" else "0"
            print(f"{name}: ragtune ...", file=sys.stderr, flush=True)
            rag = spawn(me, "ragtune", str(folder), "auto", "-", quality)
            rows.append((name, f"ragtune ({rag['precision']})", rag))
            if li_python:
                print(f"{name}: LlamaIndex ...", file=sys.stderr, flush=True)
                li = spawn(li_python, "llamaindex", str(folder), model, quality)
                rows.append((name, "LlamaIndex", li))
                ratios.append((name, (rag["chunks"] / rag["ingest_s"]) / (li["chunks"] / li["ingest_s"]),
                               li["ingest_s"] / rag["ingest_s"]))
            if name == args.embedding_corpus:
                texts = Path(tmp) / "texts.json"
                print(f"{name}: ragtune float32, raw encode float32 and bfloat16 ...", file=sys.stderr, flush=True)
                full = spawn(me, "ragtune", str(folder), "float32", str(texts), "0")
                rows.append((name, "ragtune (float32)", full))
                embedding = (name, full, rag, spawn(me, "encode", model, str(texts), "float32"),
                             spawn(me, "encode", model, str(texts), "bfloat16"))

    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; chunks of {CHUNK_TOKENS} "
          f"tokens, overlap {OVERLAP}, batch {BATCH}\n")
    print("| corpus | pipeline | files | chunks | model load s | ingest s | chunks/s | embedding share | "
          "recall@5 dense | recall@5 hybrid | recall@5 default retrieval | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for corpus, pipeline, r in rows:
        share = f"{r['embed_s'] / r['ingest_s']:.0%}" if "embed_s" in r else ""
        dense, hybrid, default = (f"{r[k]:.3f}" if k in r else "" for k in
                                  ("recall_dense", "recall_hybrid", "recall_default"))
        print(f"| {corpus} | {pipeline} | {r['files']} | {r['chunks']} | {r['load_s']:.1f} | {r['ingest_s']:.1f} | "
              f"{r['chunks'] / r['ingest_s']:.1f} | {share} | {dense} | {hybrid} | {default} | {r['rss_mib']:.0f} |")
    print()
    for corpus, chunks_ratio, time_ratio in ratios:
        print(f"{corpus}: ingest chunks/s ragtune / LlamaIndex = {chunks_ratio:.2f} (wall time ratio "
              f"{time_ratio:.2f}; target >= 3)")
    if embedding:
        corpus, full, fast, raw, raw_bf16 = embedding
        n = full["chunks"]
        print(f"\n{corpus}, {n} chunk texts: raw encode float32 {n / raw['embed_s']:.1f} chunks/s (peak RSS "
              f"{raw['rss_mib']:.0f} MiB), raw encode bfloat16 {n / raw_bf16['embed_s']:.1f} chunks/s")
        print(f"embedding inside ingest (float32) / raw encode float32 = {raw['embed_s'] / full['embed_s']:.2f} "
              "(target >= 0.9)")
        print(f"embedding inside ingest ({fast['precision']}) / raw encode float32 = "
              f"{raw['embed_s'] / fast['embed_s']:.2f} (target > 1)")
        print(f"embedding inside ingest ({fast['precision']}) / raw encode bfloat16 = "
              f"{raw_bf16['embed_s'] / fast['embed_s']:.2f}")


if __name__ == "__main__":
    main()
