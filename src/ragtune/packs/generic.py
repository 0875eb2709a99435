"""The default pack: no domain rule at all, so nothing can misfire on a domain it was not written for."""

from __future__ import annotations

from ragtune.packs.base import AnswerPack
from ragtune.packs.registry import packs


@packs.register("generic")
class GenericPack(AnswerPack):
    """Every hook says "no rule": answers quote the best sentences, cited."""
