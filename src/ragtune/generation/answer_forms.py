"""Reading a yes or a no from an answer's text: a small model's short answer, a reviewer's correction, a
reference label (``ragtune.evaluation.metrics.correctness``)."""

from __future__ import annotations

import re

_YES = re.compile(r"^(?:yes|yeah|yep|correct|true|affirmative)\b")
_NO = re.compile(r"^(?:no|nope|not|none|false|negative)\b")
_SUBJECT = r"(?:the\s+)?(?:contract|agreement|document|documents|context|passages?|text|it|they)"
_NEGATED = re.compile(
    rf"\b{_SUBJECT}\s+(?:does|do|did|is|are|has|have)\s*(?:not\b|n't)|\bthere\s+(?:is|are|was|were)\s+no\b"
    r"|\bthere\s+(?:isn't|aren't)\b|\bno\s+(?:such\s+)?(?:clause|provision|mention|information|requirement|"
    r"restriction|right|obligation|language|section)s?\b|\bnot\s+(?:specified|mentioned|stated|found|provided|"
    r"addressed|included|contained|covered)\b|\bnone\b")
_AFFIRMED = re.compile(rf"\b{_SUBJECT}\s+(?:contains|includes|provides|has|grants|requires|specifies|states|"
                       r"allows|permits|restricts|prohibits|limits)\b|\bthere\s+(?:is|are)\s+(?:a|an|one|some)\b")


def parse_yes_no(text: str) -> bool | None:
    """True or False from a leading yes/no ("Yes, ...", "No.") or, failing that, from the first sentence
    saying the contract does or does not contain something ("The agreement does not contain ..." is False,
    "There is a ..." True); None when the text says neither."""
    t = re.sub(r"^[\W_]+", "", text.strip().lower().replace("’", "'"))
    if _YES.match(t):
        return True
    if _NO.match(t):
        return False
    first = re.split(r"(?<=[.!?])\s", t, maxsplit=1)[0]
    if _NEGATED.search(first):
        return False
    return True if _AFFIRMED.search(first) else None
