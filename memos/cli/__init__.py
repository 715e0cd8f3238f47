"""The ``memos`` command line: noun → verb groups over a home folder or a server."""

from memos.cli.app import app, main

__all__ = ["app", "main"]
