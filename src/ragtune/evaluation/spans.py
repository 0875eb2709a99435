"""Span-level retrieval metrics (as LegalBench-RAG): precision and recall of retrieved characters against
gold character spans. Overlapping spans count once (their union)."""

from __future__ import annotations

from collections.abc import Iterable

CharSpan = tuple[str, int, int]  # (document, start, end), end exclusive


def union(spans: Iterable[CharSpan]) -> dict[str, list[tuple[int, int]]]:
    """Per document, the sorted, merged intervals covering ``spans``."""
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for doc, start, end in spans:
        if end > start:
            by_doc.setdefault(doc, []).append((start, end))
    merged: dict[str, list[tuple[int, int]]] = {}
    for doc, intervals in by_doc.items():
        out: list[tuple[int, int]] = []
        for s, e in sorted(intervals):
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e))
            else:
                out.append((s, e))
        merged[doc] = out
    return merged


def _length(intervals: dict[str, list[tuple[int, int]]]) -> int:
    return sum(e - s for spans in intervals.values() for s, e in spans)


def _intersection(a: dict[str, list[tuple[int, int]]], b: dict[str, list[tuple[int, int]]]) -> int:
    total = 0
    for doc in a.keys() & b.keys():
        x, y, i, j = a[doc], b[doc], 0, 0
        while i < len(x) and j < len(y):
            total += max(0, min(x[i][1], y[j][1]) - max(x[i][0], y[j][0]))
            if x[i][1] < y[j][1]:
                i += 1
            else:
                j += 1
    return total


def span_precision_recall(retrieved: Iterable[CharSpan], gold: Iterable[CharSpan]) -> tuple[float, float]:
    """(precision, recall) of the retrieved characters; precision is 0 when nothing was retrieved."""
    r, g = union(retrieved), union(gold)
    hit, r_len, g_len = _intersection(r, g), _length(r), _length(g)
    return (hit / r_len if r_len else 0.0), (hit / g_len if g_len else 0.0)
