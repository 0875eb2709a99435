"""CUAD -> BEIR: a contract-clause retrieval set with gold character spans (LegalBench-RAG style).

Input: a CUAD-format folder with ``qa.jsonl`` (one row per contract and category: ``contract``,
``contract_file``, ``category``, ``question``, ``answer``, ``clauses``), as in ``cuad_dev``.

- corpus: each contract split into passages of at most ``passage_tokens`` tokens (the recursive chunker,
  no overlap), with their character offsets in the contract. Every passage's ``title`` is the contract's
  label, e.g. "Sponsorship Agreement between drkoop.com, inc. and Vitamin Shoppe Industries, Inc.", made from
  the contract's "Document Name" and "Parties" rows (the file name when those are missing).
- queries: the rows with a gold clause that occurs in the text (after collapsing whitespace; the first
  occurrence). CUAD questions are generic ("Which state/country's law governs ...?"), so over many
  contracts they would be ill-posed; each is made specific as LegalBench-RAG does:
  "Consider the <label>; <question>".
- qrels: a passage is relevant (score 1) when it overlaps a gold span. ``spans.jsonl`` keeps the spans.
- split by contract (no contract has questions in both): ``qrels/train.tsv`` and ``qrels/test.tsv``; the
  test contracts are the first ``test_fraction`` of the contracts ordered by the SHA-256 of their names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ragtune.datasets.beir import read_jsonl, write_jsonl, write_qrels
from ragtune.errors import InputError

ATTRIBUTION = """Derived from CUAD v1 (Contract Understanding Atticus Dataset), The Atticus Project; Hendrycks et al.,
"CUAD: An Expert-Annotated NLP Dataset for Legal Contract Review", NeurIPS 2021. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). The contracts are public SEC EDGAR filings. Changes: contracts
split into passages, questions prefixed with the contract's name and parties, gold clauses located as
character spans; see the converter `ragtune.datasets.cuad`."""


@dataclass
class CuadConversion:
    """What ``cuad_to_beir`` wrote."""

    out: str
    contracts: int
    passages: int
    queries: int
    train_queries: int
    test_queries: int
    test_contracts: list[str]
    spans_located: int
    spans_not_found: int
    rows_without_clause: int

    def to_dict(self) -> dict:
        return asdict(self)


def normalised(text: str) -> tuple[str, list[int]]:
    """``text`` with whitespace runs collapsed to one space, and each kept character's original offset."""
    chars, offsets, space = [], [], False
    for i, ch in enumerate(text):
        if ch.isspace():
            if space:
                continue
            ch, space = " ", True
        else:
            space = False
        chars.append(ch)
        offsets.append(i)
    return "".join(chars), offsets


def locate(clause: str, norm: str, offsets: list[int]) -> tuple[int, int] | None:
    """The original character span of the first whitespace-insensitive occurrence of ``clause``."""
    needle = " ".join(clause.split())
    pos = norm.find(needle) if needle else -1
    if pos < 0:
        return None
    return offsets[pos], offsets[pos + len(needle) - 1] + 1


def contract_label(contract: str, document_name: str, parties: str) -> str:
    """"<Document Name> between <party 1> and <party 2>", from CUAD's answers for those two categories."""
    name = " ".join(document_name.split())
    name = name.title() if name.isupper() else name
    names = []
    for part in parties.split(";"):
        party = re.split(r"[(\"“]", part, maxsplit=1)[0].strip(" ,")
        if party and party not in names:
            names.append(party)
    if not name:
        name = re.split(r"-EX-[\d.]+-|_EX-[\d.]+_", contract)[-1].strip() or contract
    if len(names) >= 2:
        return f"{name} between {names[0]} and {names[1]}"
    return f"{name} of {names[0]}" if names else name


def specific_question(label: str, question: str) -> str:
    return f"Consider the {label}; {question}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _passage_splitter(passage_tokens: int):
    from ragtune.config import EmbedderConfig
    from ragtune.documents.chunkers import RecursiveChunker, RecursiveConfig
    from ragtune.documents.tokenizer import token_counter_for
    from ragtune.index.embedder import Embedder

    counter = token_counter_for(Embedder(EmbedderConfig()).path)
    return RecursiveChunker(RecursiveConfig(chunk_tokens=passage_tokens, overlap_tokens=0), counter)


