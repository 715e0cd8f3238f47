"""The REST API: a thin FastAPI layer over the memos kernel."""
