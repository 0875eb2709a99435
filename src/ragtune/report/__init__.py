"""Reports: HTML with plots, JSON, CSV and Markdown; recommendations."""

from ragtune.report.writer import write_report

__all__ = ["write_report"]
