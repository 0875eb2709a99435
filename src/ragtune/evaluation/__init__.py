"""Evaluation: retrieval metrics, answer metrics, benchmarks of approaches."""
