"""Pre-retrieval: transform the question before searching."""
