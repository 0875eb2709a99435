"""The contracts pack (CUAD-style agreements): parties, governing law, agreement and effective dates, terms,
amounts, "is there a clause" verdicts and the document's name and opening."""

from ragtune.packs.contracts.pack import ContractsConfig, ContractsPack

__all__ = ["ContractsConfig", "ContractsPack"]
