"""Reports: HTML with plots, JSON, CSV and Markdown; recommendations."""
