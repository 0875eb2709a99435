"""Citation checking: is each cited sentence supported by the passages it cites?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.documents.models import Chunk
from ragtune.text import cited_sentences, content_words


@dataclass
class CheckedSentence:
    sentence: str
    cited: list[int]
    support: float
    supported: bool


def check_citations(answer: str, chunks: Sequence[Chunk], embedder, min_overlap: float = 0.5,
                    min_similarity: float = 0.55) -> list[CheckedSentence]:
    """For each sentence with [n] markers: the best support among its cited passages, as the share of
    its content words found in the passage, or the embedding cosine when that is higher. A sentence is
    supported when either clears its threshold."""
    checked = [(sentence, cited) for sentence, numbers in cited_sentences(answer)
               if (cited := sorted({n for n in numbers if 1 <= n <= len(chunks)}))]
    if not checked:
        return []
    s_vecs = embedder.embed([s for s, _ in checked])
    c_vecs = embedder.embed([c.text for c in chunks])
    out = []
    for (sentence, cited), vec in zip(checked, s_vecs, strict=True):
        words = content_words(sentence)
        best_overlap = max((len(words & content_words(chunks[n - 1].text)) / len(words) if words else 0.0)
                           for n in cited)
        best_sim = max(float(vec @ c_vecs[n - 1]) for n in cited)
        out.append(CheckedSentence(sentence, cited, round(max(best_overlap, best_sim), 4),
                                   best_overlap >= min_overlap or best_sim >= min_similarity))
    return out
