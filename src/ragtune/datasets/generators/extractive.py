"""Questions built without an LLM: definitions (``"Term" means ...``) and section headings (``What does
section X of the agreement say about Y?``); the answer is the chunk's own sentence."""

from __future__ import annotations

import re

from ragtune.datasets.config import ExtractiveConfig
from ragtune.datasets.generators.base import Draft, Dropped, Generator, generators
from ragtune.datasets.text import QA_WORDS, clip, sentences
from ragtune.documents.models import Chunk
from ragtune.text import content_words

_DEFINITION = re.compile(
    r"[\"\u201c]([A-Z][^\"\u201d]{1,60})[\"\u201d]\)?,?\s+(?:shall\s+)?(?:means?|refers? to|shall have the meaning)\b"
)
_CONTENTS = re.compile(r"\bcontents\b", re.IGNORECASE)


@generators.register("extractive")
class ExtractiveGenerator(Generator):
    """Picks one definition or one sentence of the chunk at random; works with any model, or none."""

    Config = ExtractiveConfig
    config: ExtractiveConfig

    def draft(self, chunk: Chunk) -> Draft:
        name = self.ctx.pool.name(chunk)
        options: list[tuple[str, str]] = []
        for sentence in sentences(chunk.text, max_chars=2000):
            for m in _DEFINITION.finditer(sentence):
                options.append((f'What does "{m.group(1)}" mean in the {name}?', sentence[m.start():]))
            if len(sentence) <= self.config.max_answer_chars and (term := self.topic(sentence, chunk)):
                section = chunk.metadata.get("section", "")
                named = section and len(section) <= 60 and not _CONTENTS.search(section)
                where = f'section "{section}" of the {name}' if named else f"the {name}"
                options.append((f"What does {where} say about {term}?", sentence))
        if not options:
            raise Dropped("no_definition_or_sentence")
        question, answer = self.ctx.rng.choice(options)
        return self.make(question, clip(answer, self.config.max_answer_chars), [chunk])

    def topic(self, sentence: str, chunk: Chunk) -> str | None:
        """A rare phrase of the sentence: the two adjacent content words with the highest summed IDF in
        the corpus (else the rarest long word), in their original spelling; words of the section heading
        are skipped."""
        skip = content_words(chunk.metadata.get("section", ""), QA_WORDS)
        idf = self.ctx.pool.idf
        content = content_words(sentence, QA_WORDS) - skip
        tokens = [m for m in re.finditer(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", sentence) if m.group().lower() in content]
        scored = [(idf.get(a.group().lower(), 0.0) + idf.get(b.group().lower(), 0.0), f"{a.group()} {b.group()}")
                  for a, b in zip(tokens, tokens[1:], strict=False) if sentence[a.end():b.start()] == " "]
        scored = scored or [(idf.get(m.group().lower(), 0.0), m.group()) for m in tokens if len(m.group()) > 5]
        return max(scored, key=lambda s: s[0])[1] if scored else None
