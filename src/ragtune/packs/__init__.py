"""Answer packs: a domain's rules (the kind of value a question asks for, how to read it, yes/no verdicts, what a
document's opening answers, prompt wording) as one registered class, selected by ``answer.pack``."""

from ragtune.packs import contracts, finance, generic  # noqa: F401  (registers them)
from ragtune.packs.base import AnswerPack, PackConfig
from ragtune.packs.registry import make_pack, packs

__all__ = ["AnswerPack", "PackConfig", "make_pack", "packs"]
