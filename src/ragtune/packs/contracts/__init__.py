"""The contracts pack (CUAD-style agreements): parties, governing law, agreement and effective dates, terms,
amounts, "is there a clause" verdicts and the document's name and opening."""
