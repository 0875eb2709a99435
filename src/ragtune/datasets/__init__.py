"""Datasets: synthetic QA from the documents (``synth.synthesize``), user QA imports
(``importer.import_qa``) and the stored splits (``load_split``)."""

from ragtune.datasets.io import load_card, load_split

__all__ = ["load_card", "load_split"]