def cuad_to_beir(src: str | Path, out: str | Path, passage_tokens: int = 128, test_fraction: float = 1 / 3,
                 on_start: Callable[[int], None] | None = None,
                 on_contract: Callable[[str], None] | None = None) -> CuadConversion:
    """Convert a CUAD-format folder (``qa.jsonl`` + contract texts) into a BEIR folder ``out``."""
    from ragtune.documents.models import Document, Page

    src, out = Path(src), Path(out)
    if not 0 < test_fraction < 1:
        raise InputError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    rows: dict[str, list[dict]] = {}
    qa = src / "qa.jsonl"
    for line, r in read_jsonl(qa):
        for key in ("contract", "contract_file", "category", "question"):
            if not isinstance(r.get(key), str) or not r[key].strip():
                raise InputError(f"{qa} line {line}: missing or invalid {key!r}")
        if not isinstance(r.get("clauses", []), list):
            raise InputError(f"{qa} line {line}: 'clauses' must be a list of strings")
        rows.setdefault(r["contract"], []).append(r)
    if not rows:
        raise InputError(f"{qa}: no rows")
    contracts = sorted(rows)
    width = len(str(len(contracts)))
    ids = {c: f"c{i:0{width}d}" for i, c in enumerate(contracts, start=1)}
    by_hash = sorted(contracts, key=lambda c: hashlib.sha256(c.encode()).hexdigest())
    test = set(by_hash[: max(1, round(len(contracts) * test_fraction))])
    splitter = _passage_splitter(passage_tokens)
    if on_start:
        on_start(len(contracts))

    corpus, queries, spans_out, documents = [], [], [], []
    qrels: dict[str, dict[str, dict[str, int]]] = {"train": {}, "test": {}}
    located = not_found = no_clause = 0
    for contract in contracts:
        first = rows[contract][0]
        path = src / first["contract_file"]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise InputError(f"{path}: cannot read contract text ({e.strerror})") from None
        answers = {r["category"]: (r.get("answer") or "", r.get("clauses") or []) for r in rows[contract]}
        name_answer, name_clauses = answers.get("Document Name", ("", []))
        label = contract_label(contract, name_answer or next(iter(name_clauses), ""),
                               answers.get("Parties", ("", []))[0])
        cid, split = ids[contract], "test" if contract in test else "train"
        doc = Document(source=contract, title=label, sha256="", pages=[Page(1, text)])
        passages = []
        for i, chunk in enumerate(splitter.chunk(doc)):
            pid = f"{cid}-p{i:03d}"
            passages.append((pid, chunk.start, chunk.end))
            corpus.append({"_id": pid, "title": label, "text": chunk.text,
                           "metadata": {"document": contract, "start": chunk.start, "end": chunk.end}})
        documents.append({"id": cid, "contract": contract, "title": label, "split": split,
                          "passages": len(passages), "sha256": hashlib.sha256(text.encode()).hexdigest()})
        norm, offsets = normalised(text)
        for r in rows[contract]:
            clauses = [c for c in r.get("clauses") or [] if isinstance(c, str) and c.strip()]
            if not clauses:
                no_clause += 1
                continue
            found = [s for s in (locate(c, norm, offsets) for c in clauses) if s]
            located += len(found)
            not_found += len(clauses) - len(found)
            if not found:
                continue
            qid = f"{cid}-{_slug(r['category'])}"
            queries.append({"_id": qid, "text": specific_question(label, r["question"].strip()),
                            "metadata": {"contract": contract, "category": r["category"],
                                         "question": r["question"], "cuad_id": r.get("id"), "split": split}})
            spans_out.extend({"query-id": qid, "document": contract, "start": a, "end": b} for a, b in found)
            qrels[split][qid] = {pid: 1 for pid, ps, pe in passages if any(ps < b and a < pe for a, b in found)}
        if on_contract:
            on_contract(contract)

    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "corpus.jsonl", corpus)
    write_jsonl(out / "queries.jsonl", queries)
    write_jsonl(out / "spans.jsonl", spans_out)
    write_jsonl(out / "documents.jsonl", documents)
    for split, judged in qrels.items():
        write_qrels(out / "qrels" / f"{split}.tsv", judged)
    result = CuadConversion(str(out), len(contracts), len(corpus), len(queries), len(qrels["train"]),
                            len(qrels["test"]), sorted(test), located, not_found, no_clause)
    (out / "README.md").write_text(_readme(result, passage_tokens, test_fraction), encoding="utf-8")
    return result


def cuad_questions(src: str | Path, contracts: set[str] | None = None, yes_no: bool = False) -> list[dict]:
    """Benchmark question records (``ragtune bench --questions``) from a CUAD-format folder, each asked of its
    own contract (``document``: the contract's file name): the rows with a gold clause, whose reference answer
    is the clause text (as the KDD 2024 tutorial scores CUAD) and whose ``label`` is CUAD's answer (Yes/No, a
    date, names). ``yes_no`` also adds the Yes/No rows without a clause (reference and label "No").
    ``contracts`` keeps only those contracts."""
    out = []
    for line, r in read_jsonl(Path(src) / "qa.jsonl"):
        if contracts is not None and r.get("contract") not in contracts:
            continue
        clauses = [c for c in r.get("clauses") or [] if isinstance(c, str) and c.strip()]
        record = {"id": r.get("id") or f"line-{line}", "question": r["question"].strip(),
                  "document": Path(r["contract_file"]).name, "label": r.get("answer") or None}
        if clauses:
            out.append(record | {"answer": " ".join(" ".join(c.split()) for c in clauses), "contexts": clauses})
        elif yes_no and r.get("answer") == "No":
            out.append(record | {"answer": "No"})
    return out


def _readme(c: CuadConversion, passage_tokens: int, test_fraction: float) -> str:
    return f"""# CUAD contract-clause retrieval (BEIR format)

Made by `ragtune eval build-cuad SRC OUT --passage-tokens {passage_tokens} --test-fraction {test_fraction:.4g}`
(`ragtune.datasets.cuad.cuad_to_beir`; the choices are explained in its docstring).

- `corpus.jsonl`: {c.passages} passages of {c.contracts} contracts (at most {passage_tokens} tokens, no overlap);
  `title` = the contract's label, `metadata` = contract and character offsets of the passage.
- `queries.jsonl`: {c.queries} questions ("Consider the <contract label>; <CUAD question>"), `metadata` has
  the contract, CUAD category, original question and split.
- `qrels/train.tsv` ({c.train_queries} queries), `qrels/test.tsv` ({c.test_queries} queries): passages that overlap a
  gold clause. Split by contract; test contracts: {", ".join(c.test_contracts)}.
- `spans.jsonl`: gold clause spans (contract, character offsets) for span-level precision and recall.
- `documents.jsonl`: the contracts, their ids, labels and splits.

{c.spans_located} gold clauses located in the text, {c.spans_not_found} not found (mostly CUAD's `<omitted>`
marker); {c.rows_without_clause} CUAD rows have no clause and are not questions here.

## Attribution
{ATTRIBUTION}
"""
