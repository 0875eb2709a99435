"""Datasets: synthetic QA from the documents, user QA imports, feedback exports."""
