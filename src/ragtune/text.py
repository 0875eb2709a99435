"""Text helpers shared by every layer: the content words of a text (what overlap checks compare)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z0-9]{3,}")
_STOP = frozenset(
    "the and for that this with are was were from have has had not but shall will which any its into such "
    "other than then there their them they what when who how under upon each all may been being".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased words of three or more letters or digits, without common function words."""
    return {w.lower() for w in _WORD.findall(text)} - _STOP
