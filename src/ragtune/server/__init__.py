"""HTTP server: feedback web page and OpenAI-compatible endpoints."""
