"""The data card: what a dataset holds and how it was made (card.json), rendered as card.md."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ragtune.datasets.qa import SPLITS, QAPair


def counts(splits: dict[str, list[QAPair]]) -> dict[str, Any]:
    """Pairs per split, per type and split, and per source document (all splits)."""
    by_type: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        for p in splits[split]:
            by_type.setdefault(p.type, dict.fromkeys(SPLITS, 0))[split] += 1
    sources = Counter(s for split in SPLITS for p in splits[split] for s in p.sources)
    return {"counts": {**{s: len(splits[s]) for s in SPLITS}, "total": sum(len(v) for v in splits.values())},
            "by_type": dict(sorted(by_type.items())), "sources": dict(sources.most_common())}


def judge_summary(judge: dict[str, Any] | None) -> str | None:
    """``used (calibration: 88% of 8 control pairs right)`` and the like."""
    if not judge:
        return None
    used = "used" if judge.get("used", judge["mode"] == "on") else "not used"
    if "accuracy" in judge:
        return f"{used} (calibration: {judge['accuracy']:.0%} of {judge['controls']} control pairs right)"
    return f"{used} ({judge.get('note', 'mode ' + judge['mode'])})"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_card(card: dict[str, Any]) -> str:
    c = card["counts"]
    parts = [f"# Dataset card: {card['name']}", "",
             f"{card['kind'].capitalize()} question-answer pairs, created {card['created']}"
             + (f" in {card['seconds']:.0f} s" if card.get("seconds") is not None else "") + ".", ""]
    usage = card.get("usage")
    facts = [("generator model", card.get("generator")), ("embedder", card.get("embedder")),
             ("seed", card.get("seed")), ("split by", card.get("split", {}).get("by")),
             ("acceptance rate", card.get("acceptance_rate")), ("LLM judge", judge_summary(card.get("judge"))),
             ("LLM usage", usage and f"{usage.get('llm_calls', 0)} calls, {usage.get('prompt_tokens', 0)} prompt + "
                                     f"{usage.get('completion_tokens', 0)} completion tokens")]
    parts += [f"- {k}: {v}" for k, v in facts if v is not None]
    parts += ["", "## Counts", "", _table(["type", *SPLITS, "total"],
              [[t, *(n[s] for s in SPLITS), sum(n.values())] for t, n in card["by_type"].items()]
              + [["**all**", *(c[s] for s in SPLITS), c["total"]]])]
    if card.get("rejections") or card.get("dropped"):
        rows = [[r, n, "rejected"] for r, n in card.get("rejections", {}).items()]
        rows += [[r, n, "no pair made"] for r, n in card.get("dropped", {}).items()]
        parts += ["", "## Rejections", "", _table(["reason", "count", "stage"], rows)]
    leakage = card.get("leakage", {})
    if leakage:
        parts += ["", "## Leakage check", "",
                  f"No validation or test question may have a training question at cosine similarity >= "
                  f"{leakage['threshold']}; {leakage['removed']} pair(s) were removed before this check.", "",
                  _table(["split", "questions", "leaking", "max similarity to train"],
                         [[s, leakage[s]["n_test"], leakage[s]["n_leaked"], leakage[s]["max_similarity"]]
                          for s in ("validation", "test")])]
    parts += ["", "## Sources", "", _table(["document", "pairs"], [[s, n] for s, n in card["sources"].items()])]
    files = card.get("files", {})
    parts += ["", "## Files", "", "- " + ", ".join(files.get("jsonl", [])) + " (rows: id, question, answer, type, "
              "chunk_ids, sources, rating)", f"- {files.get('rejected')} (rejected pairs with reasons)",
              "- hf/: Hugging Face DatasetDict (datasets.load_from_disk)" if files.get("hf")
              else f"- hf/ not written: {files.get('hf_note')}", ""]
    return "\n".join(parts)
